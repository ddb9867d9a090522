"""`recognito serve`'s state store: moto's backends saved to the data directory and loaded back."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from recognito.locks import ReadWriteLock
from recognito_local import persistence
from recognito_local.persistence import StateStore
from recognito_local.server import LocalEndpoint
from werkzeug.test import Client

WAIT = 10  # seconds: only a bound against hanging, never an assertion on speed


def _manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / "state" / "manifest.json").read_text())


def _fill() -> None:
    """Some state in each kind of backend recognito uses."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="kept-images")
    s3.put_object(Bucket="kept-images", Key="a.jpg", Body=b"\xff\xd8 not really a jpeg")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="kept", Item={"pk": {"S": "face-1"}, "n": {"N": "7"}})
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="job done")
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/kept", TargetKeyId=key)


def test_saved_state_loads_into_a_fresh_moto(tmp_path):
    with mock_aws():
        _fill()
        secret = boto3.client("kms", region_name="us-east-1").encrypt(KeyId="alias/kept", Plaintext=b"s3cret")
        store = StateStore(tmp_path)
        store.record_write(None)
        store.save()

    with mock_aws():
        assert StateStore(tmp_path).load()

        s3 = boto3.client("s3", region_name="us-east-1")
        assert s3.get_object(Bucket="kept-images", Key="a.jpg")["Body"].read() == b"\xff\xd8 not really a jpeg"
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        assert dynamodb.get_item(TableName="kept", Key={"pk": {"S": "face-1"}})["Item"]["n"] == {"N": "7"}
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["job done"]
        kms = boto3.client("kms", region_name="us-east-1")
        assert kms.decrypt(CiphertextBlob=secret["CiphertextBlob"])["Plaintext"] == b"s3cret"


def test_an_empty_data_directory_loads_nothing(tmp_path):
    assert StateStore(tmp_path).load() is False


def test_a_save_that_fails_midway_leaves_the_previous_snapshot(tmp_path, monkeypatch):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="before")
        store = StateStore(tmp_path)
        store.record_write("s3")
        store.save()
        s3.create_bucket(Bucket="after")
        store.record_write("s3")
        _fail_before_the_manifest(monkeypatch)

        with pytest.raises(OSError):
            store.save()

    assert _manifest(tmp_path)["seq"] == 1
    with mock_aws():
        StateStore(tmp_path).load()
        assert [b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]] == ["before"]
    # The group file the failed save wrote, which no manifest names, is gone.
    snapshot_files = [p.name for p in (tmp_path / "state").iterdir() if not p.name.startswith("journal-")]
    assert sorted(snapshot_files) == sorted(["manifest.json", *_manifest(tmp_path)["files"].values()])


def test_a_failed_save_is_retried_by_the_next(tmp_path, monkeypatch):
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="retried")
        store = StateStore(tmp_path)
        store.record_write("s3")
        _fail_before_the_manifest(monkeypatch)
        with pytest.raises(OSError):
            store.save()
        monkeypatch.undo()

        store.save()

    with mock_aws():
        StateStore(tmp_path).load()
        assert [b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]] == ["retried"]


