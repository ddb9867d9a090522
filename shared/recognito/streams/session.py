"""A stream processor's session: the steps of ``statemachines/stream_processor.asl.json``.

``begin`` marks the processor RUNNING; ``read`` takes the next stretch of the Kinesis video
stream with GetMedia (from the StartSelector, then from the last fragment read), decodes it
with PyAV and samples frames to S3 for the analysis step (PyAV and the models do not fit one
Lambda); ``end`` marks it STOPPED and, for connected home, sends the session's end message;
``fail`` marks it FAILED. Each read is bounded (``READ_SECONDS``) so a session of any length is
a loop of short Lambda invocations; at the live edge it returns as soon as one fragment has been
read, so a frame waits for its own fragment, never for a batch. Behind it (the fragment's
``AWS_KINESISVIDEO_MILLIS_BEHIND_NOW`` says newer fragments are already in the stream) it goes on
with the fragments already there, up to ``MAX_READ_FRAMES``: a session that has fallen behind
then pays the loop's fixed cost (GetDataEndpoint, GetMedia, the state transitions, the collection
read) once for several fragments, and catches up.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from recognito.errors import ResourceNotFoundException
from recognito.streams import batches, mkv, processors
from recognito.video import jobs

READ_SECONDS = 5.0  # the longest a read waits for media (and a Stop for the read) before the loop goes on
SAMPLES_PER_SECOND = 2.0  # frames analysed per second of stream (Rekognition analyses some, not all)
MAX_READ_FRAMES = 10  # a read that is catching up stops here: 5 s of stream, one bounded analysis
SAMPLE_MAX_SIDE = 960  # as stored video's samples (recognito.video.decoding)
JPEG_QUALITY = 92
READS_PER_EXECUTION = 1000  # about 14,000 of a Standard execution's 25,000 history events
STREAM_STALLED_GRACE = 10.0  # connected home: a stream silent for MaxDuration and this long has ended


def begin(event: dict[str, Any]) -> dict[str, Any]:
    """STARTING -> RUNNING, once the input stream is known to exist."""
    if event.get("Resume"):  # a renewed execution (``renew``): the session goes on where it was
        return {key: event[key] for key in ("Name", "SessionId", "Kind", "Position")}
    record = processors.load(event["Name"])
    stream_arn = processors.config(record)["Input"]["KinesisVideoStream"]["Arn"]
    kinesis_video = jobs.client("kinesisvideo")
    try:
        kinesis_video.describe_stream(StreamARN=stream_arn)
    except kinesis_video.exceptions.ResourceNotFoundException:
        raise StreamError(f"The Kinesis video stream {stream_arn} does not exist") from None
    processors.set_status(record.name, (processors.STARTING,), processors.RUNNING)
    return {**event, "Position": {"BeganAt": time.time(), "Reads": 0}}


class StreamError(Exception):
    """The session cannot go on; its message becomes the processor's StatusMessage."""


def read(event: dict[str, Any]) -> dict[str, Any]:
    """The next fragment's sampled frames, zipped to S3 with where each came from."""
    record = processors.load(event["Name"])
    position = dict(event["Position"])
    done = {**event, "Frames": 0, "Continue": False, "Renew": False}
    if record.session_id != event["SessionId"] or record.status != processors.RUNNING:
        return done  # stopped (or started anew): this session ends here
    configuration = processors.config(record)
    session = json.loads(record.session or "{}")
    limit = _limit_millis(session)
    silent = time.time() - position.get("MediaAt", position["BeganAt"])
    if limit is not None and silent > limit / 1000 + STREAM_STALLED_GRACE:
        return done  # no media for longer than the whole session was to take: the stream has stopped
    stream_arn = configuration["Input"]["KinesisVideoStream"]["Arn"]
    frames, position, ended = _read_fragment(stream_arn, _selector(session, position), position, limit)
    position["Reads"] += 1
    event = {**event, "Renew": not ended and _renewing(position)}
    if not frames:
        return {**event, "Position": position, "Frames": 0, "Continue": not ended}
    key = f"streams/{record.name}/{event['SessionId']}/{position['Reads']:08d}.zip"
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=batches.archive(frames))
    return {**event, "Position": position, "Key": key, "Frames": len(frames), "Continue": not ended}


def _renewing(position: dict[str, Any]) -> bool:
    return position["Reads"] % READS_PER_EXECUTION == 0


