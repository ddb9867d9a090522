"""Layers import one way: no two parts of recognito import each other, and the layers below never
reach up.

The direction, bottom up:
- ``recognito_inference`` (the inference Lambda layer): models on pixels; knows nothing of the API.
- ``recognito.errors``, ``settings``, ``images``, ``boxes``, ``locks``, ``pagination``: what every
  service uses.
- ``recognito.faces``: the face pipeline (detect, describe, compare) and the similarity scale; stateless.
- ``recognito.search``: the vector index and its snapshots (of ``faces.similarity``'s embeddings);
  knows nothing of DynamoDB or collections.
- ``recognito.storage``: the DynamoDB tables.
- ``recognito.collections``: collections, faces, users and their searches, over storage and search.
- ``recognito.celebrities``: a gallery collection with names; ``recognito.uploads``, ``protocol``,
  ``frontdoor``: what drives the services.
``recognito_local`` (the CLI and local endpoint) sits on top: nothing in the deployed layers imports it.

The imports are read from the source (every import, also inside functions and TYPE_CHECKING blocks:
a direction holds whether or not the import runs at load time).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {
    "recognito": REPO / "shared" / "recognito",
    "recognito_inference": REPO / "layers" / "inference" / "recognito_inference",
}
OURS = {*PACKAGES, "recognito_local"}

# (importer, imported): the importer's part may not import the imported part at all.
FORBIDDEN = [
    ("recognito_inference", "recognito"),
    ("recognito_inference", "recognito_local"),
    ("recognito", "recognito_local"),
    ("recognito.faces", "recognito.collections"),
    ("recognito.faces", "recognito.storage"),
    ("recognito.faces", "recognito.search"),
    ("recognito.search", "recognito.collections"),
    ("recognito.search", "recognito.storage"),
    ("recognito.storage", "recognito.collections"),
]


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _imports(module: str, path: Path) -> Iterator[str]:
    """The modules ``path`` imports, as absolute dotted names (``from a import b`` gives ``a.b`` when
    ``a.b`` is a module, which the caller decides by trimming to known modules)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def _graph() -> dict[str, set[str]]:
    """Every module of the two packages and the modules (of any package) it imports."""
    sources = {
        _module_name(package, root, path): path
        for package, root in PACKAGES.items()
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        targets = set()
        for name in _imports(module, path):
            # ``from recognito.faces import similarity`` names a module; ``from x import func`` does not.
            if name in sources or name.rpartition(".")[0] not in sources:
                targets.add(name)
        graph[module] = {t for t in targets if t != module}
    return graph


def _part(module: str) -> str:
    """The part a module belongs to: ``recognito.<sub-package or module>``; the inference layer is one part."""
    top, _, rest = module.partition(".")
    if top != "recognito" or not rest:
        return top
    return f"recognito.{rest.split('.')[0]}"


def _within(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in graph:
                continue
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_between_parts(graph: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    """part -> imported part -> the importing modules (imports within one part left out)."""
    parts: dict[str, dict[str, set[str]]] = {}
    for module, targets in graph.items():
        for target in targets:
            source_part, target_part = _part(module), _part(target)
            if target.partition(".")[0] in OURS and source_part != target_part:
                parts.setdefault(source_part, {}).setdefault(target_part, set()).add(f"{module} -> {target}")
    return parts


def test_the_graph_sees_the_imports_it_should() -> None:
    graph = _graph()
    assert "recognito_inference.face_detector" in graph["recognito.faces.compare"]
    assert "recognito.faces.similarity" in graph["recognito.collections.search"]
    assert "recognito.storage.tables" in graph["recognito.auth.keys"]  # imported inside a function
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_two_parts_import_each_other() -> None:
    edges = _edges_between_parts(_graph())
    part_graph = {part: set(targets) for part, targets in edges.items()}
    for part in {t for targets in part_graph.values() for t in targets}:
        part_graph.setdefault(part, set())
    cycles = _cycles(part_graph)
    detail = [
        f"{a} -> {b}: {sorted(edges[a][b])}"
        for cycle in cycles
        for a in cycle
        for b in cycle
        if b in edges.get(a, {})
    ]
    assert not cycles, f"parts that import each other: {cycles}\n" + "\n".join(detail)


def test_no_two_modules_import_each_other() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its modules is how a package is made, not a cycle of parts.
    reexports = {m: {t for t in ts if not _within(t, m)} if m in _packages() else ts for m, ts in graph.items()}
    assert not _cycles(reexports)


def _packages() -> set[str]:
    return {
        _module_name(package, root, path)
        for package, root in PACKAGES.items()
        for path in root.rglob("__init__.py")
    }


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN, ids=[f"{a} !-> {b}" for a, b in FORBIDDEN])
def test_lower_layers_do_not_import_higher_ones(importer: str, imported: str) -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if _within(module, importer)
        for target in targets
        if _within(target, imported)
    )
    assert not wrong, wrong


def test_the_shared_layer_keeps_botocore_data_for_every_client_the_code_makes():
    """shared/Makefile deletes botocore's data of services not in shared/botocore-services.txt: a
    client for any other service would fail deployed (UnknownServiceError) while passing here."""
    import re

    kept = {
        line.strip()
        for line in (REPO / "shared" / "botocore-services.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    made = set()
    for root in ("shared", "functions", "layers/inference/recognito_inference"):
        for path in (REPO / root).rglob("*.py"):
            made |= set(re.findall(r"""client\(\s*["']([a-z0-9-]+)["']""", path.read_text()))
    assert {"s3", "dynamodb", "stepfunctions"} <= made
    assert made <= kept, f"botocore data deleted for services the code calls: {sorted(made - kept)}"
