"""The front door: one ``POST /`` that routes stock SDK requests to per-operation functions.

SDK clients send every Rekognition operation to ``POST /`` and name it only in ``X-Amz-Target``,
while API Gateway routes by path. The front door reads the header and hands the untouched proxy
event to the operation's own function. Deployed, ``invoke`` is a Lambda ``Invoke`` of the
operation's function; under ``recognito serve`` it runs the same handler in-process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from recognito.errors import (
    InternalServerError,
    NotImplementedYetException,
    RekognitionError,
    UnknownOperationException,
)
from recognito.protocol import error_response, request_id, target_operation
from recognito.registry import registry
from recognito.settings import env_name, settings

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Runs an operation's handler on a proxy event; raises ``LookupError`` when it has none."""


def dispatch(event: dict[str, Any], invoke: Invoke) -> dict[str, Any]:
    """Route one proxy event by its ``X-Amz-Target`` and return the operation's proxy result."""
    try:
        operation = _operation(event)
        try:
            registry().operation(operation)  # an operation no function serves is never invoked
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


def lambda_invoker(prefix: str | None = None, client: Any = None) -> Invoke:
    """``invoke`` for a deployed stack: a synchronous Lambda ``Invoke`` of ``<prefix><Operation>``.

    A function that does not exist is an operation recognito does not serve yet.
    """
    import boto3

    prefix = prefix if prefix is not None else settings().function_prefix
    if prefix is None:
        raise RuntimeError(f"the front door needs {env_name('function_prefix')} to name the functions it invokes")
    client = client or boto3.client("lambda")

    def invoke(operation: str, event: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = client.invoke(FunctionName=f"{prefix}{operation}", Payload=json.dumps(event).encode())
        except client.exceptions.ResourceNotFoundException:
            raise LookupError(operation) from None
        payload = json.loads(reply["Payload"].read())
        if reply.get("FunctionError"):
            raise InternalServerError(f"{operation} failed: {payload.get('errorType', 'error')}")
        return payload

    return invoke
