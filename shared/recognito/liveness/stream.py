"""StartFaceLivenessSession: one client connection of Rekognition's streaming API, apart from the
transport that carries it (the local endpoint's WebSocket server, or API Gateway's WebSocket API).

The client opens ``/start-face-liveness-session-websocket`` with a SigV4-presigned query
(``session-id``, ``video-width``, ``video-height``, ``challenge-versions``). The server answers
with a ``ServerSessionInformationEvent`` holding the challenge; the client then streams
``VideoEvent``s (``VideoChunk``: pieces of one WebM recording, ``TimestampMillis``) and
``ClientSessionInformationEvent``s (the video's start and end, the face's initial and target
boxes, each colour as it began showing). When the client ends its stream (the empty signed
message) or sends its last, empty video chunk after reporting ``VideoEndTimestamp``, the server
decides, stores the session's result and sends ``DisconnectionEvent``. Errors are sent as
exception messages (``ValidationException``, ``SessionNotFoundException``, ...) before the
connection closes.

``Recording`` keeps what arrived: in memory locally, in S3 deployed (each message of an API
Gateway WebSocket is its own Lambda invocation).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from recognito.errors import RekognitionError, ValidationException
from recognito.liveness import challenge as challenges
from recognito.liveness import eventstream, presign, sessions
from recognito.liveness.video import MAX_VIDEO_BYTES, Frames

PATH = "/start-face-liveness-session-websocket"
_SESSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_DIMENSION = 4096


class Recording(Protocol):
    """Where a connection's video chunks and client events accumulate."""

    def add_chunk(self, timestamp: int, chunk: bytes) -> int: ...  # returns the bytes kept so far

    def add_event(self, body: dict[str, Any]) -> None: ...

    def video(self) -> bytes: ...

    def events(self) -> list[dict[str, Any]]: ...


class MemoryRecording:
    def __init__(self) -> None:
        self._chunks: list[tuple[int, int, bytes]] = []
        self._events: list[dict[str, Any]] = []
        self._size = 0

    def add_chunk(self, timestamp: int, chunk: bytes) -> int:
        self._chunks.append((timestamp, len(self._chunks), chunk))
        self._size += len(chunk)
        return self._size

    def add_event(self, body: dict[str, Any]) -> None:
        self._events.append(body)

    def video(self) -> bytes:
        return b"".join(chunk for _, _, chunk in sorted(self._chunks))

    def events(self) -> list[dict[str, Any]]:
        return list(self._events)


@dataclass(frozen=True)
class Opened:
    """A connection's session, once accepted."""

    settings: sessions.SessionSettings
    challenge: challenges.ServerChallenge

    def greeting(self) -> bytes:
        return eventstream.event("ServerSessionInformationEvent", self.challenge.event())


def open_session(query: Mapping[str, str]) -> Opened:
    """Check the connection's parameters, draw the challenge and mark the session IN_PROGRESS."""
    session_id = query.get("session-id") or ""
    if not _SESSION_ID.match(session_id):
        raise ValidationException("session-id must be a session's 36-character UUID.")
    width, height = _dimension(query, "video-width"), _dimension(query, "video-height")
    record = sessions.load(session_id)
    settings = sessions.settings_of(record)
    kind, version = challenges.choose(settings.challenges, query.get("challenge-versions") or "")
    challenge = challenges.draw(kind, version, width, height)
    sessions.start(session_id, challenge.stored())
    return Opened(settings, challenge)


def _dimension(query: Mapping[str, str], name: str) -> int:
    try:
        value = int(float(query.get(name) or ""))
    except ValueError:
        raise ValidationException(f"{name} must be a number of pixels.") from None
    if not 1 <= value <= MAX_DIMENSION:
        raise ValidationException(f"{name} must be between 1 and {MAX_DIMENSION}.")
    return value


def receive(data: bytes, recording: Recording, kind: str, chain: presign.Chain | None = None) -> bool:
    """Take one WebSocket message; True when the client's stream has ended. With a ``chain`` (an
    endpoint that checks keys) every message must carry the next signature of it."""
    try:
        messages = list(eventstream.decode(data))
    except eventstream.EventStreamError as error:
        raise ValidationException(str(error)) from None
    ended = False
    for message in messages:
        if chain is not None:
            chain.verify(message)
        try:
            inner = eventstream.unwrap(message)
        except eventstream.EventStreamError as error:
            raise ValidationException(str(error)) from None
        if inner is None:
            return True
        ended = _event(inner, recording, kind) or ended
    return ended


