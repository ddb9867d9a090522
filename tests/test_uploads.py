"""S3 upload triggers: rules, the key <-> ExternalImageId mapping, and the upload function run
in-process on SQS events carrying S3 notifications, against moto, on a real photograph.

`python tests/test_uploads.py --write-event` rewrites events/s3_upload.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import string
import sys

import boto3
import pytest
from conftest import EVENTS, call, invoke_event
from models_available import needs_models
from PIL import Image
from recognito.errors import InvalidParameterException
from recognito.settings import settings
from recognito.storage.tables import UploadRecord
from recognito.uploads import external_image_id, object_key, parse_rules
from recognito.uploads import rules as rules_module
from recognito.uploads.events import CreatedObject, created_objects, notification_record, sqs_event
from recognito.uploads.rules import ACTIONS_ENV, RULES_ENV, UploadConfigError
from skimage import data

SAMPLE_BUCKET = "recognito-uploads-example"
SAMPLE_KEY = "faces/staff/Eileen Collins.jpg"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:recognito-uploads"


def astronaut_jpeg() -> bytes:
    """scikit-image's astronaut (Eileen Collins): one face, 512 x 512."""
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def event_for(*objects: CreatedObject, receive_count: int = 1) -> dict:
    bodies = [json.dumps({"Records": [notification_record(obj, region="us-east-1")]}) for obj in objects]
    return sqs_event(bodies, queue_arn=QUEUE_ARN, receive_count=receive_count)


def put(bucket: str, key: str, body: bytes) -> CreatedObject:
    s3 = boto3.client("s3", region_name="us-east-1")
    reply = s3.put_object(Bucket=bucket, Key=key, Body=body)
    return CreatedObject(bucket, key, size=len(body), etag=reply["ETag"].strip('"'), version_id=reply.get("VersionId"))


def invoke(event: dict) -> dict:
    return invoke_event("s3_upload", event)


def runs(bucket: str, key: str) -> dict[str, UploadRecord]:
    """The uploads table's records for one object, by action."""
    return {record.action: record for record in UploadRecord.query(f"{bucket}/{key}")}


# ---- ExternalImageId <-> key ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["faces/a.jpg", "Zoë Smith.png", "a:b/c d+e%f.jpg", "日本/写真.jpeg", "x" * 255])
def test_keys_map_to_valid_external_image_ids_and_back(key):
    mapped = external_image_id(key)
    assert len(mapped) <= 255
    assert all(c.isascii() and (c.isalnum() or c in "_.-:") for c in mapped)
    assert object_key(mapped) == key


def test_the_mapping_is_documented_by_example():
    assert external_image_id("faces/staff/Zoë Smith.jpg") == "faces:2Fstaff:2FZo:C3:AB:20Smith.jpg"


def test_random_keys_round_trip():
    rng = random.Random(0)
    alphabet = string.printable + "äöüßéñçØ日本語写真😀\u200b"
    for _ in range(1000):
        key = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))
        assert object_key(external_image_id(key)) == key


def test_a_key_too_long_for_an_external_image_id_is_refused_not_shortened():
    with pytest.raises(InvalidParameterException, match="at most 255"):
        external_image_id("/" * 86)  # 86 x ":2F" = 258 characters


def test_ids_not_made_from_keys_are_refused():
    for bad in ["a:b", "a:2", "a b", ":zz"]:
        with pytest.raises(ValueError):
            object_key(bad)


# ---- rules ------------------------------------------------------------------------------------


def test_rules_parse_and_match():
    faces, photos = parse_rules(
        '[{"prefix": "faces/", "action": "IndexFaces", "collection": "staff", "suffixes": [".jpg"]},'
        ' {"prefix": "photos/", "action": "DetectLabels", "results_prefix": "results/", "bucket": "b"}]'
    )
    assert faces.matches("any", "faces/x.JPG") and not faces.matches("any", "faces/x.png")
    assert photos.matches("b", "photos/x.jpg") and not photos.matches("c", "photos/x.jpg")
    assert faces.result_key("faces/x.jpg") is None
    assert photos.result_key("photos/x.jpg") == "results/photos/x.jpg.DetectLabels.json"


