"""Run an operation's Lambda handler in-process, the way Lambda would run it deployed.

Deployed, the front door invokes ``functions/<snake_op>/app.py`` as its own Lambda function.
Locally the same file is imported (once, by path: every handler module is called ``app``, so each
gets a unique module name) and its ``handler(event, context)`` is called with a Lambda-like
context, so handlers cannot tell the difference.
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
from recognito.protocol import operation_names
from recognito.settings import settings

FUNCTIONS_DIR_ENV = "RECOGNITO_FUNCTIONS_DIR"
# Lambda's ceiling; locally nothing enforces it, handlers only read it to budget their work.
TIMEOUT_SECONDS = 900
MEMORY_MB = 3008

_modules: dict[Path, ModuleType] = {}
_modules_lock = threading.Lock()


class FunctionNotFound(LookupError):
    """No ``functions/<snake_op>/app.py`` for the operation: the front door answers "not implemented"."""


def functions_dir() -> Path:
    """``$RECOGNITO_FUNCTIONS_DIR``, else the repository's ``functions/`` (the package is installed editable)."""
    override = os.environ.get(FUNCTIONS_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "functions"


def implemented_operations() -> set[str]:
    """The Rekognition operations that have a handler, by their API names (``DetectFaces``)."""
    by_dir = {xform_name(name): name for name in operation_names()}
    root = functions_dir()
    if not root.is_dir():
        return set()
    return {by_dir[d.name] for d in root.iterdir() if d.name in by_dir and (d / "app.py").is_file()}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = MEMORY_MB
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default_factory=lambda: time.monotonic() + TIMEOUT_SECONDS)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(operation: str, event: dict[str, Any]) -> dict[str, Any]:
    """Run ``operation``'s handler on an API Gateway proxy event and return its proxy result.

    Raises ``FunctionNotFound`` (a ``LookupError``) when ``operation`` is not a Rekognition
    operation or has no function. A ``LookupError`` escaping the handler itself is re-raised as
    ``RuntimeError`` so the front door never mistakes a handler bug for a missing function.
    """
    handler = _load(operation).handler
    name = f"recognito-{xform_name(operation, '-')}"
    config = settings()
    context = LambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:{config.partition}:lambda:{config.region}:{config.account_id}:function:{name}",
    )
    try:
        return handler(event, context)
    except LookupError as error:
        raise RuntimeError(f"{operation} handler raised {error!r}") from error


def _load(operation: str) -> ModuleType:
    if operation not in operation_names():  # only API operations: never front_door, never a path
        raise FunctionNotFound(operation)
    path = functions_dir() / xform_name(operation) / "app.py"
    if not path.is_file():
        raise FunctionNotFound(operation)
    return load_module(path)


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
