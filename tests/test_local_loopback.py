"""`recognito serve` answering its own handlers' AWS calls in-process (recognito_local/loopback.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws
from recognito_local import loopback
from recognito_local.persistence import StateStore
from recognito_local.server import LocalEndpoint

# Nothing listens here: an answer can only have come from the process itself.
URL = "http://127.0.0.1:9"


def _request(target: str, body: dict, url: str = URL + "/") -> AWSPreparedRequest:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    request = AWSRequest("POST", url, data=json.dumps(body).encode(), headers=headers)
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(request)
    return request.prepare()


def _create_table(name: str) -> AWSPreparedRequest:
    return _request(
        "DynamoDB_20120810.CreateTable",
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[loopback.Loopback, StateStore]]:
    with mock_aws():
        store = StateStore(tmp_path)
        app = LocalEndpoint(store)
        store.load(app.moto)  # opens the journal
        handler = loopback.Loopback(app, URL)
        handler.enabled = True
        yield handler, store
        store.journal.close()


def test_a_call_to_the_endpoint_is_answered_in_process_and_journaled(served):
    handler, store = served

    created = handler(request=_create_table("looped"))
    listed = handler(request=_request("DynamoDB_20120810.ListTables", {}))

    assert created.status_code == 200
    assert json.loads(created.content)["TableDescription"]["TableName"] == "looped"
    assert "looped" in json.loads(listed.content)["TableNames"]
    assert store.journal.seq == 1  # the write, not the read, and on disk: no client waits for it
    assert store.journal._synced == 1  # noqa: SLF001


def test_writes_made_for_a_client_are_on_disk_once_its_answer_waits_for_them(served):
    handler, store = served

    with loopback.answering(True):
        handler(request=_create_table("first"))
        handler(request=_create_table("second"))
        # Answered before their fsync: the client's own answer has not been sent yet.
        assert store.journal.seq == 2 and store.journal._synced == 0  # noqa: SLF001
        store.durable()  # what LocalEndpoint does before answering the client

    assert store.journal._synced == 2  # noqa: SLF001


@pytest.mark.parametrize(
    "request_",
    [
        _request("DynamoDB_20120810.ListTables", {}, url="http://127.0.0.1:10/"),  # another endpoint
        _request("DynamoDB_20120810.ListTables", {}, url=URL + "/some/path"),  # not the JSON protocol
    ],
)
def test_other_requests_go_over_http(served, request_):
    handler, _ = served
    assert handler(request=request_) is None


def test_a_call_made_inside_moto_goes_over_http(served):
    """A backend calling back into the endpoint must not re-enter the locks its request holds."""
    handler, _ = served
    with loopback.in_moto():
        assert handler(request=_request("DynamoDB_20120810.ListTables", {})) is None
    assert handler(request=_request("DynamoDB_20120810.ListTables", {})) is not None


def test_nothing_is_answered_before_the_endpoint_serves(served):
    handler, _ = served
    handler.enabled = False
    assert handler(request=_request("DynamoDB_20120810.ListTables", {})) is None
