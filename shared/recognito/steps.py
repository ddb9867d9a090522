"""Workers of a state machine: a Task state's ``Step`` names the work, as ``"module:function"``.

Steps are imported when they run, so each worker function loads only what its own layers carry
(PyAV for decoding, ONNX Runtime for the models, neither for bookkeeping steps).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from recognito.errors import InvalidParameterException


def run_step(steps: Mapping[str, str], event: dict[str, Any], flow: str) -> dict[str, Any]:
    """Runs the function ``steps`` maps ``event["Step"]`` to; ``flow`` names the workers in errors."""
    target = steps.get(event.get("Step", ""))
    if target is None:
        raise InvalidParameterException(f"unknown {flow} step {event.get('Step')!r}")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)(event)
