"""What the stream processor operations' sample events (events/*stream_processor*.json) need
first: the processors they name ("front-door", face search on my-collection; "porch", connected
home), the state machine a session starts in, and for StopStreamProcessor a started session."""

from __future__ import annotations

import boto3
from conftest import call

OPERATIONS = {
    "describe_stream_processor",
    "start_stream_processor",
    "stop_stream_processor",
    "update_stream_processor",
    "delete_stream_processor",
}
ROLE = "arn:aws:iam::123456789012:role/rekognition-streams"
VIDEO = {"KinesisVideoStream": {"Arn": "arn:aws:kinesisvideo:us-east-1:123456789012:stream/front-door/1598784211076"}}


def prepare(name: str) -> None:
    face_search = {
        "Name": "front-door",
        "Input": VIDEO,
        "Output": {"KinesisDataStream": {"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/front-door-faces"}},
        "Settings": {"FaceSearch": {"CollectionId": "my-collection"}},
        "RoleArn": ROLE,
    }
    connected_home = {
        "Name": "porch",
        "Input": VIDEO,
        "Output": {"S3Destination": {"Bucket": "porch-events"}},
        "Settings": {"ConnectedHome": {"Labels": ["ALL"]}},
        "NotificationChannel": {"SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:porch"},
        "RoleArn": ROLE,
    }
    for request in (face_search, connected_home):
        assert call("CreateStreamProcessor", request)[0] == 200
    if name in ("start_stream_processor", "stop_stream_processor"):
        boto3.client("stepfunctions").create_state_machine(
            name="recognito-stream-processors",
            definition='{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}',
            roleArn=ROLE,
        )
    if name == "stop_stream_processor":
        assert call("StartStreamProcessor", {"Name": "front-door"})[0] == 200
