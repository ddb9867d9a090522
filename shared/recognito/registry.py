"""The registry of recognito's functions: what each one is, read from ``data/functions.toml``.

Like botocore's service model, the facts about an operation are data in one place: its service
entry point, its kind, the layers and models it needs, its image limits, memory and timeout, and
whether an S3 upload rule may run it. The template's function blocks, the handlers, the sample
events and the README's coverage table are generated from it (``tools/generate.py``), and the
local endpoint, the upload rules and image loading read it at run time.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from botocore import xform_name

REGISTRY_FILE = Path(__file__).with_name("data") / "functions.toml"

Kind = Literal["operation", "router", "event", "schedule", "job-start", "job-result", "worker"]
API_KINDS = frozenset({"operation", "job-start", "job-result"})
"""Kinds whose function serves one API operation of the same name."""

Service = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Layer:
    """A Lambda layer of the template: Python code, or model files mounted under ``/opt/models``."""

    name: str
    kind: Literal["code", "models"]
    models: tuple[str, ...] = ()

    @property
    def logical_id(self) -> str:
        return f"{self.name}Layer"


@dataclass(frozen=True)
class Function:
    """One deployed function (an entry of ``data/functions.toml``; its header explains each field)."""

    name: str
    kind: Kind
    group: str
    summary: str
    code: str
    memory: int
    timeout: int
    entry: str | None = None
    layers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    upload: bool = False
    runs: tuple[str, ...] = ()
    queue: str | None = None
    schedule: str | None = None
    image: Mapping[str, int] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    sample: Mapping[str, Any] | None = None

    @property
    def operation(self) -> str | None:
        """The API operation this function serves, if it serves one."""
        return self.name if self.kind in API_KINDS else None

    @property
    def logical_id(self) -> str:
        return f"{self.name}Function"

    def service(self) -> Service:
        """The service function ``entry`` names, imported now (its layers must be present)."""
        if self.entry is None:
            raise LookupError(f"{self.name} has no service entry point")
        module_name, _, attribute = self.entry.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Registry:
    functions: Mapping[str, Function]
    layers: Mapping[str, Layer]
    policies: Mapping[str, str]
    groups: Mapping[str, str]

    def operation(self, name: str) -> Function:
        """The function serving API operation ``name``; ``LookupError`` when none does."""
        function = self.functions.get(name)
        if function is None or function.operation is None:
            raise LookupError(name)
        return function

    @property
    def operations(self) -> dict[str, Function]:
        return {name: fn for name, fn in self.functions.items() if fn.operation}

    @property
    def upload_actions(self) -> dict[str, Function]:
        """The operations an S3 upload rule may run."""
        return {name: fn for name, fn in self.operations.items() if fn.upload}

    def layer_models(self, function: Function) -> set[str]:
        """Every model file the function's layers carry."""
        return {model for layer in function.layers for model in self.layers[layer].models}


@cache
def registry() -> Registry:
    """The registry, read once per process."""
    return load(REGISTRY_FILE)


def load(path: Path) -> Registry:
    data = tomllib.loads(path.read_text())
    defaults = data["defaults"]
    functions = {}
    for name, entry in data["functions"].items():
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in entry.items()}
        values.setdefault("code", xform_name(name))
        values.setdefault("memory", defaults["memory"])
        values.setdefault("timeout", defaults["timeout"])
        functions[name] = Function(name=name, **values)
    layers = {
        name: Layer(name, entry.get("kind", "models"), tuple(entry.get("models", ())))
        for name, entry in data["layers"].items()
    }
    return Registry(functions, layers, data["policies"], data["groups"])
