"""A scripted Face Liveness client: what Amplify's FaceLivenessDetector does on the wire, without
a browser. It presigns the WebSocket URL with botocore's SigV4 query signer, opens the socket
(wsproto), reads the server's challenge, and streams a recorded video as signed event-stream
messages (``VideoEvent`` chunks, ``ClientSessionInformationEvent``s with the times it showed each
colour), then ends the stream and waits for ``DisconnectionEvent``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from recognito.liveness import eventstream
from recognito.liveness.stream import PATH
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request

CHUNK_BYTES = 64 * 1024
REGION = "us-east-1"


def presigned_url(endpoint: str, query: dict[str, str], key: str = "test", secret: str = "test") -> str:
    """The URL as the SDK presigns it: the parameters in the query, signed for ``host``."""
    request = AWSRequest(method="GET", url=f"{endpoint}{PATH}?{urlencode(query)}")
    SigV4QueryAuth(Credentials(key, secret), "rekognition", REGION, expires=299).add_auth(request)
    return request.url


def signed(inner: bytes, prior: bytes, secret: str = "test", when: datetime | None = None) -> bytes:
    """A message in its signed envelope (the SDK's event-stream signing: each signature chains on
    the one before, starting from the URL's)."""
    when = when or datetime.now(UTC)
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{REGION}/rekognition/aws4_request"
    date_header = eventstream.encode({":date": when}, b"")[12:-4]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            stamp,
            scope,
            prior.hex(),
            hashlib.sha256(date_header).hexdigest(),
            hashlib.sha256(inner).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for part in (stamp[:8], REGION, "rekognition", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).digest()
    return eventstream.wrap(inner, when, signature)


@dataclass
class LivenessClient:
    url: str
    sock: socket.socket = field(init=False)
    ws: WSConnection = field(init=False)
    prior: bytes = b""
    _backlog: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=300)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=parts.netloc, target=f"{parts.path}?{parts.query}")))
        self.prior = bytes.fromhex(dict(p.split("=", 1) for p in parts.query.split("&"))["X-Amz-Signature"])
        for event in self._events():
            if isinstance(event, AcceptConnection):
                return
        raise ConnectionError("the server did not accept the WebSocket")

    def _events(self) -> Iterator[Any]:
        """wsproto's events, as they come; those read past what a caller took wait in ``_backlog``."""
        while self._backlog:
            yield self._backlog.pop(0)
        while True:
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self._backlog.extend(self.ws.events())
            while self._backlog:
                yield self._backlog.pop(0)
            if not data:
                return

    def receive(self) -> eventstream.Message | None:
        """The server's next message; None once it has closed."""
        buffer = b""
        for event in self._events():
            if isinstance(event, BytesMessage):
                buffer += event.data
                if event.message_finished:
                    (message,) = eventstream.decode(buffer)
                    return message
            elif isinstance(event, CloseConnection):
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    self.sock.sendall(self.ws.send(event.response()))
                return None
        return None

    def send(self, inner: bytes) -> None:
        envelope = signed(inner, self.prior)
        (outer,) = eventstream.decode(envelope)
        self.prior = outer.headers[":chunk-signature"]  # type: ignore[assignment]
        self.sock.sendall(self.ws.send(BytesMessage(data=envelope)))

    def event(self, event_type: str, body: dict[str, Any]) -> None:
        self.send(eventstream.event(event_type, body))

    def close(self) -> None:
        self.sock.close()


def run_session(
    client: LivenessClient,
    record: Callable[[dict[str, Any]], tuple[bytes, list[tuple[tuple[int, int, int], float]], float]],
    start_ms: int = 1_700_000_000_000,
) -> eventstream.Message | None:
    """Read the challenge, record a video for it (``record`` returns the WebM, the colours with
    their start times in ms from the video's start, and its length), stream it as the SDK does,
    and return the server's last message (``DisconnectionEvent`` or an exception)."""
    greeting = client.receive()
    assert greeting is not None and greeting.event_type == "ServerSessionInformationEvent", greeting
    challenge = greeting.json()["SessionInformation"]["Challenge"]
    kind = next(iter(challenge))
    video, colours, length = record(challenge)
    client.event("ClientSessionInformationEvent", {"Challenge": {kind: {"VideoStartTimestamp": start_ms}}})
    for offset in range(0, len(video), CHUNK_BYTES):
        chunk = video[offset : offset + CHUNK_BYTES]
        client.event(
            "VideoEvent", {"VideoChunk": base64.b64encode(chunk).decode(), "TimestampMillis": start_ms + offset}
        )
    for sequence, ((rgb, at), previous) in enumerate(zip(colours, [None, *colours], strict=False)):
        shown = {
            "CurrentColor": {"RGB": list(rgb)},
            "SequenceNumber": sequence,
            "CurrentColorStartTimestamp": start_ms + at,
        }
        if previous is not None:
            shown["PreviousColor"] = {"RGB": list(previous[0])}
        client.event("ClientSessionInformationEvent", {"Challenge": {kind: {"ColorDisplayed": shown}}})
    client.event("ClientSessionInformationEvent", {"Challenge": {kind: {"VideoEndTimestamp": start_ms + length}}})
    client.event("VideoEvent", {"VideoChunk": "", "TimestampMillis": start_ms + len(video)})
    client.send(b"")
    return client.receive()


def decoded(message: eventstream.Message) -> dict[str, Any]:
    return json.loads(message.payload)
