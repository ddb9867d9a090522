"""Stored video jobs through `recognito serve` with stock boto3, as a user's code runs them:
an SNS topic with an SQS queue subscribed, start_segment_detection with the NotificationChannel,
wait for the message, then get_segment_detection page by page."""

from __future__ import annotations

import json
import time

import pytest
from video_clips import JOIN_FRAME, RATE, joined_clip

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 120


@pytest.fixture(scope="module")
def clip_in_s3(endpoint, s3, tmp_path_factory):
    path = joined_clip(tmp_path_factory.mktemp("video") / "joined.mp4")
    s3.create_bucket(Bucket="e2e-videos")
    s3.upload_file(str(path), "e2e-videos", "joined.mp4")
    return {"S3Object": {"Bucket": "e2e-videos", "Name": "joined.mp4"}}


@pytest.fixture(scope="module")
def channel(aws_client):
    sns, sqs, iam = (aws_client(name) for name in ("sns", "sqs", "iam"))
    topic = sns.create_topic(Name="AmazonRekognition-e2e")["TopicArn"]
    queue = sqs.create_queue(QueueName="rekognition-e2e")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="rekognition-e2e", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return {"SNSTopicArn": topic, "RoleArn": role}, sqs, queue


def _message_for(sqs, queue: str, job_id: str) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(json.loads(message["Body"])["Message"])  # SNS's envelope, then Rekognition's
            if body["JobId"] == job_id:
                return body
    raise AssertionError(f"no SNS message for job {job_id} within {WAIT_SECONDS} s")


def test_segment_job_end_to_end(rekognition, clip_in_s3, channel):
    notification, sqs, queue = channel
    job_id = rekognition.start_segment_detection(
        Video=clip_in_s3,
        NotificationChannel=notification,
        JobTag="e2e",
        SegmentTypes=["SHOT", "TECHNICAL_CUE"],
    )["JobId"]
    message = _message_for(sqs, queue, job_id)
    assert message["Status"] == "SUCCEEDED" and message["API"] == "StartSegmentDetection"
    assert message["JobTag"] == "e2e" and message["Video"] == {"S3ObjectName": "joined.mp4", "S3Bucket": "e2e-videos"}

    segments, token = [], None
    while True:
        page = rekognition.get_segment_detection(JobId=job_id, MaxResults=2, **({"NextToken": token} if token else {}))
        assert page["JobStatus"] == "SUCCEEDED"
        segments += page["Segments"]
        token = page.get("NextToken")
        if not token:
            break
    shots = [s["StartFrameNumber"] for s in segments if s["Type"] == "SHOT"]
    assert any(abs(start - JOIN_FRAME) <= 2 for start in shots), shots
    assert any(s["Type"] == "TECHNICAL_CUE" for s in segments)
    assert page["VideoMetadata"][0]["Codec"] == "h264"


def test_media_analysis_job_end_to_end(rekognition, s3):
    """StartMediaAnalysisJob with stock boto3: the job SUCCEEDS, lists, and its output manifest
    in the bucket holds DetectModerationLabels' answer for each image."""
    import io

    from PIL import Image
    from skimage import data

    s3.create_bucket(Bucket="e2e-bulk")
    for name in ("astronaut", "coffee"):
        jpeg = io.BytesIO()
        Image.fromarray(getattr(data, name)()).save(jpeg, "JPEG", quality=90)
        s3.put_object(Bucket="e2e-bulk", Key=f"images/{name}.jpg", Body=jpeg.getvalue())
    lines = [json.dumps({"source-ref": f"s3://e2e-bulk/images/{name}.jpg"}) for name in ("astronaut", "coffee")]
    s3.put_object(Bucket="e2e-bulk", Key="manifest.jsonl", Body="\n".join(lines).encode())
    job_id = rekognition.start_media_analysis_job(
        JobName="e2e",
        OperationsConfig={"DetectModerationLabels": {"MinConfidence": 50}},
        Input={"S3Object": {"Bucket": "e2e-bulk", "Name": "manifest.jsonl"}},
        OutputConfig={"S3Bucket": "e2e-bulk", "S3KeyPrefix": "out"},
    )["JobId"]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = rekognition.get_media_analysis_job(JobId=job_id)
        if job["Status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.5)
    assert job["Status"] == "SUCCEEDED", job
    assert job["CompletionTimestamp"] >= job["CreationTimestamp"]
    assert job_id in [j["JobId"] for j in rekognition.list_media_analysis_jobs()["MediaAnalysisJobs"]]
    results = job["Results"]["S3Object"]
    written = s3.get_object(Bucket=results["Bucket"], Key=results["Name"])["Body"].read().decode().splitlines()
    assert len(written) == 2
    for line in map(json.loads, written):
        image = {"S3Object": {"Bucket": "e2e-bulk", "Name": line["source-ref"].removeprefix("s3://e2e-bulk/")}}
        direct = rekognition.detect_moderation_labels(Image=image, MinConfidence=50)
        direct.pop("ResponseMetadata")
        assert line["detect-moderation-labels"] == direct
    summary = job["ManifestSummary"]["S3Object"]
    statistics = json.loads(s3.get_object(Bucket=summary["Bucket"], Key=summary["Name"])["Body"].read())["statistics"]
    assert statistics == {"total-json-lines": 2, "valid-json-lines": 2, "invalid-json-lines": 0}


def test_a_job_killed_under_way_resumes_after_the_restart(endpoint, rekognition, clip_in_s3):
    """A face job (18 frames through the face pipeline: seconds) under way when the endpoint is
    killed (SIGKILL: no chance to save) runs again after the restart and SUCCEEDS, with the faces
    an uninterrupted run finds: the man's, only before the join."""
    job_id = rekognition.start_face_detection(Video=clip_in_s3)["JobId"]
    assert rekognition.get_face_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    endpoint.kill()
    endpoint.start()
    assert "run again" in endpoint.log()
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        body = rekognition.get_face_detection(JobId=job_id)
        if body["JobStatus"] != "IN_PROGRESS":
            break
        time.sleep(0.5)
    assert body["JobStatus"] == "SUCCEEDED", body
    join_ms = JOIN_FRAME * 1000 // RATE
    stamps = sorted({face["Timestamp"] for face in body["Faces"]})
    assert stamps == list(range(0, join_ms, 200)), stamps
