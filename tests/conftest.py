"""Shared fixtures: moto-backed AWS for handler tests, and a way to call any function's handler."""

from __future__ import annotations

import json
import os
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
from recognito.registry import Function, registry  # noqa: E402
from recognito_local.invoke import call_handler, load_module  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
EVENTS = REPO / "events"


def function_for(directory: str) -> Function:
    """The registered function whose code is ``functions/<directory>/`` (the first, where two share it)."""
    return next(function for function in registry().functions.values() if function.code == directory)


def load_function(directory: str) -> ModuleType:
    """``functions/<directory>/app.py``, imported once: the module the local endpoint runs too."""
    return load_module(FUNCTIONS / directory / "app.py")


def invoke_event(directory: str, event: dict[str, Any]) -> Any:
    """Run the function's handler on ``event`` with a Lambda context, as the local endpoint does."""
    return call_handler(function_for(directory), event)


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


@pytest.fixture(autouse=True)
def _settings_read_afresh():
    """recognito reads its settings once (``recognito.settings``): a test that changes the
    environment clears them after the change, and every test starts and ends with them unread,
    so none sees another's (this runs after monkeypatch has put the environment back)."""
    from recognito.settings import settings

    settings.cache_clear()
    yield
    settings.cache_clear()


@pytest.fixture
def aws():
    """moto in-process, with recognito's tables created."""
    from recognito.storage import ensure_tables

    with mock_aws():
        ensure_tables()
        yield
