"""Kinesis Video's data plane on the local endpoint: PutMedia and GetMedia, MKV over HTTP.

moto serves Kinesis Video's control plane (CreateStream, DescribeStream, GetDataEndpoint) but no
media. Here a stream's media is kept: PutMedia takes a producer's MKV stream (chunked HTTP, as
the Kinesis Video producer libraries send it), cuts it into fragments at its Clusters, numbers
and timestamps them, and answers each with the acknowledgement events Kinesis Video sends
(one JSON object a line); GetMedia answers a StartSelector with the fragments from there on,
each a self-contained MKV with Kinesis Video's tags, waiting for new ones while the stream is
live. GetDataEndpoint answers with this endpoint's own URL, so clients that ask for the data
endpoint, as they must, come back here.

Media is kept in memory (``MAX_FRAGMENTS`` a stream, the oldest dropped first): a restart of
``recognito serve`` starts every stream's media afresh, as a stream with no retention would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recognito.streams import mkv

log = logging.getLogger("recognito_local")

PUT_MEDIA, GET_MEDIA, GET_DATA_ENDPOINT = "/putMedia", "/getMedia", "/getDataEndpoint"
MAX_FRAGMENTS = 3600  # an hour of one-second fragments a stream
IDLE_SECONDS = 3.0  # GetMedia ends its answer after this long without a new fragment
READ_SIZE = 65536
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Fragment:
    number: str
    producer_timestamp: float  # seconds since the epoch
    server_timestamp: float
    timecode: int  # the Cluster's, as the producer wrote it
    ebml: bytes
    info: bytes
    tracks: bytes
    cluster: bytes

    def file(self, continuation: str, latest: float) -> bytes:
        """The fragment as GetMedia sends it; ``latest`` is the server timestamp of the stream's
        newest fragment (MILLIS_BEHIND_NOW: how far this one is behind it, 0 at the live edge)."""
        tags = {
            mkv.FRAGMENT_NUMBER: self.number,
            mkv.SERVER_TIMESTAMP: f"{self.server_timestamp:.3f}",
            mkv.PRODUCER_TIMESTAMP: f"{self.producer_timestamp:.3f}",
            mkv.CONTINUATION_TOKEN: continuation,
            mkv.MILLIS_BEHIND_NOW: str(max(0, int(round((latest - self.server_timestamp) * 1000)))),
        }
        return mkv.fragment_file(self.ebml, self.info, self.tracks, self.cluster, mkv.tags(tags))


@dataclass
class StreamMedia:
    fragments: list[Fragment] = field(default_factory=list)
    next_number: int = 0


class MediaStore:
    """Every stream's fragments, by stream ARN; GetMedia readers wait on ``_arrived``."""

    def __init__(self) -> None:
        self._streams: dict[str, StreamMedia] = {}
        self._arrived = threading.Condition()

    def add(self, arn: str, fragment: Fragment) -> None:
        with self._arrived:
            media = self._streams.setdefault(arn, StreamMedia())
            media.fragments.append(fragment)
            del media.fragments[:-MAX_FRAGMENTS]
            self._arrived.notify_all()

    def number(self, arn: str, server_timestamp: float) -> str:
        """Kinesis Video's fragment numbers are long decimal strings that grow with ingestion."""
        with self._arrived:
            media = self._streams.setdefault(arn, StreamMedia())
            media.next_number += 1
            return f"9134385233318{int(server_timestamp * 1000):016d}{media.next_number:08d}"

    def latest(self, arn: str) -> Fragment:
        """The stream's newest fragment (there is one once fragments_from has yielded one)."""
        with self._arrived:
            return self._streams[arn].fragments[-1]

    def fragments_from(self, arn: str, start: Callable[[list[Fragment]], int]) -> Iterator[Fragment]:
        """The fragments from ``start(fragments)`` on, then each new one, until none comes for
        ``IDLE_SECONDS``."""
        with self._arrived:
            fragments = list(self._streams.setdefault(arn, StreamMedia()).fragments)
        first = start(fragments)
        pending, last = fragments[first:], fragments[first - 1].number if first > 0 else None
        while True:
            yield from pending
            if pending:
                last = pending[-1].number
            with self._arrived:
                media = self._streams[arn]

                def newer() -> list[Fragment]:
                    return [f for f in media.fragments if last is None or int(f.number) > int(last)]  # noqa: B023

                if not self._arrived.wait_for(lambda: bool(newer()), IDLE_SECONDS):
                    return
                pending = newer()


