"""`recognito serve`'s Rekognition route without a subprocess: proxy events in, handlers run
in-process from a functions directory, proxy results out as HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto import mock_aws
from recognito_local.invoke import FUNCTIONS_DIR_ENV, implemented_operations, invoke
from recognito_local.persistence import StateStore
from recognito_local.server import LocalEndpoint
from werkzeug.test import Client

HANDLER = """
import json

LOADED = object()  # one per import of this file


def handler(event, context):
    if event.get("body") == "boom":
        raise KeyError("a bug in the handler")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "rid"},
        "multiValueHeaders": {"X-Seen": ["one", "two"]},
        "body": json.dumps({
            "loaded": id(LOADED),
            "function_name": context.function_name,
            "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb,
            "request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(),
            "event": event,
        }),
        "isBase64Encoded": False,
    }
"""


@pytest.fixture
def functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DetectFaces has a function; ListFaces has a directory without one; front_door is no operation."""
    for directory in ("detect_faces", "front_door"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "app.py").write_text(HANDLER)
    (tmp_path / "list_faces").mkdir()
    monkeypatch.setenv(FUNCTIONS_DIR_ENV, str(tmp_path))
    return tmp_path


def test_the_implemented_operations_are_the_operations_with_a_handler(functions):
    assert implemented_operations() == {"DetectFaces"}


def test_the_repository_functions_are_found_without_an_override(monkeypatch):
    monkeypatch.delenv(FUNCTIONS_DIR_ENV, raising=False)

    assert "CreateCollection" in implemented_operations()


def test_a_handler_runs_with_a_lambda_context(functions):
    reply = invoke("DetectFaces", {"body": "{}"})

    seen = json.loads(reply["body"])
    assert seen["function_name"] == "recognito-detect-faces"
    assert seen["arn"].endswith(":function:recognito-detect-faces")
    assert seen["arn"].startswith("arn:aws:lambda:")
    assert seen["memory"] > 0
    assert seen["request_id"]
    assert seen["remaining"] > 0


def test_a_handler_module_is_imported_once(functions):
    first = json.loads(invoke("DetectFaces", {"body": "{}"})["body"])["loaded"]
    second = json.loads(invoke("DetectFaces", {"body": "{}"})["body"])["loaded"]

    assert first == second


@pytest.mark.parametrize("operation", ["ListFaces", "FrontDoor", "NoSuchOperation", "../detect_faces"])
def test_an_operation_without_a_handler_is_a_lookup_error(functions, operation):
    with pytest.raises(LookupError):
        invoke(operation, {"body": "{}"})


def test_a_lookup_error_from_inside_a_handler_is_not_a_missing_function(functions):
    with pytest.raises(RuntimeError):
        invoke("DetectFaces", {"body": "boom"})


@pytest.fixture
def client(functions: Path, tmp_path: Path) -> Client:
    with mock_aws():  # moto's global backends are reset when the test ends
        yield Client(LocalEndpoint(StateStore(tmp_path / "data")))


def test_a_rekognition_request_reaches_its_handler_as_a_proxy_event(client):
    response = client.post(
        "/",
        data=json.dumps({"Image": {"Bytes": "AAAA"}}),
        headers={"X-Amz-Target": "RekognitionService.DetectFaces", "Content-Type": "application/x-amz-json-1.1"},
    )

    assert response.status_code == 200
    assert response.headers.getlist("X-Seen") == ["one", "two"]
    assert int(response.headers["Content-Length"]) == len(response.data)
    event = json.loads(response.data)["event"]
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/"
    assert event["headers"]["X-Amz-Target"] == "RekognitionService.DetectFaces"
    assert json.loads(event["body"]) == {"Image": {"Bytes": "AAAA"}}
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["requestId"]
    assert event["requestContext"]["identity"]["sourceIp"]


def test_a_request_signed_for_rekognition_is_routed_without_a_target(client):
    response = client.post(
        "/",
        data="{}",
        headers={"Authorization": _authorization("rekognition"), "Content-Type": "application/x-amz-json-1.1"},
    )

    assert response.status_code == 400
    assert json.loads(response.data)["__type"] == "UnknownOperationException"


def test_an_operation_without_a_handler_is_a_400_with_its_aws_error_body(client):
    response = client.post("/", data="{}", headers={"X-Amz-Target": "RekognitionService.ListFaces"})

    assert response.status_code == 400
    assert json.loads(response.data)["__type"]
    assert "ListFaces" in json.loads(response.data)["message"]


def test_a_handler_bug_is_a_500_internal_server_error(client):
    response = client.post("/", data="boom", headers={"X-Amz-Target": "RekognitionService.DetectFaces"})

    assert response.status_code == 500
    assert json.loads(response.data)["__type"] == "InternalServerError"


def _authorization(service: str) -> str:
    """A SigV4 header scoped to ``service``: moto routes by the scope and checks no signature."""
    return (
        f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
