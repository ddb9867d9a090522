"""The local endpoint's remembered DynamoDB expressions give what moto gives parsing every time."""

from __future__ import annotations

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.ast_nodes import Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from recognito_local import dynamodb_expressions

KEY_SCHEMA = {
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}
# The collection's own shape of write: one counter moved under a condition on its value, items
# updated under conditions sharing expressions, with values that differ from item to item.
BUMP = "SET #seq = :next ADD #count :one"
IF_AT = "#seq = :seq"
ATTACH = "SET #user = :user, #seq = if_not_exists(#seq, :zero) + :one REMOVE #old"
IF_FREE = "attribute_not_exists(#user) OR #user = :user"


def _update(key: str, expression: str, condition: str, names: dict, values: dict) -> dict:
    return {
        "Update": {
            "TableName": "t",
            "Key": {"id": {"S": key}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def _attach(face: str, user: str) -> dict:
    names = {"#user": "user", "#seq": "seq", "#old": "old"}
    values = {":user": {"S": user}, ":zero": {"N": "0"}, ":one": {"N": "1"}}
    return _update(face, ATTACH, IF_FREE, names, values)


def _bump(seq: int, by: int) -> dict:
    names = {"#seq": "seq", "#count": "count"}
    values = {":seq": {"N": str(seq)}, ":next": {"N": str(seq + by)}, ":one": {"N": str(by)}}
    return _update("collection", BUMP, IF_AT, names, values)


def _history(client) -> list:
    """Transactions that commit, are cancelled by a condition, or are malformed; then the table."""
    outcomes: list = []
    steps = [
        [_bump(0, 2), _attach("f1", "u1"), _attach("f2", "u1")],
        [_bump(2, 1), _attach("f1", "u2")],  # f1 belongs to u1: cancelled
        [_bump(0, 1), _attach("f3", "u2")],  # stale seq: cancelled
        [_bump(2, 2), _attach("f1", "u1"), _attach("f3", "u2")],
        [_bump(4, 1), {"Update": {**_attach("f4", "u3")["Update"], "UpdateExpression": "SET #user = = :user"}}],
        [_bump(4, 1), {"Update": {**_attach("f1", "u3")["Update"], "ConditionExpression": "#user = :user"}}],
    ]
    for items in steps:
        try:
            client.transact_write_items(TransactItems=items)
            outcomes.append("ok")
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            outcomes.append((error.response["Error"]["Code"], [reason.get("Code") for reason in reasons]))
    outcomes.append(sorted(client.scan(TableName="t")["Items"], key=lambda item: item["id"]["S"]))
    return outcomes


def _run() -> list:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", **KEY_SCHEMA)
        client.put_item(TableName="t", Item={"id": {"S": "collection"}, "seq": {"N": "0"}, "count": {"N": "0"}})
        return _history(client)


def _moto_itself(monkeypatch) -> None:
    """moto as it is, even where another test's endpoint patched it already (put back after)."""
    parse = ConditionExpressionParser.parse
    monkeypatch.setattr(ConditionExpressionParser, "parse", getattr(parse, "__wrapped__", parse))
    make = UpdateExpressionParser.__dict__["make"].__func__
    monkeypatch.setattr(UpdateExpressionParser, "make", classmethod(getattr(make, "__wrapped__", make)))
    monkeypatch.setattr(Node, "__deepcopy__", None, raising=False)
    monkeypatch.delattr(Node, "__deepcopy__")


def test_remembered_expressions_answer_as_moto(monkeypatch):
    _moto_itself(monkeypatch)
    by_moto = _run()
    dynamodb_expressions.install()
    assert ConditionExpressionParser.parse is not getattr(ConditionExpressionParser.parse, "__wrapped__", None)
    remembered = _run()
    assert remembered == by_moto
    assert remembered[:4] == [
        "ok",
        ("TransactionCanceledException", ["None", "ConditionalCheckFailed"]),  # f1 is u1's
        ("TransactionCanceledException", ["ConditionalCheckFailed", "None"]),  # stale seq
        "ok",
    ]
    assert remembered[4][0] == "ValidationException"  # a bad expression fails every time
    assert [item["user"]["S"] for item in remembered[-1] if "user" in item] == ["u1", "u1", "u2"]
    assert _run() == by_moto  # every expression remembered now
