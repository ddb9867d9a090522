"""S3 upload triggers through `recognito serve`: objects put, copied or uploaded in parts to the
endpoint's S3 run the rules of <data dir>/triggers.json, as the deployed stack runs UploadRules."""

from __future__ import annotations

import io
import json
import time
import uuid

import boto3
import pytest
from models_available import needs_models
from PIL import Image
from recognito.uploads import object_key
from skimage import data

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 120


def astronaut_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def wait_for(what: str, check):
    """Poll until ``check()`` is truthy: the endpoint processes uploads in the background."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")


@pytest.fixture
def triggers(endpoint):
    """Write the endpoint's triggers.json; it is read again on change, and removed afterwards."""
    path = endpoint.data_dir / "triggers.json"

    def write(rules: list[dict]) -> None:
        path.write_text(json.dumps(rules))

    yield write
    path.unlink(missing_ok=True)


def test_uploads_put_copied_and_multipart_run_the_rules(endpoint, triggers, s3, rekognition, dynamodb):
    needs_models()
    bucket, collection = f"e2e-uploads-{uuid.uuid4().hex[:8]}", f"e2e-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    rekognition.create_collection(CollectionId=collection)
    triggers(
        [
            {"bucket": bucket, "prefix": "faces/", "action": "IndexFaces", "collection": collection},
            {"bucket": bucket, "prefix": "faces/", "action": "DetectFaces", "results_prefix": "results/"},
        ]
    )
    photo = astronaut_jpeg()
    original = "faces/Eileen Collins.jpg"
    s3.put_object(Bucket=bucket, Key=original, Body=photo)
    s3.copy_object(Bucket=bucket, Key="faces/copy.jpg", CopySource={"Bucket": bucket, "Key": original})
    # A multipart upload (one part: only the last may be under 5 MB) ends in CompleteMultipartUpload.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="faces/parts.jpg")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="faces/parts.jpg", UploadId=upload, PartNumber=1, Body=photo)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="faces/parts.jpg",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.put_object(Bucket=bucket, Key="elsewhere/ignored.jpg", Body=photo)

    keys = [original, "faces/copy.jpg", "faces/parts.jpg"]
    results = [f"results/{key}.DetectFaces.json" for key in keys]

    def listed() -> set[str]:
        return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    wait_for("DetectFaces results", lambda: set(results) <= listed())
    for result in results:
        details = json.loads(s3.get_object(Bucket=bucket, Key=result)["Body"].read())["FaceDetails"]
        assert len(details) == 1, result
    faces = wait_for(
        "three indexed faces",
        lambda: (found := rekognition.list_faces(CollectionId=collection)["Faces"]) and len(found) == 3 and found,
    )
    assert sorted(object_key(face["ExternalImageId"]) for face in faces) == sorted(keys)
    table = "recognito-uploads"
    for key in keys:
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="object_id = :id",
            ExpressionAttributeValues={":id": {"S": f"{bucket}/{key}"}},
        )["Items"]
        assert {(item["action"]["S"], item["status"]["S"]) for item in items} == {
            ("IndexFaces", "SUCCEEDED"),
            ("DetectFaces", "SUCCEEDED"),
        }
    assert not [key for key in listed() if key.startswith("results/elsewhere")]


def test_an_upload_that_keeps_failing_ends_in_the_dead_letter_queue(endpoint, triggers, s3, dynamodb):
    bucket = f"e2e-uploads-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    triggers([{"bucket": bucket, "prefix": "", "action": "DetectFaces"}])
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"not an image")
    sqs = boto3.client(
        "sqs", endpoint_url=endpoint.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    dlq = sqs.get_queue_url(QueueName="recognito-uploads-dlq")["QueueUrl"]

    def dead_lettered() -> dict | None:
        for message in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
            record = json.loads(message["Body"])["Records"][0]["s3"]
            if record["bucket"]["name"] == bucket:
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                return record
        return None

    record = wait_for("the dead-lettered upload", dead_lettered)
    assert record["object"]["key"] == "notes.txt"
    item = dynamodb.query(
        TableName="recognito-uploads",
        KeyConditionExpression="object_id = :id",
        ExpressionAttributeValues={":id": {"S": f"{bucket}/notes.txt"}},
    )["Items"][0]
    assert (item["status"]["S"], item["attempts"]["N"], item["error_code"]["S"]) == (
        "FAILED",
        "3",
        "InvalidImageFormatException",
    )