def handles(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in (PUT_MEDIA, GET_MEDIA)


def serve(environ: dict[str, Any], start_response: StartResponse, store: MediaStore) -> Iterable[bytes]:
    """PutMedia or GetMedia; errors as Kinesis Video's (JSON body, ``x-amzn-ErrorType``)."""
    try:
        if environ["PATH_INFO"] == PUT_MEDIA:
            return _put_media(environ, start_response, store)
        return _get_media(environ, start_response, store)
    except MediaError as error:
        body = json.dumps({"message": error.message}).encode()
        start_response(
            f"{error.status} {error.reason}",
            [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", error.code),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


class MediaError(Exception):
    def __init__(self, status: int, reason: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.code, self.message = status, reason, code, message


def _stream_arn(name: str | None, arn: str | None, region: str) -> str:
    """The stream in moto's Kinesis Video backend, by name or ARN."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kinesisvideo.models import kinesisvideo_backends

    if arn:
        parts = arn.split(":")
        if len(parts) < 6:
            raise MediaError(400, "Bad Request", "InvalidArgumentException", f"Invalid stream ARN {arn}")
        region, account = parts[3], parts[4]
    else:
        account = DEFAULT_ACCOUNT_ID
    if not name and not arn:
        raise MediaError(400, "Bad Request", "InvalidArgumentException", "StreamName or StreamARN is required")
    backend = kinesisvideo_backends[account][region]
    found = [s for s in backend.streams.values() if (arn and s.arn == arn) or (not arn and s.stream_name == name)]
    if not found:
        raise MediaError(404, "Not Found", "ResourceNotFoundException", f"Stream {arn or name} not found")
    return found[0].arn


def _region(environ: dict[str, Any]) -> str:
    import os

    from recognito_local.server import DEFAULT_REGION

    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
    return scope[2] if len(scope) > 3 else os.environ.get("AWS_REGION") or DEFAULT_REGION


# ---- PutMedia ------------------------------------------------------------------------------------


def _put_media(environ: dict[str, Any], start_response: StartResponse, store: MediaStore) -> Iterable[bytes]:
    arn = _stream_arn(environ.get("HTTP_X_AMZN_STREAM_NAME"), environ.get("HTTP_X_AMZN_STREAM_ARN"), _region(environ))
    timecode_type = environ.get("HTTP_X_AMZN_FRAGMENT_TIMECODE_TYPE", "ABSOLUTE")
    if timecode_type not in ("ABSOLUTE", "RELATIVE"):
        raise MediaError(
            400, "Bad Request", "InvalidArgumentException", "x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE"
        )
    start = environ.get("HTTP_X_AMZN_PRODUCER_START_TIMESTAMP")
    try:
        producer_start = float(start) if start else time.time()
    except ValueError:
        raise MediaError(
            400, "Bad Request", "InvalidArgumentException", "Invalid x-amzn-producer-start-timestamp"
        ) from None
    start_response("200 OK", [("Content-Type", "application/json")])
    return _acknowledge(environ, arn, timecode_type == "RELATIVE", producer_start, store)


def _acknowledge(
    environ: dict[str, Any], arn: str, relative: bool, producer_start: float, store: MediaStore
) -> Iterator[bytes]:
    """Each Cluster stored as a fragment as soon as it is complete, and acknowledged."""
    parser = mkv.StreamParser()
    parts: dict[int, mkv.Element] = {}
    try:
        for chunk in _body(environ):
            for element in parser.feed(chunk):
                yield from _take(element, parts, arn, relative, producer_start, store)
        for element in parser.close():
            yield from _take(element, parts, arn, relative, producer_start, store)
    except mkv.MkvError as error:
        yield _event("ERROR", ErrorId=4001, ErrorCode="INVALID_MKV_DATA", Message=str(error))
        return
    yield _event("IDLE")


def _take(
    element: mkv.Element, parts: dict[int, mkv.Element], arn: str, relative: bool, start: float, store: MediaStore
) -> Iterator[bytes]:
    if element.id in (mkv.EBML, mkv.INFO, mkv.TRACKS):
        parts[element.id] = element
        return
    if element.id != mkv.CLUSTER:
        return
    if not all(part in parts for part in (mkv.EBML, mkv.INFO, mkv.TRACKS)):
        yield _event(
            "ERROR", ErrorId=4002, ErrorCode="MISSING_TRACK_INFO", Message="A Cluster before the stream's Tracks"
        )
        return
    timecode = mkv.cluster_timecode(element)
    seconds = timecode * mkv.timecode_scale(parts[mkv.INFO]) / 1e9
    now = time.time()
    number = store.number(arn, now)
    fragment = Fragment(
        number,
        start + seconds if relative else seconds,
        now,
        timecode,
        parts[mkv.EBML].data,
        parts[mkv.INFO].data,
        parts[mkv.TRACKS].data,
        element.data,
    )
    store.add(arn, fragment)
    for event_type in ("RECEIVED", "PERSISTED"):
        yield _event(event_type, FragmentTimecode=timecode, FragmentNumber=number)


def _event(event_type: str, **members: Any) -> bytes:
    return json.dumps({"EventType": event_type, **members}).encode() + b"\n"


def _body(environ: dict[str, Any]) -> Iterator[bytes]:
    """The request body as it arrives: chunk by chunk when chunked (a live producer's writes
    reach the parser as they are sent, never held back to fill a buffer), else by reads."""
    stream = environ["wsgi.input"]
    raw = getattr(stream, "_rfile", None)  # werkzeug's DechunkedInput: read the chunks ourselves
    if raw is not None:
        while True:
            line = raw.readline(1024)
            if not line:
                return
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                raw.readline(1024)
                return
            data = raw.read(size)
            raw.readline(16)
            yield data
    else:
        while True:
            data = stream.read(READ_SIZE)
            if not data:
                return
            yield data


# ---- GetMedia ------------------------------------------------------------------------------------


def _get_media(environ: dict[str, Any], start_response: StartResponse, store: MediaStore) -> Iterable[bytes]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except ValueError:
        raise MediaError(400, "Bad Request", "InvalidArgumentException", "The request body is not JSON") from None
    arn = _stream_arn(request.get("StreamName"), request.get("StreamARN"), _region(environ))
    start = _start(request.get("StartSelector") or {})
    start_response("200 OK", [("Content-Type", "video/webm")])
    return (
        fragment.file(continuation=fragment.number, latest=store.latest(arn).server_timestamp)
        for fragment in store.fragments_from(arn, start)
    )


def _start(selector: dict[str, Any]) -> Callable[[list[Fragment]], int]:
    """Where a StartSelector starts, as an index into the stream's fragments."""
    kind = selector.get("StartSelectorType")

    def after(number: str) -> Callable[[list[Fragment]], int]:
        return lambda fragments: next(
            (i for i, f in enumerate(fragments) if int(f.number) > int(number)), len(fragments)
        )

    if kind == "EARLIEST":
        return lambda fragments: 0
    if kind == "NOW":
        return len
    if kind == "CONTINUATION_TOKEN" and str(selector.get("ContinuationToken", "")).isdigit():
        return after(selector["ContinuationToken"])  # our tokens: the last fragment sent
    if kind == "FRAGMENT_NUMBER" and str(selector.get("AfterFragmentNumber", "")).isdigit():
        number = int(selector["AfterFragmentNumber"])
        return lambda fragments: next((i for i, f in enumerate(fragments) if int(f.number) >= number), len(fragments))
    if kind in ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP") and selector.get("StartTimestamp") is not None:
        return _at_time(float(selector["StartTimestamp"]), kind == "PRODUCER_TIMESTAMP")
    raise MediaError(400, "Bad Request", "InvalidArgumentException", f"Invalid StartSelector {json.dumps(selector)}")


def _at_time(when: float, producer: bool) -> Callable[[list[Fragment]], int]:
    """The fragment that holds the moment (the last to start at or before it), else the first:
    by the producer's timestamps, or by when the fragments reached the stream."""

    def start(fragments: list[Fragment]) -> int:
        stamps = [f.producer_timestamp if producer else f.server_timestamp for f in fragments]
        return max([i for i, stamp in enumerate(stamps) if stamp <= when] or [0])

    return start


# ---- GetDataEndpoint -----------------------------------------------------------------------------


def data_endpoint(environ: dict[str, Any], body: bytes) -> bytes:
    """moto's GetDataEndpoint answer with this endpoint's URL: the media is served here."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if "DataEndpoint" in answer:
        answer["DataEndpoint"] = f"http://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
    return json.dumps(answer).encode()


# ---- sessions a restart interrupted --------------------------------------------------------------

INTERRUPTED_MESSAGE = "recognito serve stopped during the session; start the stream processor again."


def end_interrupted_sessions() -> list[str]:
    """Processors left STARTING, RUNNING or STOPPING by a stop of the endpoint have no session
    any more (the media it read is gone too): they end FAILED, saying why."""
    from recognito.storage.tables import StreamProcessorRecord
    from recognito.streams import processors

    moving = (processors.STARTING, processors.RUNNING, processors.STOPPING)
    ended = []
    for record in StreamProcessorRecord.scan(StreamProcessorRecord.status.is_in(*moving)):
        if processors.set_status(record.name, moving, processors.FAILED, INTERRUPTED_MESSAGE):
            ended.append(record.name)
    return ended
