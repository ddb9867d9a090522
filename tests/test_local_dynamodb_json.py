"""The local endpoint's direct JSON for moto's DynamoDB reads answers exactly what moto's serializer does."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoResult
from recognito_local import dynamodb_json

ITEM = {
    "id": {"S": "a"},
    "r": {"S": "1"},
    "b": {"B": bytes(range(256)) * 4},  # an embedding's worth of binary
    "n": {"N": "-1.5e3"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"a", b"\xff"]},
    "m": {"M": {"k": {"S": "v"}, "z": {"NULL": True}, "l": {"L": [{"BOOL": False}, {"N": "3"}]}}},
    "t": {"BOOL": True},
    "u": {"S": '\u00e9\U0001f600 "quoted"'},
}
KEY = {"id": {"S": "a"}, "r": {"S": "1"}}


def _reads(client) -> list[dict]:
    replies = [
        client.get_item(TableName="t", Key=KEY, ConsistentRead=True),
        client.get_item(TableName="t", Key={"id": {"S": "a"}, "r": {"S": "missing"}}),
        client.get_item(TableName="t", Key=KEY, ProjectionExpression="b, m.k"),
        client.batch_get_item(RequestItems={"t": {"Keys": [KEY, {"id": {"S": "a"}, "r": {"S": "2"}}]}}),
        client.query(TableName="t", KeyConditionExpression="id = :a", ExpressionAttributeValues={":a": {"S": "a"}}),
        client.query(
            TableName="t", KeyConditionExpression="id = :a", ExpressionAttributeValues={":a": {"S": "a"}}, Limit=1
        ),
        client.scan(TableName="t", ReturnConsumedCapacity="TOTAL"),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": KEY}}]),
    ]
    for reply in replies:
        reply.pop("ResponseMetadata")
    return replies


def test_direct_replies_equal_motos(monkeypatch):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "r", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item=ITEM)
        client.put_item(TableName="t", Item={"id": {"S": "a"}, "r": {"S": "2"}, "n": {"N": "0"}})
        by_moto = _reads(client)
        monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result)  # put back after
        dynamodb_json.install()
        direct = []
        wire_form = dynamodb_json._wire_form  # noqa: SLF001
        monkeypatch.setattr(dynamodb_json, "_wire_form", lambda value: direct.append(wire_form(value)) or direct[-1])
        assert _reads(client) == by_moto
        assert len(direct) > len(by_moto) and all(direct)  # every reply took the direct way
    assert by_moto[0]["Item"]["b"]["B"] == ITEM["b"]["B"] and by_moto[3]["Responses"]["t"]


@pytest.mark.parametrize("value", [None, {"a": None}, [1, object()]])
def test_anything_else_takes_motos_way(value):
    assert not dynamodb_json._wire_form(value)  # noqa: SLF001
