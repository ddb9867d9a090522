"""The endpoint's calls to itself, answered in-process instead of over its own port.

The handlers reach DynamoDB, SQS, Step Functions and KMS through ``AWS_ENDPOINT_URL``, which under
``recognito serve`` is this same process. Over HTTP each such call cost a TCP connection and a
server thread (werkzeug's server closes every connection after one response), and an
AssociateFaces makes six of them. Here a botocore ``before-send`` handler (the hook botocore
offers for answering a request without sending it, which moto's own mock uses) hands the request to
the endpoint's WSGI app on the calling thread: the same routing, locking, journaling and log line
as over HTTP, without the socket.

Only JSON-protocol requests (an ``X-Amz-Target`` header, POST to ``/``) are short-circuited: their
whole meaning is in the headers and body. S3 (paths and keys, streamed bodies) and Kinesis Video
media streams keep going over HTTP. So does a call made while this thread is inside moto (a backend
calling back into the endpoint): it must not re-enter the locks its own request holds.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from recognito_local.persistence import DEFER_DURABILITY

_inside = threading.local()
# In the environ of every request the loopback hands to the app.
LOOPBACK = "recognito.loopback"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Body:
    """The raw response botocore reads: the whole body, already in memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        if self._data:
            yield self._data

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = (self._data, b"") if amt is None else (self._data[:amt], self._data[amt:])
        return data

    def close(self) -> None:
        self._data = b""


@contextmanager
def answering(client: bool) -> Iterator[None]:
    """Around a client's request (``client``): the writes it makes through the loopback are
    answered before they are on disk, as long as its own answer waits for them (``StateStore.durable``)."""
    before = getattr(_inside, "client", False)
    _inside.client = before or client
    try:
        yield
    finally:
        _inside.client = before


@contextmanager
def in_moto() -> Iterator[None]:
    """Around moto's handling of a request: calls this thread makes meanwhile go over HTTP."""
    depth = getattr(_inside, "depth", 0)
    _inside.depth = depth + 1
    try:
        yield
    finally:
        _inside.depth = depth


class Loopback:
    """A ``before-send`` handler answering the JSON-protocol requests sent to ``url`` with ``app``."""

    def __init__(self, app: WsgiApp, url: str) -> None:
        parts = urlsplit(url)
        # Off until the endpoint serves: writes a journal replay sets off wait for it over HTTP.
        self.enabled = False
        self._app = app
        self._netloc = parts.netloc
        self._server = (parts.hostname or "127.0.0.1", str(parts.port or 80))

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if not self.enabled or getattr(_inside, "depth", 0) or not self._serves(request):
            return None
        status, headers, body = self._answer(self._environ(request))
        return AWSResponse(request.url, int(status.split()[0]), headers, _Body(body))

    def _serves(self, request: AWSPreparedRequest) -> bool:
        url = urlsplit(request.url)
        return (
            url.netloc == self._netloc
            and url.path in ("", "/")
            and request.method == "POST"
            and "X-Amz-Target" in request.headers
            and not hasattr(request.body, "read")
        )

    def _environ(self, request: AWSPreparedRequest) -> dict[str, Any]:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/",
            "QUERY_STRING": urlsplit(request.url).query,
            "SERVER_NAME": self._server[0],
            "SERVER_PORT": self._server[1],
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = text
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = text
        environ.setdefault("HTTP_HOST", self._netloc)
        environ[LOOPBACK] = True
        if getattr(_inside, "client", False):
            environ[DEFER_DURABILITY] = True
        return environ

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started[:] = [status, headers]
            return lambda _: None

        result = self._app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        return started[0], started[1], body


def install(app: WsgiApp, url: str) -> Loopback:
    """A handler for this process's JSON-protocol requests to ``url``, off until ``enabled``.
    Every botocore session created from now on gets it: install it before the first client."""
    from botocore.handlers import BUILTIN_HANDLERS

    handler = Loopback(app, url)
    BUILTIN_HANDLERS.append(("before-send", handler))
    return handler
