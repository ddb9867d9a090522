"""The front door: one ``POST /`` that routes stock SDK requests to per-operation functions.

SDK clients send every Rekognition operation to ``POST /`` and name it only in ``X-Amz-Target``,
while API Gateway routes by path. The front door reads the header and hands the untouched proxy
event to the operation's own function. Deployed, ``invoke`` is a Lambda ``Invoke`` of the
operation's function; under ``recognito serve`` it runs the same handler in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from recognito.errors import NotImplementedYetException, RekognitionError, UnknownOperationException
from recognito.protocol import error_response, request_id, target_operation

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Runs an operation's handler on a proxy event; raises ``LookupError`` when it has none."""


def dispatch(event: dict[str, Any], invoke: Invoke) -> dict[str, Any]:
    """Route one proxy event by its ``X-Amz-Target`` and return the operation's proxy result."""
    try:
        operation = _operation(event)
        try:
            return invoke(operation, event)
        except LookupError:
            raise NotImplementedYetException(
                f"recognito does not implement {operation} yet; see the coverage table in its README"
            ) from None
    except RekognitionError as error:
        return error_response(error, request_id(event))


def _operation(event: Mapping[str, Any]) -> str:
    operation = target_operation(event)
    if operation is None:
        raise UnknownOperationException("Missing X-Amz-Target header naming a RekognitionService operation")
    return operation
