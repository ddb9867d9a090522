"""One typed ``Settings`` holds every ``RECOGNITO_*`` variable recognito's code reads; the rest are
the documented exceptions, and template.yaml sets none that nothing reads."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from cfn_template import load_template
from recognito.settings import Settings, env_name, settings

REPO = Path(__file__).resolve().parents[1]
CODE = [REPO / "shared" / "recognito", REPO / "layers" / "inference" / "recognito_inference", REPO / "local"]
NAME = re.compile(r"\bRECOGNITO_[A-Z][A-Z0-9_]*\b")


def _in_settings() -> set[str]:
    return {f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}


def _exceptions() -> set[str]:
    """The variables the class docstring says are read elsewhere, on purpose."""
    doc = Settings.__doc__ or ""
    return set(NAME.findall(doc.split("Read elsewhere, on purpose:", 1)[1])) - _in_settings()


def test_every_variable_the_code_names_is_a_setting_or_a_documented_exception() -> None:
    named = {
        name: path.relative_to(REPO)
        for root in CODE
        for path in sorted(root.rglob("*.py"))
        for name in NAME.findall(path.read_text())
    }
    stray = {name: str(path) for name, path in named.items() if name not in _in_settings() | _exceptions()}
    assert not stray, f"read outside recognito.settings.Settings and not documented there: {stray}"


def test_the_template_sets_only_variables_that_are_read() -> None:
    template = (REPO / "template.yaml").read_text()
    set_there = set(NAME.findall(template))
    assert set_there, "template.yaml sets no RECOGNITO_* variable: the pattern is wrong"
    assert set_there <= _in_settings() | _exceptions(), set_there - _in_settings() - _exceptions()
    # Every function's environment is set in Globals or on the function; parse to be sure the names
    # found above are keys of an Environment, not text in a description.
    parsed = load_template()
    environments = [parsed.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})]
    environments += [
        resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for resource in parsed["Resources"].values()
    ]
    assert set_there == {name for variables in environments for name in variables if NAME.fullmatch(name)}


def test_settings_are_read_once_and_again_after_cache_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOGNITO_TABLE_PREFIX", "first")
    monkeypatch.setenv("RECOGNITO_INDEX_BUCKET", "")  # empty is unset
    settings.cache_clear()
    assert settings().table_prefix == "first" and settings().index_bucket is None
    monkeypatch.setenv("RECOGNITO_TABLE_PREFIX", "second")
    assert settings().table_prefix == "first", "read once"
    settings.cache_clear()
    assert settings().table_prefix == "second"
    assert env_name("upload_rules") == "RECOGNITO_UPLOAD_RULES"
