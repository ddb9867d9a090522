"""AWS event-stream messages (``application/vnd.amazon.eventstream``), as the streaming API frames
each WebSocket message.

A message is a prelude (total length, headers length, CRC32 of those 8 bytes), typed headers, the
payload and a CRC32 of everything before it. botocore's decoder reads them (it checks both CRCs);
it has no encoder, so ``encode`` is here, for the header types this API uses.

The SDK clients sign every message they send: the event (``:message-type`` ``event``,
``:event-type``, ``:content-type``) travels as the payload of an outer message that carries only
``:date`` and ``:chunk-signature``; ``unwrap`` takes it out. An outer message with an empty payload
ends the stream. ``recognito.liveness.presign.Chain`` checks those signatures.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError
from botocore.exceptions import BotoCoreError

HeaderValue = str | bytes | int | bool | datetime

_STRING, _BYTES, _TIMESTAMP, _INT32, _TRUE, _FALSE = 7, 6, 8, 4, 0, 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventStreamError(ValueError):
    """Bytes that are not a well-formed event-stream message."""


@dataclass(frozen=True)
class Message:
    headers: dict[str, HeaderValue]
    payload: bytes

    @property
    def event_type(self) -> str | None:
        value = self.headers.get(":event-type") or self.headers.get(":exception-type")
        return value if isinstance(value, str) else None

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.payload or b"{}")
        except ValueError:
            raise EventStreamError(f"{self.event_type} payload is not JSON") from None
        if not isinstance(value, dict):
            raise EventStreamError(f"{self.event_type} payload is not a JSON object")
        return value


def encode(headers: Mapping[str, HeaderValue], payload: bytes) -> bytes:
    """One message: headers in the given order, payload as is."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack(">I", zlib.crc32(body))


def _header(name: str, value: HeaderValue) -> bytes:
    key = name.encode("utf-8")
    head = struct.pack(">B", len(key)) + key
    if isinstance(value, bool):
        return head + struct.pack(">B", _TRUE if value else _FALSE)
    if isinstance(value, int):
        return head + struct.pack(">Bi", _INT32, value)
    if isinstance(value, datetime):  # milliseconds by integer arithmetic: a float can lose one
        return head + struct.pack(">Bq", _TIMESTAMP, (value - EPOCH) // timedelta(milliseconds=1))
    data, kind = (value, _BYTES) if isinstance(value, bytes) else (value.encode("utf-8"), _STRING)
    return head + struct.pack(">BH", kind, len(data)) + data


def date_header(millis: int) -> bytes:
    """The encoded ``:date`` header alone, as a message's signature hashes it (botocore decodes a
    timestamp header to its milliseconds, so this is built from them)."""
    return _header(":date", EPOCH + timedelta(milliseconds=millis))


def event(event_type: str, body: Mapping[str, Any]) -> bytes:
    """A JSON event of the streaming API, as the server sends it (unsigned)."""
    headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
    return encode(headers, json.dumps(body, separators=(",", ":")).encode("utf-8"))


def exception(code: str, message: str) -> bytes:
    """A modelled exception event (``ValidationException``, ``SessionNotFoundException``, ...)."""
    headers = {":message-type": "exception", ":exception-type": code, ":content-type": "application/json"}
    return encode(headers, json.dumps({"Message": message}).encode("utf-8"))


def decode(data: bytes) -> Iterator[Message]:
    """The messages in ``data`` (one WebSocket message may hold several); all of it must parse."""
    buffer = EventStreamBuffer()
    try:
        buffer.add_data(data)
        for message in buffer:
            yield _message(message)
    except (ParserError, BotoCoreError, struct.error) as error:
        raise EventStreamError(f"not an event-stream message: {error}") from None
    if buffer._data:  # noqa: SLF001 - botocore keeps a partial message here; ours must be whole
        raise EventStreamError("truncated event-stream message")


def _message(message: EventStreamMessage) -> Message:
    return Message(headers=dict(message.headers), payload=bytes(message.payload))


def unwrap(message: Message) -> Message | None:
    """The event inside a signed envelope; None for the empty envelope that ends the stream.
    A message without a signature is taken as the event itself (unsigned clients)."""
    if ":chunk-signature" not in message.headers:
        return message
    if not message.payload:
        return None
    inner = list(decode(message.payload))
    if len(inner) != 1:
        raise EventStreamError("a signed envelope must hold exactly one message")
    return inner[0]


def wrap(inner: bytes, date: datetime, signature: bytes) -> bytes:
    """A signed envelope around an encoded message (the client's side: tests and the bench)."""
    return encode({":date": date, ":chunk-signature": signature}, inner)
