"""The local endpoint holds up like a database: no 5xx and no reply an SDK cannot parse.

A seeded fuzzer generated from botocore's model (tests/fuzzing.py) sends a few thousand requests
over every implemented operation through ``recognito serve``'s WSGI app in-process (routing, front
door, handlers, moto). The causes of 500s a hostile client found are regression tests of their own,
with the targets in other casings and prefixes that used to be answered by S3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fuzzing import Fuzzer, Reply, Request, Send, Tally, fuzz, input_shapes_cover, judge, local_endpoint, small_images
from recognito_local.invoke import implemented_operations

REQUESTS = 2000
SEED = 16
ARN = "arn:aws:rekognition:us-east-1:123456789012:collection/fuzz"


@pytest.fixture(scope="module")
def images() -> list[bytes]:
    return small_images()


@pytest.fixture(scope="module")
def send(tmp_path_factory: pytest.TempPathFactory, images: list[bytes]) -> Iterator[Send]:
    with local_endpoint(tmp_path_factory.mktemp("fuzz"), images) as send:
        yield send


def _post(send: Send, target: str | None, body: str | bytes, signed: bool = False) -> tuple[int, dict]:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    reply = send(Request(target, data, signed=signed))
    assert judge(None, reply)[0] in (None, "200 for a request that names no operation"), reply
    return reply.status, json.loads(reply.body)


def test_the_fuzzer_knows_every_kind_of_member_the_operations_take():
    assert input_shapes_cover(sorted(implemented_operations())) <= {
        "structure", "list", "map", "string", "integer", "long", "float", "double", "boolean", "blob", "timestamp"
    }  # fmt: skip


def test_seeded_fuzzing_of_every_implemented_operation(send: Send, images: list[bytes]):
    operations = sorted(implemented_operations())
    fuzzer = Fuzzer(SEED, operations, images)
    tally = fuzz(send, fuzzer, REQUESTS)
    print(tally.report())  # shown with -s: requests, statuses by type, 5xx, malformed
    assert tally.server_errors == [], tally.report()
    assert tally.malformed == [], tally.report()
    assert tally.requests >= REQUESTS
    assert tally.statuses["200"] > REQUESTS // 20, tally.report()  # it reaches past validation
    models = {"DetectFaces", "DetectLabels", "DetectText", "IndexFaces", "SearchFacesByImage", "CompareFaces"}
    assert sum(tally.served[operation] for operation in models) >= 3, tally.report()  # and past image decoding
    assert {"ValidationException", "SerializationException", "UnknownOperationException"} <= {
        status.partition(" ")[2] for status in tally.statuses
    }


@pytest.mark.parametrize("depth", [1_001, 5_000, 100_000])
def test_cause_1_deep_nesting(send: Send, depth: int):
    for body in ("[" * depth + "]" * depth, '{"MaxResults": ' + "[" * depth + "]" * depth + "}"):
        status, error = _post(send, "RekognitionService.ListCollections", body)
        assert (status, error["__type"]) == (400, "SerializationException")


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("ListCollections", '{"MaxResults": NaN}'),
        ("ListCollections", '{"MaxResults": Infinity}'),
        ("ListCollections", '{"MaxResults": 1e999}'),
        ("SearchFaces", '{"CollectionId": "fuzz", "FaceId": "x", "FaceMatchThreshold": ' + "7" * 400 + "}"),
    ],
)
def test_cause_2_numbers_no_member_can_hold(send: Send, operation: str, body: str):
    status, error = _post(send, f"RekognitionService.{operation}", body)
    assert (status, error["__type"]) == (400, "SerializationException")


def test_cause_3_tagging_with_no_tags(send: Send):
    _post(send, "RekognitionService.CreateCollection", '{"CollectionId": "fuzz"}')
    status, body = _post(send, "RekognitionService.TagResource", json.dumps({"ResourceArn": ARN, "Tags": {}}))
    assert (status, body) == (200, {})


def test_cause_4_an_empty_celebrity_id(send: Send):
    status, error = _post(send, "RekognitionService.GetCelebrityInfo", '{"Id": ""}')
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


@pytest.mark.parametrize(
    "target",
    [
        "RekognitionServiceListCollections",  # cause 5: no dot, which moto failed on
        "ListCollections",
        "rekognitionservice.ListCollections",  # answered by S3's ListAllMyBuckets before
        "REKOGNITIONSERVICE.ListCollections",
        "Rekognition.ListCollections",
        "RekognitionService_20160627.ListCollections",
        "RekognitionService.listCollections",
        "RekognitionService.",
        "DynamoDB_20120810.ListTables",  # unsigned: moto answered it as S3
    ],
)
@pytest.mark.parametrize("signed", [False, True])
def test_targets_aws_would_reject_are_rekognitions_unknown_operation(send: Send, target: str, signed: bool):
    status, error = _post(send, target, "{}", signed=signed)
    assert (status, error["__type"]) == (400, "UnknownOperationException"), error


@pytest.mark.parametrize("body", [b"{}", b"not json"])
def test_an_unsigned_post_to_an_operations_path_is_rekognitions(send: Send, body: bytes):
    """``POST /ListCollections`` without a target is the front door's path route, not an S3 bucket."""
    reply = send(Request(None, body, "ListCollections", path="/ListCollections"))
    assert judge("ListCollections", reply) == (None, None), reply
    assert reply.content_type == "application/x-amz-json-1.1"
    answer = json.loads(reply.body)
    if body == b"{}":
        assert reply.status == 200 and isinstance(answer["CollectionIds"], list)
    else:
        assert (reply.status, answer["__type"]) == (400, "SerializationException")


def test_other_services_still_reach_moto(send: Send):
    reply = send(Request("DynamoDB_20120810.ListTables", b"{}", signed=True, service="dynamodb"))
    assert reply.status == 200 and "TableNames" in json.loads(reply.body)
    reply = send(Request("DynamoDB_20120810ListTables", b"{}", signed=True, service="dynamodb"))
    assert (reply.status, json.loads(reply.body)["__type"]) == (400, "UnknownOperationException")


def test_tally_counts_statuses_and_flags_malformed_replies():
    tally = Tally()
    request = Request("RekognitionService.ListCollections", b"{}", "ListCollections")
    tally.add(request, Reply(200, "application/x-amz-json-1.1", b'{"CollectionIds": ["a"]}'))
    tally.add(request, Reply(200, "application/x-amz-json-1.1", b'{"CollectionIds": "a"}'))
    tally.add(request, Reply(400, "application/x-amz-json-1.1", b'{"message": "no type"}'))
    tally.add(request, Reply(500, "text/plain", b"Internal server error"))
    assert tally.requests == 4 and len(tally.server_errors) == 1 and len(tally.malformed) == 3
    assert tally.statuses == {"200": 2, "400": 1, "500 ?": 1}
