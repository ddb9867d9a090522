"""The protocol layer: validation from botocore's model, error bodies, serialization, routing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from conftest import call
from recognito.errors import SerializationException, ValidationException
from recognito.frontdoor import dispatch
from recognito.protocol import operation_model, proxy_event
from recognito.protocol.serialization import serialize
from recognito.protocol.validation import parse_input


def parse(operation: str, body: dict):
    return parse_input(operation_model(operation).input_shape, body)


def test_missing_required_member_is_named():
    with pytest.raises(ValidationException) as caught:
        parse("CreateCollection", {})
    assert "'collectionId'" in caught.value.message and "must not be null" in caught.value.message


def test_pattern_length_range_and_enum_violations_are_all_listed():
    with pytest.raises(ValidationException) as caught:
        parse(
            "SearchFaces",
            {"CollectionId": "a b", "FaceId": "not-a-uuid", "MaxFaces": 0, "FaceMatchThreshold": 100.5},
        )
    message = caught.value.message
    assert message.startswith("4 validation errors detected")
    for member in ("collectionId", "faceId", "maxFaces", "faceMatchThreshold"):
        assert f"at '{member}'" in message
    with pytest.raises(ValidationException) as caught:
        parse("DetectFaces", {"Image": {"Bytes": "aGk="}, "Attributes": ["DEFAULT", "EVERYTHING"]})
    assert "attributes.2.member" in caught.value.message and "enum value set" in caught.value.message


def test_java_unicode_classes_in_patterns():
    assert parse("CreateCollection", {"CollectionId": "c", "Tags": {"Ünïcode key": "välue"}})
    with pytest.raises(ValidationException):
        parse("CreateCollection", {"CollectionId": "c", "Tags": {"aws:reserved": "x"}})


@pytest.mark.parametrize(
    ("body", "member"),
    [
        ({"CollectionId": 7}, "collectionId"),
        ({"CollectionId": ["x"]}, "collectionId"),
        ({"CollectionId": "c", "Tags": ["x"]}, "tags"),
    ],
)
def test_wrong_types_are_serialization_errors_naming_the_member(body, member):
    with pytest.raises(SerializationException) as caught:
        parse("CreateCollection", body)
    assert member in caught.value.message


def test_numbers_booleans_and_blobs():
    with pytest.raises(SerializationException):
        parse("ListCollections", {"MaxResults": "10"})
    with pytest.raises(SerializationException):
        parse("ListCollections", {"MaxResults": True})
    with pytest.raises(SerializationException):
        parse("ListCollections", {"MaxResults": 1.5})
    with pytest.raises(SerializationException) as caught:
        parse("DetectFaces", {"Image": {"Bytes": "***not base64***"}})
    assert "image.bytes" in caught.value.message
    assert parse("DetectFaces", {"Image": {"Bytes": base64.b64encode(b"\xff\xd8").decode()}}) == {
        "Image": {"Bytes": b"\xff\xd8"}
    }


def test_unknown_members_are_ignored_as_aws_does():
    assert parse("ListCollections", {"MaxResults": 5, "Future": 1}) == {"MaxResults": 5}


def test_serialization_follows_the_output_shape():
    shape = operation_model("DescribeCollection").output_shape
    wire = serialize(
        shape,
        {"FaceCount": 3, "CreationTimestamp": datetime(2024, 1, 2, tzinfo=UTC), "Internal": "x", "UserCount": None},
    )
    assert wire == {"FaceCount": 3, "CreationTimestamp": datetime(2024, 1, 2, tzinfo=UTC).timestamp()}


@pytest.mark.usefixtures("aws")
def test_bad_requests_through_a_handler_get_aws_error_bodies():
    status, error = call("CreateCollection", "{not json")
    assert (status, error["__type"]) == (400, "SerializationException")
    status, error = call("CreateCollection", {"CollectionId": "has space"})
    assert (status, error["__type"]) == (400, "ValidationException")
    assert "collectionId" in error["message"]
    status, error = call("CreateCollection", {"CollectionId": "x"}, {"X-Amz-Target": "RekognitionService.DetectFaces"})
    assert (status, error["__type"]) == (400, "UnknownOperationException")


def _front_door(target: str | None):
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    seen = []

    def invoke(operation, event):
        seen.append(operation)
        if operation != "ListCollections":
            raise LookupError(operation)
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    reply = dispatch(proxy_event("{}", headers), invoke)
    return reply, seen


def test_front_door_routes_by_target_header():
    reply, seen = _front_door("RekognitionService.ListCollections")
    assert reply["statusCode"] == 200 and seen == ["ListCollections"]


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("RekognitionService.MakeCoffee", "UnknownOperationException"),
        ("DynamoDB_20120810.ListTables", "UnknownOperationException"),
        (None, "UnknownOperationException"),
        ("RekognitionService.StartFaceSearch", "InvalidParameterException"),
    ],
)
def test_front_door_refuses_unknown_and_unimplemented_operations(target, code):
    reply, _ = _front_door(target)
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 400 and body["__type"] == code
    assert reply["headers"]["x-amzn-RequestId"]
    if code == "InvalidParameterException":
        assert "does not implement StartFaceSearch" in body["message"]


def test_image_bytes_over_five_megabytes_are_refused_by_the_request_layer_as_aws_does():
    oversized = base64.b64encode(b"\xff" * (5 * 1024 * 1024 + 1)).decode()
    with pytest.raises(ValidationException) as caught:
        parse("DetectFaces", {"Image": {"Bytes": oversized}})
    assert "'image.bytes'" in caught.value.message
    assert "java.nio.HeapByteBuffer[pos=0 lim=5242881 cap=5242881]" in caught.value.message
    assert "less than or equal to 5242880" in caught.value.message


def _implemented() -> list[str]:
    from botocore import xform_name
    from conftest import FUNCTIONS
    from recognito.protocol import operation_names

    return [op for op in sorted(operation_names()) if (FUNCTIONS / xform_name(op) / "app.py").exists()]


@pytest.mark.usefixtures("aws")
def test_a_body_nested_thousands_deep_is_a_serialization_error_on_every_operation():
    deep = "[" * 5000 + "]" * 5000
    bodies = (deep, '{"CollectionId": ' + deep + "}", '{"Future": ' + '{"a": ' * 3000 + "1" + "}" * 3001)
    for operation in _implemented():
        for body in bodies:
            status, error = call(operation, body)
            assert (status, error["__type"]) == (400, "SerializationException"), (operation, error)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.usefixtures("aws")
def test_non_standard_numbers_are_not_json(token):
    status, error = call("ListCollections", '{"MaxResults": ' + token + "}")
    assert (status, error["__type"]) == (400, "SerializationException"), error
    assert token in error["message"]


@pytest.mark.parametrize(
    ("operation", "body", "member"),
    [
        ("ListCollections", {"MaxResults": 1e999}, "maxResults"),  # json reads 1e999 as inf
        ("ListCollections", {"MaxResults": 2**31}, "maxResults"),  # beyond Java's int
        ("ListCollections", {"MaxResults": -(2**63) - 1}, "maxResults"),
        ("ListCollections", {"MaxResults": 10**400}, "maxResults"),
        ("SearchFaces", {"CollectionId": "c", "FaceId": "x", "FaceMatchThreshold": 10**400}, "faceMatchThreshold"),
        ("SearchFaces", {"CollectionId": "c", "FaceId": "x", "FaceMatchThreshold": -(10**400)}, "faceMatchThreshold"),
    ],
)
def test_numbers_beyond_the_members_type_are_serialization_errors(operation, body, member):
    with pytest.raises(SerializationException) as caught:
        parse(operation, json.loads(json.dumps(body)))
    assert f"'{member}'" in caught.value.message


@pytest.mark.usefixtures("aws")
def test_numbers_beyond_the_members_type_through_a_handler():
    for body in ('{"MaxResults": 1e999}', '{"MaxResults": 99999999999999999999999}'):
        status, error = call("ListCollections", body)
        assert (status, error["__type"]) == (400, "SerializationException"), error
    body = '{"CollectionId": "c", "FaceId": "x", "FaceMatchThreshold": ' + "9" * 400 + "}"
    status, error = call("SearchFaces", body)
    assert (status, error["__type"]) == (400, "SerializationException"), error


def test_the_largest_int_is_read_and_then_checked_against_the_range():
    with pytest.raises(ValidationException) as caught:
        parse("ListCollections", {"MaxResults": 2**31 - 1})
    assert "less than or equal to 4096" in caught.value.message


def test_wrong_type_messages_are_bounded_for_huge_or_deep_values():
    nested: list = []
    inner = nested
    for _ in range(800):
        inner.append([])
        inner = inner[0]
    for value in (nested, list(range(100_000)), {str(k): k for k in range(10_000)}):
        with pytest.raises(SerializationException) as caught:
            parse("CreateCollection", {"CollectionId": value})
        assert len(caught.value.message) < 300
