"""Collections through `recognito serve` with a stock boto3 client: paginators, errors, restarts."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def test_collections_with_boto3_paginator_and_restart(endpoint, rekognition):
    names = [f"e2e-{index}" for index in range(5)]
    for name in names:
        created = rekognition.create_collection(CollectionId=name, Tags={"suite": "e2e"})
        assert created["CollectionArn"].endswith(f":collection/{name}")
    pages = list(rekognition.get_paginator("list_collections").paginate(PaginationConfig={"PageSize": 2}))
    listed = [name for page in pages for name in page["CollectionIds"]]
    assert set(names) <= set(listed) and len(pages) >= 3

    described = rekognition.describe_collection(CollectionId=names[0])
    assert described["FaceCount"] == 0 and described["CreationTimestamp"].year >= 2025

    token = rekognition.list_collections(MaxResults=2)["NextToken"]
    endpoint.restart()
    after = rekognition  # the same client, against the restarted endpoint
    relisted = [name for page in after.get_paginator("list_collections").paginate() for name in page["CollectionIds"]]
    assert set(names) <= set(relisted)
    assert after.list_collections(MaxResults=2, NextToken=token)["CollectionIds"]  # tokens outlive a restart
    arn = "arn:" + created["CollectionArn"]
    assert after.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"suite": "e2e"}
    for name in names:
        after.delete_collection(CollectionId=name)


def test_documented_errors_reach_boto3(rekognition):
    rekognition.create_collection(CollectionId="e2e-dup")
    with pytest.raises(rekognition.exceptions.ResourceAlreadyExistsException):
        rekognition.create_collection(CollectionId="e2e-dup")
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.describe_collection(CollectionId="e2e-never")
    with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
        rekognition.list_collections(NextToken="forged-token")
    rekognition.delete_collection(CollectionId="e2e-dup")


def test_bad_requests_bypassing_boto3_validation(unvalidated_rekognition):
    """boto3 validates before sending; with validation off the server's own checks answer."""
    raw = unvalidated_rekognition
    with pytest.raises(ClientError) as caught:
        raw.create_collection(CollectionId="no spaces allowed")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "collectionId" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        raw.create_collection()
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        raw.list_collections(MaxResults="ten")
    assert caught.value.response["Error"]["Code"] == "SerializationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _signed_post(url: str, target: str, body: bytes) -> tuple[int, dict]:
    request = AWSRequest(
        "POST",
        url + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials("test", "test"), "rekognition", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url + "/", data=body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_raw_signed_http(endpoint):
    status, body = _signed_post(endpoint.url, "RekognitionService.ListCollections", b"{}")
    assert status == 200 and "CollectionIds" in body
    status, body = _signed_post(endpoint.url, "RekognitionService.CreateCollection", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = _signed_post(endpoint.url, "RekognitionService.Teleport", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
