"""StartFaceLivenessSession on the local endpoint: the WebSocket side of Face Liveness.

werkzeug's server speaks HTTP/1.1 only; a ``GET /start-face-liveness-session-websocket`` with
``Upgrade: websocket`` is taken out of its WSGI path by the request handler (server.py) and
served here on the connection's socket, with wsproto (python-hyper's sans-I/O WebSocket protocol)
doing the handshake and framing, and recognito.liveness.stream the session. The connection's
thread runs the decision itself when the client's stream ends, as the deployed LivenessDecision
function does.
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Request, TextMessage
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

log = logging.getLogger("recognito_local")

READ_SIZE = 65536
IDLE_TIMEOUT_S = 60.0  # a client that stops sending mid-session


def wants(handler: Any) -> bool:
    """Whether a request is a liveness WebSocket handshake."""
    from recognito.liveness.stream import PATH

    upgrade = (handler.headers.get("Upgrade") or "").lower()
    return upgrade == "websocket" and urlsplit(handler.path).path.rstrip("/") == PATH


def serve(handler: Any) -> None:
    """Run one liveness connection to its end on the handler's socket."""
    handler.close_connection = True
    sock: socket.socket = handler.connection
    ws = WSConnection(ConnectionType.SERVER)
    head = f"{handler.requestline}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in handler.headers.items()) + "\r\n"
    ws.receive_data(head.encode("latin-1"))
    if not any(isinstance(event, Request) for event in ws.events()):
        return
    query = parse_qsl(urlsplit(handler.path).query, keep_blank_values=True)
    try:
        chain, opened = _open(query, handler.headers.get("Host") or "")
    except Exception as error:  # noqa: BLE001 - every refusal is answered on the socket
        _refuse(sock, ws, error)
        return
    sock.sendall(ws.send(AcceptConnection()))
    log.info("liveness session %s: %s", opened.settings.session_id, opened.challenge.type)
    _run(sock, ws, opened, chain)


def _open(query: list[tuple[str, str]], host: str) -> tuple[Any, Any]:
    """The URL's signature chain (None without keys) and the opened session."""
    from recognito.liveness import presign, stream

    chain = presign.check(stream.PATH, query, host)
    return chain, stream.open_session(dict(query))


def _refuse(sock: socket.socket, ws: WSConnection, error: Exception) -> None:
    """Accept, send the exception event, close: how the SDKs receive a refused session."""
    from recognito.liveness import stream

    log.info("liveness connection refused: %s", error)
    try:
        sock.sendall(ws.send(AcceptConnection()))
        sock.sendall(ws.send(BytesMessage(data=stream.refusal(error))))
        sock.sendall(ws.send(CloseConnection(code=1000)))
    except (OSError, LocalProtocolError):
        pass


def _run(sock: socket.socket, ws: WSConnection, opened: Any, chain: Any) -> None:
    from recognito.liveness import sessions, stream

    recording = stream.MemoryRecording()
    session_id = opened.settings.session_id
    decided = False
    sock.settimeout(IDLE_TIMEOUT_S)
    try:
        sock.sendall(ws.send(BytesMessage(data=opened.greeting())))
        buffer = bytearray()
        while not decided:
            data = sock.recv(READ_SIZE)
            ws.receive_data(data or None)
            for event in ws.events():
                if isinstance(event, BytesMessage | TextMessage):
                    buffer += event.data if isinstance(event.data, bytes | bytearray) else event.data.encode()
                    if not event.message_finished:
                        continue
                    message, buffer = bytes(buffer), bytearray()
                    if stream.receive(message, recording, opened.challenge.type, chain):
                        sock.sendall(ws.send(BytesMessage(data=stream.conclude(opened, recording))))
                        decided = True
                        break
                elif isinstance(event, Ping):
                    sock.sendall(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    sock.sendall(ws.send(event.response()))
                    return
            if not data:
                return
        sock.sendall(ws.send(CloseConnection(code=1000)))
    except (OSError, LocalProtocolError, RemoteProtocolError) as error:
        log.info("liveness session %s: connection ended: %s", session_id, error)
    except Exception as error:  # noqa: BLE001 - refused with its code, then closed
        if not getattr(error, "code", None):
            log.exception("liveness session %s failed", session_id)
        try:
            sock.sendall(ws.send(BytesMessage(data=stream.refusal(error))))
            sock.sendall(ws.send(CloseConnection(code=1000)))
        except (OSError, LocalProtocolError):
            pass
    finally:
        if not decided:
            sessions.fail(session_id)
