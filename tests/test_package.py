"""`sam build` works here (no Docker, no python3.12), and every function fits Lambda's size limit.

The test runs `make build` (`sam build` from .sam-venv; SAM's cache makes an unchanged tree a
few seconds) and measures each function as Lambda counts it: its own code plus every layer it
takes, unzipped. Lambda allows "250 MB", which AWS counts as 262,144,000 bytes, and 5 layers.

`python tests/test_package.py` prints the table from the last build; `--write` also puts it in
the README (sizes from .aws-sam/build, memory and timeout from template.yaml).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / ".aws-sam" / "build"
README = REPO / "README.md"
START, END = "<!-- function-sizes:start -->", "<!-- function-sizes:end -->"
LIMIT_BYTES = 262_144_000
MAX_LAYERS = 5
MB = 1_000_000
MIB = 1 << 20

pytestmark = pytest.mark.package


@dataclass(frozen=True)
class FunctionSize:
    name: str
    code: int
    layers: dict[str, int]
    memory_mb: int
    timeout_s: int

    @property
    def total(self) -> int:
        return self.code + sum(self.layers.values())


def unzipped_size(path: Path) -> int:
    """What a folder takes unzipped: the sum of its files (links are not followed)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class BuiltFunction:
    """A function of the built template as Lambda assembles it: its code and its layers' folders."""

    name: str
    code: Path
    layers: dict[str, Path]
    """Logical id to built folder, in Lambda's order: the ``Globals`` layers, then the function's."""
    memory_mb: int
    timeout_s: int
    environment: dict[str, object]
    """``Globals`` variables overridden by the function's; values may be unresolved intrinsics."""
    events: tuple[str, ...]
    """The types of its event sources (``Api``, ``SQS``, ``Schedule``, ...)."""


def _layer_name(entry: object) -> str:
    if isinstance(entry, dict) and set(entry) == {"Ref"}:
        return entry["Ref"]
    raise AssertionError(f"layer {entry!r} is not built by this template, so it cannot be measured or checked")


def built_functions(build: Path = BUILD) -> list[BuiltFunction]:
    """Every function of the built template, by name.

    SAM appends a function's ``Layers`` to the ``Globals`` ones; the built template has plain YAML
    (``Ref:`` maps, no tags) and ``CodeUri``/``ContentUri`` pointing into ``build``.
    """
    built = yaml.safe_load((build / "template.yaml").read_text())
    defaults = built.get("Globals", {}).get("Function", {})
    resources = built["Resources"]
    functions = []
    for name, resource in sorted(resources.items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        layers = [_layer_name(entry) for entry in [*defaults.get("Layers", []), *props.get("Layers", [])]]
        functions.append(
            BuiltFunction(
                name=name,
                code=build / props["CodeUri"],
                layers={layer: build / resources[layer]["Properties"]["ContentUri"] for layer in layers},
                memory_mb=props.get("MemorySize", defaults.get("MemorySize", 128)),
                timeout_s=props.get("Timeout", defaults.get("Timeout", 3)),
                environment={
                    **defaults.get("Environment", {}).get("Variables", {}),
                    **props.get("Environment", {}).get("Variables", {}),
                },
                events=tuple(event["Type"] for event in props.get("Events", {}).values()),
            )
        )
    return functions


def function_sizes(build: Path = BUILD) -> list[FunctionSize]:
    """Every function of the built template, with its code and layers measured from ``build``."""
    layer_sizes: dict[Path, int] = {}
    sizes = []
    for function in built_functions(build):
        for folder in function.layers.values():
            if folder not in layer_sizes:
                layer_sizes[folder] = unzipped_size(folder)
        sizes.append(
            FunctionSize(
                name=function.name,
                code=unzipped_size(function.code),
                layers={layer: layer_sizes[folder] for layer, folder in function.layers.items()},
                memory_mb=function.memory_mb,
                timeout_s=function.timeout_s,
            )
        )
    return sizes


def table(sizes: list[FunctionSize]) -> str:
    """A Markdown table, largest first; sizes in MB (10^6 bytes) against AWS's 262.1 MB."""
    rows = [
        "| function | layers | unzipped, with layers | room left | memory | timeout |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for size in sorted(sizes, key=lambda s: (-s.total, s.name)):
        layers = ", ".join(name.removesuffix("Layer") for name in size.layers)
        rows.append(
            f"| {size.name.removesuffix('Function')} | {layers} | {size.total / MB:.1f} MB "
            f"| {(LIMIT_BYTES - size.total) / MB:.1f} MB | {size.memory_mb} MB | {size.timeout_s} s |"
        )
    return "\n".join(rows)


@cache
def build() -> None:
    """`make build`: the same command a user runs, so what is measured is what gets deployed.

    Once per test session: tests/test_layer_imports.py checks the same build.
    """
    result = subprocess.run(
        ["make", "--no-print-directory", "build"], cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, f"`make build` failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def test_sam_build_succeeds_and_every_function_fits_in_250_mb():
    build()
    sizes = function_sizes()
    print("\n" + table(sizes))
    assert sizes, "the built template has no functions"
    too_big = [f"{s.name}: {s.total:,d} bytes" for s in sizes if s.total > LIMIT_BYTES]
    too_many = [f"{s.name}: {len(s.layers)} layers" for s in sizes if len(s.layers) > MAX_LAYERS]
    assert not too_big, f"over Lambda's {LIMIT_BYTES:,d} bytes unzipped: {too_big}\n{table(sizes)}"
    assert not too_many, f"over Lambda's {MAX_LAYERS} layers: {too_many}"


def test_every_function_has_the_docker_free_build_method():
    """Without it `sam build` wants a python3.12 on PATH (or Docker) for that function."""
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=_TagsAsNone)  # noqa: S506
    missing = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource.get("Metadata") != {"BuildMethod": "makefile", "ContextPath": "functions"}
    ]
    assert not missing, f"add `Metadata: {{BuildMethod: makefile, ContextPath: functions}}` to {missing}"


def test_memory_is_above_each_functions_measured_peak():
    """MemorySize comes from bench/function_profile.py: no function may have less than its peak RSS."""
    profile = json.loads((REPO / "bench" / "function_profile.json").read_text())
    template = yaml.load((REPO / "template.yaml").read_text(), Loader=_TagsAsNone)  # noqa: S506
    default = template["Globals"]["Function"]["MemorySize"]
    resources = template["Resources"]
    too_small = []
    for name, measured in profile.items():
        logical = name if name[0].isupper() else "".join(part.capitalize() for part in name.split("_"))
        memory = resources[f"{logical}Function"]["Properties"].get("MemorySize", default)
        if memory < measured["peak_rss_mb"]:
            too_small.append(f"{logical}: {memory} MB < {measured['peak_rss_mb']:.0f} MB measured")
    assert not too_small, too_small


class _TagsAsNone(yaml.SafeLoader):
    """Reads !Ref, !Sub and friends as None: enough to check structure."""


_TagsAsNone.add_multi_constructor("!", lambda loader, suffix, node: None)


def _readme_block(sizes: list[FunctionSize]) -> str:
    return "\n".join([START, table(sizes), END])


if __name__ == "__main__":
    measured = function_sizes()
    if sys.argv[1:] == ["--write"]:
        text = README.read_text()
        old = text[text.index(START) : text.index(END) + len(END)]
        README.write_text(text.replace(old, _readme_block(measured)))
    print(table(measured))