def test_results_written_next_to_images_do_not_trigger_rules_again():
    (rule,) = parse_rules([{"prefix": "", "action": "DetectText"}])
    result = rule.result_key("scan.png")
    assert result == "scan.png.DetectText.json"
    assert rule.matches("b", "scan.png") and not rule.matches("b", result)


def test_a_rule_is_the_same_rule_whatever_its_position_and_a_new_one_once_edited():
    one = parse_rules([{"prefix": "a/", "action": "DetectText"}, {"prefix": "b/", "action": "DetectLabels"}])
    two = parse_rules([{"prefix": "b/", "action": "DetectLabels"}, {"prefix": "a/", "action": "DetectText"}])
    assert one[0].id == two[1].id
    edited = parse_rules([{"prefix": "a/", "action": "DetectText", "params": {"Filters": {}}}])
    assert edited[0].id != one[0].id


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("[{", "not valid JSON"),
        ('{"prefix": "a"}', "must be a JSON list"),
        ('[{"prefix": "a", "action": "DetectFaces", "colection": "x"}]', "unknown member"),
        ('[{"prefix": "a", "action": "SearchFaces"}]', "action must be one of"),
        ('[{"action": "DetectFaces"}]', "prefix is required"),
        ('[{"prefix": "a", "action": "IndexFaces"}]', "needs a collection"),
        ('[{"prefix": "a", "action": "DetectText", "collection": "x"}]', "takes no collection"),
        ('[{"prefix": "a", "action": "IndexFaces", "collection": "no spaces"}]', "collectionId"),
        ('[{"prefix": "a", "action": "DetectLabels", "params": {"MinConfidense": 50}}]', "MinConfidense"),
        ('[{"prefix": "a", "action": "DetectLabels", "params": {"MinConfidence": 500}}]', "minConfidence"),
        ('[{"prefix": "a", "action": "DetectFaces", "params": {"Image": {}}}]', "Image"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rules, message):
    with pytest.raises(UploadConfigError, match=message):
        parse_rules(rules)


# ---- S3 notifications and SQS events ----------------------------------------------------------


def test_notification_keys_are_url_encoded_as_s3_does_and_decoded_back():
    obj = CreatedObject("b", "faces/Zoë Smith+1.jpg", 10, "abc", version_id="v1")
    record = notification_record(obj, region="us-east-1")
    assert record["s3"]["object"]["key"] == "faces/Zo%C3%AB+Smith%2B1.jpg"
    body = json.dumps({"Records": [record]})
    assert created_objects(body) == [obj]
    sns_wrapped = json.dumps({"Type": "Notification", "Message": body})
    assert created_objects(sns_wrapped) == [obj]


