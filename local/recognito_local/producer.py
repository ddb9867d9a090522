"""``recognito put-media``: a Kinesis Video producer for a video file.

It does what a camera with the Kinesis Video producer library does: encodes the video as H.264
in MKV with a keyframe every second (each Cluster, a fragment, starts on one), and sends it with
PutMedia as one chunked HTTP request to the stream's data endpoint (GetDataEndpoint), SigV4
signed, timecodes RELATIVE to the producer start timestamp. ``realtime`` paces the frames as a
camera would deliver them (a 10 s clip takes 10 s); otherwise as fast as they encode.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MUXER_OPTIONS = {"cluster_size_limit": "33554432", "cluster_time_limit": "60000"}
"""Clusters only at keyframes (FFmpeg's muxer would otherwise cut them by size and time too)."""


class _Sink:
    """A write-only, unseekable file for FFmpeg's muxer: it then writes each Cluster whole, as a
    live muxer must, with the Segment's size unknown."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def seekable(self) -> bool:
        return False

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def mkv_stream(path: Path, realtime: bool = False, started: float | None = None) -> Iterator[bytes]:
    """The video re-encoded as a live MKV stream, in the pieces the muxer writes; with
    ``realtime``, each frame is encoded no earlier than ``started`` plus its time in the video."""
    import av

    sink = _Sink()
    started = time.time() if started is None else started
    with av.open(str(path)) as source, av.open(sink, "w", format="matroska", options=MUXER_OPTIONS) as output:
        video = source.streams.video[0]
        rate = Fraction(video.average_rate or video.guessed_rate or 25)
        encoder = output.add_stream("libx264", rate=rate)
        encoder.width, encoder.height = video.codec_context.width // 2 * 2, video.codec_context.height // 2 * 2
        encoder.pix_fmt = "yuv420p"
        gop = str(max(1, round(rate)))
        encoder.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": "0",
        }
        for index, frame in enumerate(source.decode(video)):
            if realtime:
                time.sleep(max(0.0, started + float(index / rate) - time.time()))
            picture = frame.reformat(width=encoder.width, height=encoder.height, format="yuv420p")
            picture.pts, picture.time_base = index, 1 / rate
            for packet in encoder.encode(picture):
                output.mux(packet)
            if sink.chunks:
                yield sink.take()
        for packet in encoder.encode():
            output.mux(packet)
    if sink.chunks:
        yield sink.take()


def put_media(
    stream_name: str,
    path: Path,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    realtime: bool = False,
) -> tuple[float, list[dict[str, Any]]]:
    """Send the video to the stream; returns the producer start timestamp and Kinesis Video's
    acknowledgements (RECEIVED and PERSISTED per fragment, with its FragmentNumber)."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    session = boto3.Session(region_name=region)
    control = session.client("kinesisvideo", endpoint_url=endpoint_url)
    endpoint = control.get_data_endpoint(StreamName=stream_name, APIName="PUT_MEDIA")["DataEndpoint"]
    started = time.time()
    headers = {
        "x-amzn-stream-name": stream_name,
        "x-amzn-fragment-timecode-type": "RELATIVE",
        "x-amzn-producer-start-timestamp": f"{started:.3f}",
        "Transfer-Encoding": "chunked",
        "Content-Type": "application/octet-stream",
    }
    request = AWSRequest(method="POST", url=f"{endpoint}/putMedia", headers=headers)
    credentials = session.get_credentials()
    if credentials is not None:
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"  # a live body is not hashed ahead
        SigV4Auth(credentials.get_frozen_credentials(), "kinesisvideo", session.region_name).add_auth(request)
    url = urlsplit(endpoint)
    connection_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(url.netloc, timeout=60)
    try:
        connection.request(
            "POST",
            "/putMedia",
            body=mkv_stream(path, realtime, started),
            headers=dict(request.headers.items()),
            encode_chunked=True,
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"PutMedia answered {response.status}: {body.decode(errors='replace')}")
    return started, [json.loads(line) for line in body.splitlines() if line.strip()]


def add_put_media_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "put-media",
        help="send a video file to a Kinesis video stream with PutMedia (as a camera would)",
        description="Encode a video file as H.264 in MKV (a fragment a second) and send it to a Kinesis "
        "video stream with PutMedia, on the endpoint of AWS_ENDPOINT_URL or --endpoint-url.",
    )
    parser.add_argument("stream", help="the Kinesis video stream's name")
    parser.add_argument("video", type=Path, help="the video file (any format FFmpeg reads)")
    parser.add_argument("--endpoint-url", default=None, help="the Kinesis Video endpoint (default: AWS_ENDPOINT_URL)")
    parser.add_argument("--region", default=None, help="the region (default: the AWS configuration's)")
    parser.add_argument(
        "--realtime", action="store_true", help="send the frames at the video's own pace, as a live camera does"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if not args.video.is_file():
        print(f"recognito put-media: no such file {args.video}", file=sys.stderr)
        return 1
    try:
        _, acks = put_media(
            args.stream, args.video, endpoint_url=args.endpoint_url, region=args.region, realtime=args.realtime
        )
    except Exception as error:  # noqa: BLE001 - a command line reports, never tracebacks
        print(f"recognito put-media: {error}", file=sys.stderr)
        return 1
    persisted = [ack for ack in acks if ack.get("EventType") == "PERSISTED"]
    errors = [ack for ack in acks if ack.get("EventType") == "ERROR"]
    for ack in persisted:
        print(f"fragment {ack['FragmentNumber']} at {ack['FragmentTimecode']} ms persisted")
    for ack in errors:
        print(f"error {ack.get('ErrorCode')}: {ack.get('Message', '')}", file=sys.stderr)
    return 1 if errors else 0
