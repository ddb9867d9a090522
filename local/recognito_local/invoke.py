"""Run an operation's Lambda handler in-process, the way Lambda would run it deployed.

Deployed, the front door invokes ``functions/<code>/app.py`` as its own Lambda function.
Locally the same file (the registry says which) is imported once, by path (every handler module
is called ``app``, so each gets a unique module name), and its ``handler(event, context)`` is called
with a Lambda-like context, so handlers cannot tell the difference.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore import xform_name
from recognito.registry import Function, registry
from recognito.settings import settings

FUNCTIONS_DIR_ENV = "RECOGNITO_FUNCTIONS_DIR"

_modules: dict[Path, ModuleType] = {}
_modules_lock = threading.Lock()


class FunctionNotFound(LookupError):
    """No ``functions/<code>/app.py`` for the operation: the front door answers "not implemented"."""


def functions_dir() -> Path:
    """``$RECOGNITO_FUNCTIONS_DIR``, else the repository's ``functions/`` (the package is installed editable)."""
    override = os.environ.get(FUNCTIONS_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "functions"


def implemented_operations() -> set[str]:
    """The Rekognition operations the registry declares and whose handler is present."""
    return {name for name in registry().operations if is_implemented(name)}


def is_implemented(operation: str) -> bool:
    """Whether ``operation`` is a registry operation whose handler is present (one file checked,
    not the whole list: every request asks)."""
    function = registry().functions.get(operation)
    return function is not None and bool(function.operation) and (functions_dir() / function.code / "app.py").is_file()


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @classmethod
    def for_function(cls, function: Function) -> LambdaContext:
        """A context with the function's registered memory and timeout, as Lambda would give it."""
        name = f"recognito-{xform_name(function.name, '-')}"
        config = settings()
        return cls(
            function_name=name,
            invoked_function_arn=f"arn:{config.partition}:lambda:{config.region}:{config.account_id}:function:{name}",
            memory_limit_in_mb=function.memory,
            timeout_seconds=function.timeout,
        )

    def get_remaining_time_in_millis(self) -> int:
        deadline = self._started + self.timeout_seconds
        return max(0, int((deadline - time.monotonic()) * 1000))


def call_handler(function: Function, event: dict[str, Any]) -> Any:
    """Run a registered function's handler on ``event`` with a fresh context, as Lambda would:
    the one way the local endpoint, the tests and the benches call a handler."""
    module = load_module(functions_dir() / function.code / "app.py")
    return module.handler(event, LambdaContext.for_function(function))


def invoke(operation: str, event: dict[str, Any]) -> dict[str, Any]:
    """Run ``operation``'s handler on an API Gateway proxy event and return its proxy result.

    Raises ``FunctionNotFound`` (a ``LookupError``) when ``operation`` is not an operation of the
    registry or has no handler. A ``LookupError`` escaping the handler itself is re-raised as
    ``RuntimeError`` so the front door never mistakes a handler bug for a missing function.
    """
    if not is_implemented(operation):  # only API operations: never front_door, never a path
        raise FunctionNotFound(operation)
    try:
        return call_handler(registry().operation(operation), event)
    except LookupError as error:
        raise RuntimeError(f"{operation} handler raised {error!r}") from error


def load_module(path: Path) -> ModuleType:
    """``functions/<name>/app.py`` imported once, as ``recognito_function_<name>``."""
    with _modules_lock:
        module = _modules.get(path)
        if module is None:
            module = _import(path, f"recognito_function_{path.parent.name}")
            _modules[path] = module
    return module


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