def test_test_events_and_other_event_kinds_announce_nothing_and_garbage_is_an_error():
    assert created_objects(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    removed = notification_record(CreatedObject("b", "k", 1, "e", event_name="ObjectRemoved:Delete"), region="r")
    assert created_objects(json.dumps({"Records": [removed]})) == []
    with pytest.raises(ValueError):
        created_objects("not json")


# ---- the upload function, in-process against moto ----------------------------------------------


@pytest.fixture
def uploads(aws, monkeypatch):
    """A bucket of uploads and a collection; rules set per test with ``set_rules``."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=SAMPLE_BUCKET)
    call("CreateCollection", {"CollectionId": "my-collection"})

    def set_rules(rules: list[dict]) -> None:
        monkeypatch.setenv(RULES_ENV, json.dumps(rules))
        settings.cache_clear()

    return set_rules


@pytest.mark.models
def test_the_sample_event_indexes_the_face_and_writes_detect_faces_results(uploads):
    needs_models()
    uploads(
        [
            {"prefix": "faces/", "action": "IndexFaces", "collection": "my-collection"},
            {"prefix": "faces/", "action": "DetectFaces"},
        ]
    )
    put(SAMPLE_BUCKET, SAMPLE_KEY, astronaut_jpeg())
    event = json.loads((EVENTS / "s3_upload.json").read_text())

    assert invoke(event) == {"batchItemFailures": []}

    faces = call("ListFaces", {"CollectionId": "my-collection"})[1]["Faces"]
    assert len(faces) == 1
    assert object_key(faces[0]["ExternalImageId"]) == SAMPLE_KEY
    s3 = boto3.client("s3", region_name="us-east-1")
    written = json.loads(s3.get_object(Bucket=SAMPLE_BUCKET, Key=f"{SAMPLE_KEY}.DetectFaces.json")["Body"].read())
    assert len(written["FaceDetails"]) == 1 and written["FaceDetails"][0]["Confidence"] > 90
    records = runs(SAMPLE_BUCKET, SAMPLE_KEY)
    statuses = {action: r.status for action, r in records.items()}
    assert statuses == {"IndexFaces": "SUCCEEDED", "DetectFaces": "SUCCEEDED"}
    assert records["IndexFaces"].face_ids == [faces[0]["FaceId"]]
    assert records["IndexFaces"].summary.as_dict() == {"FaceRecords": 1, "UnindexedFaces": 0}
    assert records["DetectFaces"].result_key == f"{SAMPLE_KEY}.DetectFaces.json"


@pytest.mark.models
def test_the_same_object_delivered_twice_is_processed_once(uploads):
    needs_models()
    uploads([{"prefix": "faces/", "action": "IndexFaces", "collection": "my-collection"}])
    obj = put(SAMPLE_BUCKET, "faces/twice.jpg", astronaut_jpeg())

    assert invoke(event_for(obj)) == {"batchItemFailures": []}
    first = runs(SAMPLE_BUCKET, "faces/twice.jpg")["IndexFaces"]
    assert invoke(event_for(obj, receive_count=2)) == {"batchItemFailures": []}  # S3 and SQS deliver at least once

    assert len(call("ListFaces", {"CollectionId": "my-collection"})[1]["Faces"]) == 1
    again = runs(SAMPLE_BUCKET, "faces/twice.jpg")["IndexFaces"]
    assert (again.updated, again.attempts, again.face_ids) == (first.updated, 1, first.face_ids)


@pytest.mark.models
def test_a_new_upload_of_the_key_is_a_new_object(uploads):
    needs_models()
    uploads([{"prefix": "faces/", "action": "IndexFaces", "collection": "my-collection"}])
    first = put(SAMPLE_BUCKET, "faces/again.jpg", astronaut_jpeg())
    assert invoke(event_for(first)) == {"batchItemFailures": []}
    mirrored = Image.open(io.BytesIO(astronaut_jpeg())).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    mirrored.save(buffer, "JPEG", quality=90)
    second = put(SAMPLE_BUCKET, "faces/again.jpg", buffer.getvalue())

    assert invoke(event_for(second)) == {"batchItemFailures": []}
    assert len(call("ListFaces", {"CollectionId": "my-collection"})[1]["Faces"]) == 2


@pytest.mark.models
def test_failures_are_reported_per_record_recorded_and_retried(uploads):
    needs_models()
    uploads([{"prefix": "faces/", "action": "DetectFaces"}])
    good = put(SAMPLE_BUCKET, "faces/good.jpg", astronaut_jpeg())
    bad = put(SAMPLE_BUCKET, "faces/notes.txt", b"not an image")
    event = event_for(good, bad)

    reply = invoke(event)

    assert reply == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    failed = runs(SAMPLE_BUCKET, "faces/notes.txt")["DetectFaces"]
    assert (failed.status, failed.error_code) == ("FAILED", "InvalidImageFormatException")
    assert failed.error_message == "Request has invalid image format"
    assert runs(SAMPLE_BUCKET, "faces/good.jpg")["DetectFaces"].status == "SUCCEEDED"
    # A failure is not remembered as done: the redelivery (attempt 2) runs again and is recorded.
    assert invoke(event_for(bad, receive_count=2))["batchItemFailures"]
    assert runs(SAMPLE_BUCKET, "faces/notes.txt")["DetectFaces"].attempts == 2


@pytest.mark.models
def test_a_transient_failure_succeeds_on_redelivery(uploads, monkeypatch):
    from recognito.uploads import processor

    needs_models()
    uploads([{"prefix": "faces/", "action": "DetectFaces"}])
    obj = put(SAMPLE_BUCKET, "faces/flaky.jpg", astronaut_jpeg())
    real = processor.resolve_service
    monkeypatch.setattr(processor, "resolve_service", lambda action: _raise(TimeoutError("S3 read timed out")))

    assert invoke(event_for(obj))["batchItemFailures"]
    assert runs(SAMPLE_BUCKET, "faces/flaky.jpg")["DetectFaces"].error_code == "TimeoutError"

    monkeypatch.setattr(processor, "resolve_service", real)
    assert invoke(event_for(obj, receive_count=2)) == {"batchItemFailures": []}
    record = runs(SAMPLE_BUCKET, "faces/flaky.jpg")["DetectFaces"]
    assert (record.status, record.attempts, record.error_code) == ("SUCCEEDED", 2, None)


def _raise(error: Exception):
    raise error


def test_an_action_whose_service_is_missing_fails_each_record_saying_why(uploads, monkeypatch):
    monkeypatch.setitem(rules_module.ACTIONS, "DetectLabels", "recognito.analysis.not_here:detect_labels")
    uploads([{"prefix": "photos/", "action": "DetectLabels"}])
    obj = put(SAMPLE_BUCKET, "photos/cat.jpg", b"\xff\xd8\xff")

    assert invoke(event_for(obj))["batchItemFailures"]
    record = runs(SAMPLE_BUCKET, "photos/cat.jpg")["DetectLabels"]
    assert record.error_code == "ActionUnavailable"
    assert "recognito.analysis.not_here:detect_labels cannot be loaded" in record.error_message


def test_bad_rules_fail_every_record_rather_than_dropping_it(uploads, monkeypatch):
    monkeypatch.setenv(RULES_ENV, '[{"prefix": "faces/", "action": "IndexFaces"}]')
    settings.cache_clear()
    obj = put(SAMPLE_BUCKET, "faces/x.jpg", b"\xff\xd8\xff")
    event = event_for(obj)

    assert invoke(event) == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_objects_no_rule_matches_are_left_alone(uploads):
    uploads([{"prefix": "faces/", "action": "IndexFaces", "collection": "my-collection"}])
    obj = put(SAMPLE_BUCKET, "other/x.jpg", b"whatever")

    assert invoke(event_for(obj)) == {"batchItemFailures": []}
    assert runs(SAMPLE_BUCKET, "other/x.jpg") == {}


def test_an_upload_function_runs_only_the_actions_it_has_models_for(uploads, monkeypatch):
    uploads([{"prefix": "faces/", "action": "DetectFaces"}])
    monkeypatch.setenv(ACTIONS_ENV, "DetectLabels,DetectText,DetectModerationLabels")
    settings.cache_clear()
    obj = put(SAMPLE_BUCKET, "faces/elsewhere.jpg", b"\xff\xd8\xff")

    assert invoke(event_for(obj)) == {"batchItemFailures": []}
    assert runs(SAMPLE_BUCKET, "faces/elsewhere.jpg") == {}


def test_local_rules_must_name_their_bucket():
    from recognito_local.uploads import parse_local_rules

    (rule,) = parse_local_rules('[{"bucket": "photos", "prefix": "", "action": "DetectText"}]', "triggers.json")
    assert rule.bucket == "photos"
    with pytest.raises(UploadConfigError, match="triggers.json: every local rule must name its bucket"):
        parse_local_rules('[{"prefix": "", "action": "DetectText"}]', "triggers.json")


def sample_event() -> dict:
    """events/s3_upload.json: what S3 -> SQS -> Lambda delivers for the sample upload."""
    raw = astronaut_jpeg()
    obj = CreatedObject(SAMPLE_BUCKET, SAMPLE_KEY, size=len(raw), etag=hashlib.md5(raw).hexdigest())  # noqa: S324
    return event_for(obj)


if __name__ == "__main__" and sys.argv[1:] == ["--write-event"]:
    (EVENTS / "s3_upload.json").write_text(json.dumps(sample_event(), indent=2) + "\n")
