"""AWS JSON 1.1 over API Gateway proxy events: the one path every operation takes.

A handler is written as a story: the decorator parses and validates the event into the request
dict, the service does the work, and the decorator serializes the result (or the error) into the
proxy response that API Gateway, ``sam local invoke``, the tests and ``recognito serve`` all share.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from recognito.auth import authenticate
from recognito.errors import (
    InternalServerError,
    RekognitionError,
    SerializationException,
    UnknownOperationException,
)
from recognito.logs import structured_logger
from recognito.protocol.model import operation_model, operation_names, target_prefix
from recognito.protocol.serialization import serialize
from recognito.protocol.validation import parse_input

CONTENT_TYPE = "application/x-amz-json-1.1"

logger = structured_logger()
metrics = Metrics(namespace="recognito", service="recognito")

ServiceCall = Callable[[dict[str, Any], Any], dict[str, Any]]
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, looked up case-insensitively as HTTP intends."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    return None


def request_id(event: Mapping[str, Any]) -> str:
    return (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())


def target_operation(event: Mapping[str, Any]) -> str | None:
    """The operation named by ``X-Amz-Target: RekognitionService.<Operation>``, or by the path
    ``POST /<Operation>`` for callers that skip the front door. None when neither names one.

    Raises ``UnknownOperationException`` for a target that is not a Rekognition operation.
    """
    target = header(event, "X-Amz-Target")
    if target:
        prefix, _, operation = target.partition(".")
        if prefix != target_prefix() or operation not in operation_names():
            raise UnknownOperationException(f"Unknown operation {target!r}")
        return operation
    last_segment = (event.get("path") or "/").rstrip("/").rpartition("/")[2]
    return last_segment if last_segment in operation_names() else None


def response(status: int, body: Mapping[str, Any], rid: str, extra: Mapping[str, str] | None = None) -> dict:
    """An API Gateway proxy result carrying a JSON 1.1 body."""
    headers = {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": rid, **(extra or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body), "isBase64Encoded": False}


def error_response(error: RekognitionError, rid: str) -> dict:
    """The error body the SDKs parse: ``__type`` names the error, ``message`` says why."""
    return response(
        error.status,
        {"__type": error.code, "message": error.message},
        rid,
        {"x-amzn-ErrorType": error.code},
    )


def parse_request(operation: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The validated request of ``operation`` carried by a proxy event."""
    named = target_operation(event)
    if named is not None and named != operation:
        raise UnknownOperationException(f"This endpoint serves {operation}, not {named}")
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw)
    try:
        body = json.loads(raw, parse_constant=_non_standard_number)
    except RecursionError:
        # Python's recursion limit stops the decoder near 1,000 levels, where Jackson's does.
        raise SerializationException("The request body nests too deeply to be read") from None
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON") from None
    return parse_input(operation_model(operation).input_shape, body)


def _non_standard_number(token: str) -> Any:
    # Python reads NaN and Infinity; JSON and AWS's parsers do not.
    raise SerializationException(f"The request body is not valid JSON: {token} is not a JSON number")


def rekognition_operation(operation: str) -> Callable[[ServiceCall], LambdaHandler]:
    """Make ``handler(event, context)`` for ``operation`` from a service call on the request dict.

    Errors a service raises reach the caller with their AWS code; anything unexpected is logged
    with its traceback and answered as ``InternalServerError`` without internals.
    """
    output_shape = operation_model(operation).output_shape

    def decorate(call: ServiceCall) -> LambdaHandler:
        @functools.wraps(call)
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            rid = request_id(event)
            logger.append_keys(operation=operation, request_id=rid)
            started = time.perf_counter()
            try:
                authenticate(event)
                result = call(parse_request(operation, event), context)
                reply = response(200, serialize(output_shape, result or {}), rid)
            except RekognitionError as error:
                logger.info("request refused", extra={"error": error.code, "reason": error.message})
                reply = error_response(error, rid)
            except Exception:
                logger.exception("request failed")
                reply = error_response(InternalServerError("Internal server error"), rid)
            _record(operation, reply["statusCode"], time.perf_counter() - started)
            return reply

        return handler

    return decorate


def _record(operation: str, status: int, seconds: float) -> None:
    """One EMF metric line per request where metrics are enabled (deployed), nothing locally."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    metrics.add_dimension(name="operation", value=operation)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    metrics.add_metric(name="Errors" if status >= 400 else "Successes", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


def proxy_event(
    body: str,
    headers: Mapping[str, str],
    *,
    path: str = "/",
    rid: str | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as API Gateway builds it for ``POST path``.

    ``recognito serve`` and the tests build their events here, so handlers see exactly what they
    see deployed.
    """
    rid = rid or str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": dict(headers),
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "POST",
            "path": path,
            "stage": stage,
            "requestId": rid,
            "identity": {"sourceIp": source_ip},
        },
        "body": body,
        "isBase64Encoded": False,
    }