def _fail_before_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash after the group files are written, before the manifest names them."""
    write = persistence._write_synced

    def crash_on_manifest(path: Path, data: bytes) -> None:
        if path.name.startswith("manifest"):
            raise OSError("disk full")
        write(path, data)

    monkeypatch.setattr(persistence, "_write_synced", crash_on_manifest)


def test_a_running_execution_is_restored_aborted(tmp_path):
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    config = {"stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="waits", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name="interrupted")["executionArn"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        store = StateStore(tmp_path)
        store.record_write("states")
        store.save()
        sfn.stop_execution(executionArn=execution)  # this process's worker: not the restored one

    with mock_aws(config=config):
        StateStore(tmp_path).load()
        described = boto3.client("stepfunctions", region_name="us-east-1").describe_execution(executionArn=execution)
        assert described["status"] == "ABORTED"
        assert described["error"] == "recognito.Restarted"


@pytest.fixture
def endpoint(tmp_path: Path) -> tuple[Client, StateStore]:
    with mock_aws():
        store = StateStore(tmp_path)
        yield Client(LocalEndpoint(store)), store


def _signed(service: str, target: str | None = None) -> dict[str, str]:
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64
    }
    if target:
        headers |= {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    return headers


def test_a_dynamodb_write_saves_the_services_but_not_the_s3_objects(endpoint, tmp_path):
    client, store = endpoint
    table = {
        "TableName": "t",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }

    reply = client.post("/", data=json.dumps(table), headers=_signed("dynamodb", "DynamoDB_20120810.CreateTable"))
    store.save()

    assert reply.status_code == 200
    assert set(_manifest(tmp_path)["files"]) == {"services"}


def test_an_s3_write_saves_the_s3_objects(endpoint, tmp_path):
    client, store = endpoint

    assert client.put("/some-bucket", headers=_signed("s3")).status_code == 200
    store.save()

    assert set(_manifest(tmp_path)["files"]) == {"s3", "services"}


def test_reads_save_nothing(endpoint, tmp_path):
    client, store = endpoint
    client.put("/read-bucket", headers=_signed("s3"))
    store.save()
    saved = _manifest(tmp_path)["seq"]

    client.get("/read-bucket", headers=_signed("s3"))
    client.post("/", data="{}", headers=_signed("dynamodb", "DynamoDB_20120810.ListTables"))
    store.save()

    assert _manifest(tmp_path)["seq"] == saved


def test_a_snapshot_waits_for_requests_in_flight_and_lets_nested_ones_in():
    gate = ReadWriteLock(writer_priority=False)
    in_request, finish, nested_ran = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def request() -> None:
        with gate.shared():
            in_request.set()
            finish.wait(WAIT)
            order.append("request")

    def snapshot() -> None:
        with gate.exclusive():
            order.append("snapshot")

    def nested() -> None:
        with gate.shared():
            nested_ran.set()

    threads = [threading.Thread(target=request), threading.Thread(target=snapshot)]
    threads[0].start()
    assert in_request.wait(WAIT)
    threads[1].start()
    _until(lambda: gate._cond._waiters)  # the snapshot is waiting for the request
    threads.append(threading.Thread(target=nested))
    threads[2].start()

    assert nested_ran.wait(WAIT)  # a waiting snapshot does not block requests made by a request
    finish.set()
    for thread in threads:
        thread.join(WAIT)
    assert order == ["request", "snapshot"]


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.01)


def test_a_cancelled_transaction_puts_back_the_items_it_wrote_without_copying_the_table():
    from moto.dynamodb.models import dynamodb_backends
    from recognito_local import transactions

    transactions.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="faces",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for sk in ("a", "b"):
            dynamodb.put_item(TableName="faces", Item={"pk": {"S": "c1"}, "sk": {"S": sk}, "n": {"N": "1"}})
        table = dynamodb_backends["123456789012"]["us-east-1"].tables["faces"]

        def key(sk: str) -> dict:
            return {"pk": {"S": "c1"}, "sk": {"S": sk}}

        writes = [
            {"Update": {"TableName": "faces", "Key": key("a"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": "faces", "Item": {**key("new"), "n": {"N": "9"}}}},
            {"Delete": {"TableName": "faces", "Key": key("b")}},
        ]  # fmt: skip
        refused = {"ConditionCheck": {"TableName": "faces", "Key": key("ghost"),
                                      "ConditionExpression": "attribute_exists(pk)"}}  # fmt: skip
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=[*writes, refused])

        def items() -> dict:
            reply = dynamodb.query(
                TableName="faces", KeyConditionExpression="pk = :c", ExpressionAttributeValues={":c": {"S": "c1"}}
            )
            return {item["sk"]["S"]: item["n"]["N"] for item in reply["Items"]}

        assert items() == {"a": "1", "b": "1"}
        assert dynamodb_backends["123456789012"]["us-east-1"].tables["faces"] is table  # rolled back in place

        dynamodb.transact_write_items(TransactItems=writes)
        assert items() == {"a": "2", "new": "9"}


def test_writes_since_the_snapshot_are_replayed_from_the_journal_with_the_same_ids(tmp_path):
    """A crash after the answers, before any snapshot: the journal alone brings the writes back,
    and ids moto generated (message ids, receipt handles) are the ones the clients were given."""

    def sqs(client: Client, operation: str, body: dict) -> dict:
        headers = _signed("sqs", f"AmazonSQS.{operation}")
        reply = client.post("/", data=json.dumps(body), headers=headers)
        assert reply.status_code == 200, reply.data
        return json.loads(reply.data or b"{}")

    with mock_aws():
        store = StateStore(tmp_path)
        client = Client(LocalEndpoint(store))
        assert store.load(client.application.moto) is False
        assert client.put("/photos", headers=_signed("s3")).status_code == 200
        assert client.put("/photos/a.jpg", data=b"\xff\xd8 bytes", headers=_signed("s3")).status_code == 200
        queue = sqs(client, "CreateQueue", {"QueueName": "jobs"})["QueueUrl"]
        sent = [sqs(client, "SendMessage", {"QueueUrl": queue, "MessageBody": body})["MessageId"] for body in "ab"]
        received = sqs(client, "ReceiveMessage", {"QueueUrl": queue, "MaxNumberOfMessages": 1})["Messages"][0]
        store.journal.close()  # SIGKILL: no snapshot, only what the journal fsynced

    assert not (tmp_path / "state" / "manifest.json").exists()
    with mock_aws():
        store = StateStore(tmp_path)
        client = Client(LocalEndpoint(store))
        assert store.load(client.application.moto) is True

        assert client.get("/photos/a.jpg", headers=_signed("s3")).data == b"\xff\xd8 bytes"
        # The receipt handle given out before the crash still deletes its message.
        sqs(client, "DeleteMessage", {"QueueUrl": queue, "ReceiptHandle": received["ReceiptHandle"]})
        left = sqs(client, "ReceiveMessage", {"QueueUrl": queue, "MaxNumberOfMessages": 10})["Messages"]
        assert received["MessageId"] == sent[0]
        assert [message["MessageId"] for message in left] == sent[1:]
        # The replay became a snapshot: the next start replays nothing.
        assert _manifest(tmp_path)["journal"] >= 5


def test_an_sqs_long_poll_does_not_hold_back_dynamodb_and_gets_a_message_sent_meanwhile(endpoint):
    client, _ = endpoint
    app = client.application

    def sqs(operation: str, body: dict) -> dict:
        reply = Client(app).post("/", data=json.dumps(body), headers=_signed("sqs", f"AmazonSQS.{operation}"))
        assert reply.status_code == 200, reply.data
        return json.loads(reply.data or b"{}")

    queue = sqs("CreateQueue", {"QueueName": "waited"})["QueueUrl"]
    order: list[str] = []
    polled: list[dict] = []

    def long_poll() -> None:
        polled.extend(sqs("ReceiveMessage", {"QueueUrl": queue, "WaitTimeSeconds": 5})["Messages"])
        order.append("poll")

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)  # the poll is waiting
    listed = Client(app).post("/", data="{}", headers=_signed("dynamodb", "DynamoDB_20120810.ListTables"))
    assert listed.status_code == 200
    order.append("dynamodb")
    sqs("SendMessage", {"QueueUrl": queue, "MessageBody": "meanwhile"})
    poller.join(WAIT)

    assert order == ["dynamodb", "poll"]
    assert [message["Body"] for message in polled] == ["meanwhile"]
