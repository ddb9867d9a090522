"""The DynamoDB tables template.yaml deploys are the tables the code makes and reads.

Locally and in tests the tables come from the PynamoDB models (``ensure_tables``); deployed, from
template.yaml. A key, an attribute type or an index that differs works in one and fails in the
other, so both are compared: the tables ``ensure_tables`` creates (read back from DynamoDB with
DescribeTable) against the template's, table by table, key by key and index by index.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from cfn_template import load_template
from recognito.settings import settings
from recognito.storage.tables import idempotency_table_name

pytestmark = pytest.mark.usefixtures("aws")

STACK_NAME = "${AWS::StackName}-"


def _template_tables() -> dict[str, dict[str, Any]]:
    """Table name suffix (``faces``, ``idempotency`` ...) -> the template's table properties."""
    tables = {}
    for logical_id, resource in load_template()["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        name = properties["TableName"]
        assert isinstance(name, dict) and name.get("Sub", "").startswith(STACK_NAME), (logical_id, name)
        tables[name["Sub"].removeprefix(STACK_NAME)] = properties
    return tables


def _indexes(described: list[dict[str, Any]] | None) -> dict[str, tuple[list, str]]:
    return {
        index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"]) for index in described or []
    }


def _shape(table: dict[str, Any]) -> dict[str, Any]:
    """What must agree: keys, attribute types, and the indexes' keys and projections."""
    return {
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "LocalSecondaryIndexes": _indexes(table.get("LocalSecondaryIndexes")),
        "GlobalSecondaryIndexes": _indexes(table.get("GlobalSecondaryIndexes")),
    }


def _created() -> dict[str, dict[str, Any]]:
    """Table name suffix -> DescribeTable of each table ``ensure_tables`` created."""
    client = boto3.client("dynamodb", region_name=settings().region)
    prefix = f"{settings().table_prefix}-"
    names = [name for name in client.list_tables()["TableNames"] if name.startswith(prefix)]
    return {name.removeprefix(prefix): client.describe_table(TableName=name)["Table"] for name in names}


def test_the_template_deploys_exactly_the_tables_the_code_creates() -> None:
    assert set(_template_tables()) == set(_created())


@pytest.mark.parametrize("suffix", sorted(_template_tables()))
def test_each_tables_keys_types_and_indexes_match(suffix: str) -> None:
    template = _template_tables()[suffix]
    created = _created()[suffix]
    assert _shape(template) == _shape(created)
    assert template["BillingMode"] == created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_the_idempotency_table_has_powertools_key_and_expiry() -> None:
    """Powertools writes its records under ``key_attr`` and their expiry under ``expiry_attr``:
    the key must be the table's hash key, the expiry its TTL attribute (else records never expire)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    layer = DynamoDBPersistenceLayer(table_name=idempotency_table_name())
    template = _template_tables()[idempotency_table_name().removeprefix(f"{settings().table_prefix}-")]
    assert template["KeySchema"] == [{"AttributeName": layer.key_attr, "KeyType": "HASH"}]
    assert template["TimeToLiveSpecification"] == {"AttributeName": layer.expiry_attr, "Enabled": True}
