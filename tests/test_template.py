"""template.yaml lints and agrees with the pinned dependencies (tests/test_registry.py checks its functions)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_template_lints():
    lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run([lint, str(REPO / "template.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def test_layer_requirements_match_pyproject():
    project = _pins(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    for requirements in [REPO / "shared/requirements.txt", *REPO.glob("layers/*/requirements.txt")]:
        for name, version in _pins(requirements.read_text().splitlines()).items():
            assert project.get(name) == version, f"{requirements.name}: {name}=={version}"
