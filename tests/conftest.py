"""Shared fixtures: moto-backed AWS for handler tests, and a way to call any function's handler."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

# Handlers read their settings at import: fix them before anything of recognito is imported.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    RECOGNITO_TOKEN_SECRET="tests-only-secret",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="WARNING",
    RECOGNITO_FUNCTION_PREFIX="recognito-test-",
)
for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
    os.environ.pop(variable, None)

import pytest  # noqa: E402
from botocore import xform_name  # noqa: E402
from moto import mock_aws  # noqa: E402
from recognito.protocol import proxy_event  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
EVENTS = REPO / "events"


@cache
def load_function(directory: str) -> ModuleType:
    """``functions/<directory>/app.py`` as a module of its own (every function's file is app.py)."""
    path = FUNCTIONS / directory / "app.py"
    spec = importlib.util.spec_from_file_location(f"function_{directory}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "recognito-test"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:recognito-test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def invoke_event(directory: str, event: dict[str, Any]) -> dict[str, Any]:
    return load_function(directory).handler(event, LambdaContext())


def call(operation: str, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """Call an operation's handler the way API Gateway would; returns (status, decoded body)."""
    text = body if isinstance(body, str) else json.dumps(body)
    event = proxy_event(
        text,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"RekognitionService.{operation}",
            **(headers or {}),
        },
    )
    reply = invoke_event(xform_name(operation), event)
    assert reply["headers"]["x-amzn-RequestId"]
    return reply["statusCode"], json.loads(reply["body"])


@pytest.fixture
def aws():
    """moto in-process, with recognito's tables created."""
    from recognito.storage import ensure_tables

    with mock_aws():
        ensure_tables()
        yield