def renew(event: dict[str, Any]) -> dict[str, Any]:
    """Go on in a new execution of the state machine, from the same position: a Standard
    execution's history holds 25,000 events, about 14 a read, so a session that runs for hours
    is a chain of executions (named ``<SessionId>-<n>``), each ending where the next begins."""
    generation = event["Position"]["Reads"] // READS_PER_EXECUTION + 1
    state = {key: event[key] for key in ("Name", "SessionId", "Kind", "Position")}
    jobs.client("stepfunctions").start_execution(
        stateMachineArn=processors.state_machine_arn(),
        name=f"{event['SessionId']}-{generation}",
        input=json.dumps({**state, "Resume": True}),
    )
    return {**state, "Renewed": generation}


def _limit_millis(session: dict[str, Any]) -> int | None:
    """Connected home's MaxDurationInSeconds, in ms of stream from the first frame read."""
    seconds = session.get("MaxDurationInSeconds")
    return None if seconds is None else int(seconds) * 1000


def _selector(session: dict[str, Any], position: dict[str, Any]) -> dict[str, Any]:
    """GetMedia's StartSelector: after the last fragment read; at first, the session's
    KVSStreamStartSelector (connected home), or what reached the stream since the session
    began (face search: the live stream, without losing what came while it started)."""
    if position.get("Token"):
        return {"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": position["Token"]}
    start = session.get("Start") or {}
    if start.get("FragmentNumber"):
        return {"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": start["FragmentNumber"]}
    if start.get("ProducerTimestamp") is not None:
        when = datetime.fromtimestamp(int(start["ProducerTimestamp"]) / 1000, UTC)
        return {"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": when}
    return {"StartSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": datetime.fromtimestamp(position["BeganAt"], UTC)}


def media_client(stream_arn: str, read_timeout: float = READ_SECONDS) -> Any:
    """A GetMedia client on the stream's data endpoint (GetDataEndpoint, as Kinesis Video requires)."""
    import boto3
    from botocore.config import Config

    endpoint = jobs.client("kinesisvideo").get_data_endpoint(StreamARN=stream_arn, APIName="GET_MEDIA")["DataEndpoint"]
    config = Config(read_timeout=read_timeout, retries={"max_attempts": 2})
    return boto3.client("kinesis-video-media", endpoint_url=endpoint, config=config)


def _read_fragment(
    stream_arn: str, selector: dict[str, Any], position: dict[str, Any], limit: int | None
) -> tuple[list[tuple[dict[str, Any], bytes]], dict[str, Any], bool]:
    """Read GetMedia until one fragment gives frames, the stream ends, or ``READ_SECONDS``.
    Returns the frames (metadata, JPEG), the new position, and whether the session is over."""
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    deadline = time.monotonic() + READ_SECONDS
    payload = media_client(stream_arn).get_media(StreamARN=stream_arn, StartSelector=selector)["Payload"]
    raw = payload._raw_stream  # urllib3's response: read1 hands over what has arrived, no more waiting
    parser, fragments = mkv.StreamParser(), FragmentAssembler()
    frames: list[tuple[dict[str, Any], bytes]] = []
    try:
        while time.monotonic() < deadline:
            chunk = raw.read1(65536) if hasattr(raw, "read1") else raw.read(4096)
            if not chunk:
                break
            for element in parser.feed(chunk):
                fragment = fragments.add(element)
                if fragment is None:
                    continue
                position["Token"] = fragment.continuation or fragment.number
                position["MediaAt"] = time.time()
                found, over = _sample(fragment, position, limit)
                frames += found
                if over:
                    return frames, position, True
                if frames and (fragment.millis_behind_now <= 0 or len(frames) >= MAX_READ_FRAMES):
                    return frames, position, False
    except (ReadTimeoutError, ProtocolError, TimeoutError):
        pass  # nothing more within the read's time: the loop asks again
    finally:
        payload.close()
    return frames, position, False


class Fragment:
    """One fragment of GetMedia's output: a self-contained MKV and the tags naming it."""

    def __init__(self, data: bytes, tags: dict[str, str], start_seconds: float) -> None:
        self.data = data
        self.number = tags.get(mkv.FRAGMENT_NUMBER, "")
        self.continuation = tags.get(mkv.CONTINUATION_TOKEN)
        self.server_timestamp = float(tags.get(mkv.SERVER_TIMESTAMP) or 0)
        self.producer_timestamp = float(tags.get(mkv.PRODUCER_TIMESTAMP) or 0)
        self.millis_behind_now = int(tags.get(mkv.MILLIS_BEHIND_NOW) or 0)  # from the latest fragment
        self.start_seconds = start_seconds  # the Cluster's timecode: frame offsets count from it


