"""`recognito serve` end to end: one port for Rekognition and the AWS services behind it, and
state that survives a restart. Stock boto3 clients, as a user's code would use them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from recognito.protocol import operation_model, operation_names
from recognito.storage import ALL_TABLES
from recognito_local.invoke import implemented_operations

pytestmark = pytest.mark.e2e


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_s3_objects_go_in_and_out_through_the_one_port(s3):
    bucket = _name("e2e-s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="images/a.bin", Body=bytes(range(256)) * 64)

    assert s3.get_object(Bucket=bucket, Key="images/a.bin")["Body"].read() == bytes(range(256)) * 64


def test_dynamodb_serves_the_tables_recognito_created_on_start(dynamodb):
    tables = dynamodb.list_tables()["TableNames"]

    assert {model.Meta.table_name for model in ALL_TABLES} <= set(tables)


def test_an_implemented_operation_runs_its_handler_in_process(rekognition):
    reply = rekognition.list_collections()

    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert isinstance(reply["CollectionIds"], list)


def test_an_operation_without_a_function_is_a_400_json_error(rekognition):
    missing = sorted(
        name
        for name in operation_names() - implemented_operations()
        if not operation_model(name).input_shape.required_members
    )
    if not missing:
        pytest.skip("every operation callable without parameters has a function")

    with pytest.raises(ClientError) as caught:
        getattr(rekognition, xform_name(missing[0]))()

    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"]  # parsed by boto3 from the JSON body's __type
    assert missing[0] in error["Error"]["Message"]


@pytest.mark.parametrize(
    "target",
    [
        "RekognitionService.NoSuchOperation",
        "rekognitionservice.ListCollections",  # unsigned, this was S3's ListAllMyBuckets with a 200
        "Rekognition.ListCollections",
        "RekognitionServiceListCollections",  # no dot: moto's plain-text 500
    ],
)
def test_an_unknown_target_is_an_unknown_operation(endpoint, target):
    request = urllib.request.Request(
        endpoint.url + "/",
        data=b"{}",
        method="POST",
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)

    assert caught.value.code == 400
    assert json.loads(caught.value.read())["__type"] == "UnknownOperationException"


def test_s3_objects_and_dynamodb_items_survive_a_restart(endpoint, s3, dynamodb):
    bucket, table = _name("e2e-restart"), _name("e2e-restart")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kept.txt", Body=b"still here")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "kept"}, "embedding": {"B": b"\x00\x01\xfe\xff"}})

    endpoint.restart()

    assert s3.get_object(Bucket=bucket, Key="kept.txt")["Body"].read() == b"still here"
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "kept"}})["Item"]
    assert item["embedding"]["B"] == b"\x00\x01\xfe\xff"


def test_a_crash_keeps_what_was_saved_before_it(endpoint, s3):
    bucket = _name("e2e-crash")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="saved.txt", Body=b"saved in the background")
    _wait_for_a_snapshot_after(endpoint, datetime.now(UTC))

    endpoint.kill()
    endpoint.start()

    assert s3.get_object(Bucket=bucket, Key="saved.txt")["Body"].read() == b"saved in the background"


def _wait_for_a_snapshot_after(endpoint, moment: datetime) -> None:
    """Until the saver thread has written a snapshot taken after ``moment`` (about a second)."""
    manifest = endpoint.data_dir / "state" / "manifest.json"
    deadline = time.monotonic() + 60  # a bound against hanging, not a speed requirement
    while time.monotonic() < deadline:
        if manifest.exists() and datetime.fromisoformat(json.loads(manifest.read_text())["state_at"]) > moment:
            return
        time.sleep(0.1)
    raise AssertionError(f"no snapshot after {moment.isoformat()} in {manifest}")
