"""Collection and tagging operations, through their handlers, against moto's DynamoDB."""

from __future__ import annotations

import pytest
from conftest import call

pytestmark = pytest.mark.usefixtures("aws")


def test_create_describe_delete_collection():
    status, created = call("CreateCollection", {"CollectionId": "family"})
    assert status == 200
    assert created["StatusCode"] == 200
    assert created["CollectionArn"] == "aws:rekognition:us-east-1:123456789012:collection/family"
    assert created["FaceModelVersion"]

    status, described = call("DescribeCollection", {"CollectionId": "family"})
    assert status == 200
    assert described["FaceCount"] == 0 and described["UserCount"] == 0
    assert described["CollectionARN"] == "arn:aws:rekognition:us-east-1:123456789012:collection/family"
    assert described["FaceModelVersion"] == created["FaceModelVersion"]
    assert isinstance(described["CreationTimestamp"], float)

    assert call("DeleteCollection", {"CollectionId": "family"}) == (200, {"StatusCode": 200})
    status, error = call("DescribeCollection", {"CollectionId": "family"})
    assert status == 400 and error["__type"] == "ResourceNotFoundException"
    assert "family" in error["message"]


def test_create_twice_is_already_exists():
    call("CreateCollection", {"CollectionId": "twice"})
    status, error = call("CreateCollection", {"CollectionId": "twice"})
    assert status == 400
    assert error["__type"] == "ResourceAlreadyExistsException"


def test_delete_unknown_collection():
    status, error = call("DeleteCollection", {"CollectionId": "nope"})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_list_collections_pages_with_tokens():
    names = {f"c{index:02d}" for index in range(7)}
    for name in names:
        call("CreateCollection", {"CollectionId": name})
    seen, token, pages = [], None, 0
    while True:
        body = {"MaxResults": 3, **({"NextToken": token} if token else {})}
        status, page = call("ListCollections", body)
        assert status == 200
        assert len(page["CollectionIds"]) <= 3
        assert len(page["FaceModelVersions"]) == len(page["CollectionIds"])
        seen += page["CollectionIds"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(names)
    assert pages >= 3


@pytest.mark.parametrize("token", ["forged", "eyJDb2xsZWN0aW9uSWQiOiB7IlMiOiAiYzAxIn19", "A" * 40])
def test_forged_pagination_token(token):
    call("CreateCollection", {"CollectionId": "one"})
    status, error = call("ListCollections", {"NextToken": token})
    assert (status, error["__type"]) == (400, "InvalidPaginationTokenException")


def test_tags_round_trip():
    arn = call("CreateCollection", {"CollectionId": "tagged", "Tags": {"team": "a"}})[1]["CollectionArn"]
    full_arn = "arn:" + arn
    assert call("TagResource", {"ResourceArn": full_arn, "Tags": {"env": "dev", "team": "b"}}) == (200, {})
    assert call("ListTagsForResource", {"ResourceArn": full_arn}) == (200, {"Tags": {"team": "b", "env": "dev"}})
    assert call("UntagResource", {"ResourceArn": full_arn, "TagKeys": ["team", "absent"]}) == (200, {})
    assert call("ListTagsForResource", {"ResourceArn": arn}) == (200, {"Tags": {"env": "dev"}})


def test_tag_limits_and_unknown_resource():
    arn = "arn:" + call("CreateCollection", {"CollectionId": "many"})[1]["CollectionArn"]
    status, error = call("TagResource", {"ResourceArn": arn, "Tags": {f"k{i}": "v" for i in range(51)}})
    assert status == 400 and error["__type"] in ("ValidationException", "ServiceQuotaExceededException")
    call("TagResource", {"ResourceArn": arn, "Tags": {f"k{i}": "v" for i in range(30)}})
    status, error = call("TagResource", {"ResourceArn": arn, "Tags": {f"j{i}": "v" for i in range(30)}})
    assert (status, error["__type"]) == (400, "ServiceQuotaExceededException")
    missing = arn.replace("collection/many", "collection/ghost")
    status, error = call("ListTagsForResource", {"ResourceArn": missing})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")
    status, error = call("ListTagsForResource", {"ResourceArn": "arn:aws:s3:::bucket"})
    assert (status, error["__type"]) == (400, "ValidationException")
    assert "resourceArn" in error["message"]