class FragmentAssembler:
    """Rebuilds each fragment from GetMedia's elements: the header elements of its MKV, its
    Tags (before the Cluster, as recognito's data plane and Kinesis Video write them), its Cluster."""

    def __init__(self) -> None:
        self._parts: dict[int, mkv.Element] = {}
        self._tags: dict[str, str] = {}

    def add(self, element: mkv.Element) -> Fragment | None:
        if element.id in (mkv.EBML, mkv.INFO, mkv.TRACKS):
            if element.id == mkv.EBML:
                self._tags = {}
            self._parts[element.id] = element
        elif element.id == mkv.TAGS:
            self._tags.update(mkv.tag_values(element))
        elif element.id == mkv.CLUSTER and all(part in self._parts for part in (mkv.EBML, mkv.INFO, mkv.TRACKS)):
            info = self._parts[mkv.INFO]
            scale = mkv.timecode_scale(info)
            data = mkv.fragment_file(self._parts[mkv.EBML].data, info.data, self._parts[mkv.TRACKS].data, element.data)
            return Fragment(data, dict(self._tags), mkv.cluster_timecode(element) * scale / 1e9)
        return None


def _sample(
    fragment: Fragment, position: dict[str, Any], limit: int | None
) -> tuple[list[tuple[dict[str, Any], bytes]], bool]:
    """The fragment's frames on the sampling grid (every 1/``SAMPLES_PER_SECOND`` s of producer
    time from the session's first frame, continued across fragments), as JPEG; True once past
    the session's MaxDuration."""
    import av

    found: list[tuple[dict[str, Any], bytes]] = []
    try:
        container = av.open(io.BytesIO(fragment.data), format="matroska")
    except av.FFmpegError:
        return found, False  # not a video we can open: skipped, as a decoder error would be
    with container:
        if not container.streams.video:
            return found, False
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                offset = max(0.0, float(frame.pts * stream.time_base) - fragment.start_seconds)
                producer_millis = int(round((fragment.producer_timestamp + offset) * 1000))
                position.setdefault("FirstMillis", producer_millis)
                if limit is not None and producer_millis - position["FirstMillis"] >= limit:
                    return found, True
                position["LastMillis"] = producer_millis
                slot = int((producer_millis - position["FirstMillis"]) * SAMPLES_PER_SECOND // 1000)
                if slot <= position.get("LastSlot", -1):
                    continue
                position["LastSlot"] = slot
                found.append((_frame_info(fragment, offset, frame), _jpeg(frame)))
        except av.FFmpegError:
            pass  # a damaged fragment: what decoded before the damage still counts
    return found, False


def _frame_info(fragment: Fragment, offset: float, frame: Any) -> dict[str, Any]:
    """Where the frame is, in the words of Rekognition's InputInformation.KinesisVideo."""
    return {
        "FragmentNumber": fragment.number,
        "ServerTimestamp": fragment.server_timestamp,
        "ProducerTimestamp": fragment.producer_timestamp,
        "FrameOffsetInSeconds": round(offset, 3),
    }


def _jpeg(frame: Any) -> bytes:
    scale = min(1.0, SAMPLE_MAX_SIDE / max(frame.width, frame.height))
    image = (
        frame.to_image()
        if scale >= 1.0
        else frame.reformat(
            width=round(frame.width * scale), height=round(frame.height * scale), format="rgb24", interpolation="AREA"
        ).to_image()
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def end(event: dict[str, Any]) -> dict[str, Any]:
    """RUNNING or STOPPING -> STOPPED; connected home says so on SNS and in S3."""
    if event.get("Kind") == processors.CONNECTED_HOME:
        from recognito.streams.connected_home import session_ended

        session_ended(event)
    _settle(event, processors.STOPPED, None)
    return {"Name": event["Name"], "SessionId": event["SessionId"], "Status": processors.STOPPED}


def fail(event: dict[str, Any]) -> dict[str, Any]:
    """Any failure of the session: FAILED, with the error's message as StatusMessage."""
    error = event.get("Error") or {}
    try:
        cause = json.loads(error.get("Cause") or "{}").get("errorMessage")
    except (ValueError, AttributeError):
        cause = None
    message = cause or error.get("Cause") or error.get("Error") or "Stream processing failed"
    _settle(event, processors.FAILED, str(message)[:1000])
    return {"Name": event["Name"], "SessionId": event["SessionId"], "Status": processors.FAILED}


def _settle(event: dict[str, Any], status: str, message: str | None) -> None:
    """The session's last word, unless the processor has since started another session."""
    try:
        record = processors.load(event["Name"])
    except ResourceNotFoundException:
        return
    if record.session_id == event["SessionId"]:
        moving = (processors.STARTING, processors.RUNNING, processors.STOPPING)
        processors.set_status(record.name, moving, status, message)