def _event(message: eventstream.Message, recording: Recording, kind: str) -> bool:
    try:
        body = message.json()
    except eventstream.EventStreamError as error:
        raise ValidationException(str(error)) from None
    if message.event_type == "VideoEvent":
        chunk = _chunk(body.get("VideoChunk"))
        if chunk:
            size = recording.add_chunk(int(body.get("TimestampMillis") or 0), chunk)
            if size > MAX_VIDEO_BYTES:
                raise ValidationException("The video is larger than 10 MB.")
            return False
        # An empty chunk after the client reported the video's end is its last word.
        return any(((e.get("Challenge") or {}).get(kind) or {}).get("VideoEndTimestamp") for e in recording.events())
    if message.event_type == "ClientSessionInformationEvent":
        challenges.ClientReport().add(body, kind)  # malformed reports are refused as they arrive
        recording.add_event(body)
        return False
    raise ValidationException(
        f"Unexpected event {message.event_type!r}: a client sends VideoEvent and ClientSessionInformationEvent."
    )


def _chunk(value: Any) -> bytes:
    if value in (None, ""):
        return b""
    if not isinstance(value, str):
        raise ValidationException("VideoChunk must be base64-encoded bytes.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationException("VideoChunk must be base64-encoded bytes.") from None


def report(recording: Recording, kind: str) -> challenges.ClientReport:
    merged = challenges.ClientReport()
    for body in recording.events():
        merged.add(body, kind)
    return merged


def decide_frames(opened: Opened, frames: Frames, client: challenges.ClientReport) -> bool:
    """Decide on decoded frames, store the session's result (images where configured); True if live."""
    from recognito.liveness import decision  # the models: only where the decision runs

    shown = client.color_times(opened.challenge) if opened.challenge.type == challenges.LIGHT else []
    verdict = decision.decide(frames, opened.challenge, shown, opened.settings.audit_images_limit)
    results: dict[str, Any] = {
        "Confidence": verdict.confidence,
        "Challenge": {"Type": opened.challenge.type, "Version": opened.challenge.version},
        "Features": verdict.features,
    }
    if verdict.reference is not None:
        results["ReferenceImage"] = _image(opened, frames, verdict, verdict.reference, "reference")
    results["AuditImages"] = [
        _image(opened, frames, verdict, index, f"audit_images/{n}") for n, index in enumerate(verdict.audits, start=1)
    ]
    sessions.finish(opened.settings.session_id, verdict.live, results)
    return verdict.live


def _image(opened: Opened, frames: Frames, verdict: Any, index: int, name: str) -> dict[str, Any]:
    from recognito.liveness.decision import jpeg

    left, top, width, height = verdict.boxes[index]
    box = {"Width": width, "Height": height, "Left": left, "Top": top}
    return sessions.store_image(opened.settings, name, jpeg(frames.rgb[index]), box)


def conclude(opened: Opened, recording: Recording) -> bytes:
    """Decode the recording, decide, and return the ``DisconnectionEvent`` (in-process: local)."""
    from recognito.liveness.video import decode

    client = report(recording, opened.challenge.type)
    decide_frames(opened, decode(recording.video()), client)
    return disconnection()


def disconnection() -> bytes:
    return eventstream.event("DisconnectionEvent", {"TimestampMillis": int(time.time() * 1000)})


def refusal(error: Exception) -> bytes:
    """The exception message for an error: modelled ones by code, anything else as internal."""
    if isinstance(error, RekognitionError) and error.status < 500:
        return eventstream.exception(error.code, error.message)
    return eventstream.exception("InternalServerException", "Internal server error")


def restore(stored_session: Any) -> Opened:
    """The ``Opened`` of an IN_PROGRESS session, from its record (deployed: a later invocation)."""
    return Opened(sessions.settings_of(stored_session), challenges.restore(json.loads(stored_session.challenge)))
