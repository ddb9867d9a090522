"""The local endpoint: Rekognition and the AWS services behind it, on one port.

One WSGI app routes each request by its SigV4 signing name (or ``X-Amz-Target``):
``rekognition`` requests become API Gateway proxy events for the front door, which runs the
operation's handler in-process; everything else goes to moto's server (S3, DynamoDB, SNS, SQS,
Step Functions), which the handlers themselves reach over HTTP through ``AWS_ENDPOINT_URL``, on
the same code paths as deployed. moto's state is kept in the data directory (see persistence.py).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import functools
import io
import logging
import os
import re
import secrets
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from recognito_local import dynamodb_expressions, dynamodb_json, loopback, stepfunctions, streams, transactions
from recognito_local.admission import Admission, Overloaded
from recognito_local.persistence import LONG_POLL_STEP_S, StateError, StateStore, received, short_poll

log = logging.getLogger("recognito_local")

HEALTH_PATH = "/_recognito/health"
DEFAULT_REGION = "us-east-1"
_SCOPE = re.compile(r"Credential=[^/,\s]*/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")

StartResponse = Callable[..., Any]
Response = tuple[str, list[tuple[str, str]], bytes]


class ServeError(Exception):
    """Why the endpoint cannot start, worded for the person who ran it."""


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 ``Authorization`` header is scoped to (``s3``, ``rekognition``, ...)."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1).lower() if match else None


class LocalEndpoint:
    """The WSGI app: Rekognition through the front door, the rest through moto, one log line each."""

    def __init__(self, store: StateStore, admission: Admission | None = None) -> None:
        # moto's server imports Flask and every backend index: only once the environment is set.
        from moto.core import responses as moto_responses
        from moto.moto_server.werkzeug_app import UNSIGNED_REQUESTS, DomainDispatcherApplication, create_backend_app

        self.moto = DomainDispatcherApplication(create_backend_app)
        # moto places each request by listing its package directory (150 isdir calls, under a
        # lock every request takes): a tenth of a DynamoDB request's time. The answer depends
        # only on the host.
        self.moto.get_backend_for_host = functools.lru_cache(maxsize=1024)(self.moto.get_backend_for_host)
        # ... and lists the methods of the response class with ``inspect`` on every request, to find
        # the action's (3% of the endpoint's time under 16 writers); a class's methods never change.
        if not hasattr(moto_responses.method_names_from_class, "cache_info"):
            moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)
        transactions.install()
        dynamodb_json.install()  # reads' replies without moto's shape-walking serializer
        dynamodb_expressions.install()  # each expression parsed once, not three times an item
        self._unsigned_prefixes = frozenset(UNSIGNED_REQUESTS)
        self.store = store
        self.admission = admission or Admission()
        self.ready = threading.Event()
        self.media = streams.MediaStore()  # Kinesis Video's PutMedia/GetMedia (streams.py)
        self._active = 0
        self._idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            status, headers, body = self._health()
            start_response(status, headers)
            return [body]
        if streams.handles(environ):  # long-lived media streams, answered as they go
            log.info("kinesisvideo %s", environ["PATH_INFO"].lstrip("/"), extra={"target": None})
            return streams.serve(environ, start_response, self.media)
        started = time.perf_counter()
        service = signing_service(environ)
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        client = not environ.get(loopback.LOOPBACK)
        with self._tracked(), loopback.answering(client):
            if self._is_rekognition(service, target) or _names_an_operation(environ, service, target):
                label = f"rekognition {target.partition('.')[2] or '-'}"
                status, headers, body = self._rekognition(environ)
            else:
                operation = target.rpartition(".")[2] or f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO')}"
                label = f"{service or 'unsigned'} {operation}"
                status, headers, body = self._moto(environ, service, target)
                if environ.get("PATH_INFO") == streams.GET_DATA_ENDPOINT and status.startswith("200"):
                    body = streams.data_endpoint(environ, body)
                    headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
            if client:
                self.store.durable()  # every write this answer may rest on (loopback.answering)
        code, elapsed = int(status.split()[0]), (time.perf_counter() - started) * 1000
        fields = {"target": target or None, "status": code, "duration_ms": round(elapsed, 1)}
        log.info("%s %s %.1fms", label, code, elapsed, extra=fields)
        start_response(status, headers)
        return [body]

    def _is_rekognition(self, service: str | None, target: str) -> bool:
        """Rekognition answers what is signed for it or names it in any casing or prefix
        (``rekognitionservice.X``: AWS's UnknownOperationException, never S3's bucket list), and
        a target moto cannot place: one without a dot (moto fails on it), or an unsigned one of a
        service moto serves only signed (moto would answer it as S3)."""
        prefix, dot, _ = target.partition(".")
        if service == "rekognition" or "rekognition" in prefix.lower():
            return True
        return bool(target) and (not dot or (service is None and prefix not in self._unsigned_prefixes))

    def drain(self, timeout: float) -> bool:
        """Wait for requests in flight to finish; False if some were still running at ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _health(self) -> Response:
        ready = self.ready.is_set()
        body = b'{"status":"ready"}' if ready else b'{"status":"starting"}'
        return _status(200 if ready else 503), [("Content-Type", "application/json")], body

    def _rekognition(self, environ: dict[str, Any]) -> Response:
        from recognito.errors import InternalServerError
        from recognito.protocol import error_response, proxy_event

        request = Request(environ)
        raw = request.get_data()
        rid = str(uuid.uuid4())
        try:
            body, encoded = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw).decode("ascii"), True
        event = proxy_event(
            body, dict(request.headers), path=request.path, rid=rid, source_ip=request.remote_addr or "127.0.0.1"
        )
        event["isBase64Encoded"] = encoded
        try:
            from recognito.frontdoor import dispatch

            result = dispatch(event, self._admitted)
        except Exception:
            log.exception("request %s failed", rid)
            result = error_response(InternalServerError("Internal server error"), rid)
        return _proxy_response(result)

    def _admitted(self, operation: str, event: dict[str, Any]) -> dict[str, Any]:
        """``invoke``, once the operation's model family has a slot (admission.py)."""
        from recognito.errors import ThrottlingException

        from recognito_local.invoke import invoke

        try:
            with self.admission.admit(operation):
                return invoke(operation, event)
        except Overloaded as reason:
            log.info("throttled %s: %s", operation, reason)
            raise ThrottlingException("Slow down; sudden increase in rate of requests.") from None

    def _moto(self, environ: dict[str, Any], service: str | None, target: str) -> Response:
        poll = short_poll(environ, target)
        if poll is None:
            return self._moto_once(environ, service, target)
        wait, body = poll  # an SQS long poll: repeated short polls, the lock free in between
        deadline = time.monotonic() + wait
        while True:
            attempt = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
            status, headers, reply = self._moto_once(attempt, service, target)
            if not status.startswith("200") or received(reply) or time.monotonic() >= deadline:
                return status, headers, reply
            time.sleep(LONG_POLL_STEP_S)

    def _moto_once(self, environ: dict[str, Any], service: str | None, target: str) -> Response:
        captured: list[Any] = []
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured[:] = [status, headers]
            return chunks.append

        # Serialized where moto needs it, journaled and on disk before it is answered (persistence.py).
        with self.store.request(environ, service, target) as environ:
            try:
                with loopback.in_moto():  # moto calling back into the endpoint goes over HTTP
                    result = self.moto(environ, capture)
                    try:
                        chunks.extend(result)
                    finally:
                        getattr(result, "close", lambda: None)()
            except Exception:
                log.exception("moto failed on %s %s", environ["REQUEST_METHOD"], environ.get("PATH_INFO"))
                captured[:] = [_status(500), [("Content-Type", "text/plain")]]
                chunks[:] = [b"Internal server error"]
        status, headers = captured
        return status, headers, b"".join(chunks)


def _names_an_operation(environ: dict[str, Any], service: str | None, target: str) -> bool:
    """An unsigned ``POST /<Operation>`` without a target, the front door's path route: a
    Rekognition operation's name is never an S3 bucket's (those are lower case), so moto must not
    answer it as one."""
    if service or target or environ["REQUEST_METHOD"] != "POST":
        return False
    from recognito.protocol import operation_names

    return environ.get("PATH_INFO", "").strip("/") in operation_names()


def _status(code: int) -> str:
    return f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"


def _proxy_response(result: dict[str, Any]) -> Response:
    """An API Gateway proxy result as the HTTP response API Gateway would send."""
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() != "content-length"]
    named = {k.lower() for k, _ in headers}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key.lower() not in named and key.lower() != "content-length":
            headers.extend((key, str(value)) for value in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    headers.append(("Content-Length", str(len(data))))
    return _status(int(result["statusCode"])), headers, data


def serve(
    host: str,
    port: int,
    data_dir: Path,
    save_interval: float = 10.0,
    triggers: Sequence[str] = (),
    memory_budget: int | None = None,
) -> None:
    """Run the endpoint until SIGINT or SIGTERM, then save the state and return.

    ``memory_budget`` (MB) bounds concurrent inference (admission.py); default
    ``$RECOGNITO_MEMORY_BUDGET``, else 4 GB.

    ``triggers`` are upload rules (JSON, one each) added to ``<data_dir>/triggers.json``'s
    (recognito_local.uploads). Raises ``ServeError`` when it cannot start (port taken, data
    directory in use or unreadable, a trigger that is not a valid rule).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock(data_dir)
    listener = _listen(host, port)
    port = listener.getsockname()[1]
    url = f"http://{_url_host(host)}:{port}"
    _configure_environment(url, port, data_dir)

    from recognito.uploads import UploadConfigError

    from recognito_local.uploads import UploadTriggers

    try:
        uploads = UploadTriggers(data_dir, list(triggers))
    except UploadConfigError as error:
        listener.close()
        raise ServeError(str(error)) from error

    from werkzeug.serving import make_server

    store = StateStore(data_dir, save_interval)
    app = LocalEndpoint(store, Admission(memory_budget))
    own_calls = loopback.install(app, url)  # before any client: each takes its handlers when created
    log.info("%s", app.admission.describe())
    uploads.hook()  # a replayed upload queues its trigger's message as it did the first time
    try:
        # Before the replay: a replayed StartExecution runs its Lambda tasks in this process.
        stepfunctions.bridge_lambda_tasks()
        restored = store.load(app.moto)
    except StateError as error:
        listener.close()
        raise ServeError(str(error)) from error
    server = make_server(host, port, app, threaded=True, request_handler=_request_handler(), fd=listener.fileno())
    listener.close()  # the server serves a duplicate of it
    serving = threading.Thread(target=server.serve_forever, args=(0.1,), name="recognito-serve", daemon=True)
    serving.start()
    own_calls.enabled = True

    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    try:
        _ensure_tables()
        stepfunctions.ensure_video_jobs()
        interrupted = stepfunctions.resume_interrupted_jobs()
        streams.end_interrupted_sessions()
        if interrupted["resumed"] or interrupted["failed"]:
            resumed, failed = len(interrupted["resumed"]), len(interrupted["failed"])
            log.info("jobs the stop interrupted: %d run again, %d FAILED (interrupted too often)", resumed, failed)
        uploads.start()
        store.start()
        app.ready.set()
        _announce(url, data_dir, restored)
        while not stop.wait(0.5):
            pass
        log.info("stopping: finishing requests in flight and saving state to %s", store.directory)
    finally:
        uploads.stop(timeout=30)  # while the server still answers the upload function's requests
        server.shutdown()
        if not app.drain(timeout=30):
            log.warning("requests still running after 30 s; saving state without them")
        store.close()
        server.server_close()
        lock.close()
        log.info("stopped; state saved")


def _lock(data_dir: Path) -> IO[str]:
    """Hold the data directory for this process: two servers saving into one would undo each other."""
    handle = open(data_dir / "serve.lock", "a+")  # noqa: SIM115 - held open for the server's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ServeError(
            f"{data_dir} is in use by another recognito serve; stop it or pass another --data-dir"
        ) from None
    return handle


def _listen(host: str, port: int) -> socket.socket:
    """Bind here rather than in werkzeug, which prints and exits on a taken port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use (another recognito serve?); choose another with --port"
            ) from None
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return listener


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _configure_environment(url: str, port: int, data_dir: Path) -> None:
    """Point every in-process AWS client (boto3, PynamoDB, moto's Step Functions tasks) at this port,
    and keep the pagination-token key in the data directory so tokens outlive a restart."""
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")]:
        del os.environ[key]
    os.environ.pop("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", None)
    os.environ["AWS_ENDPOINT_URL"] = url
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        os.environ["AWS_ACCESS_KEY_ID"] = "test"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ["MOTO_PORT"] = str(port)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    secret = data_dir / "token-secret"
    if not secret.exists():
        secret.write_text(secrets.token_hex(32))
        secret.chmod(0o600)
    os.environ.setdefault("RECOGNITO_TOKEN_SECRET", secret.read_text().strip())

    from moto.core.config import default_user_config

    # Executions really run (Pass, Choice, Map, service tasks); Lambda tasks are ours to bridge.
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    default_user_config["lambda"] = {"use_docker": False}


def _ensure_tables() -> None:
    try:
        from recognito.storage import ensure_tables
    except ImportError as error:
        log.error("recognito.storage.ensure_tables is missing (%s): no DynamoDB tables were created", error)
        return
    ensure_tables()


def _request_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from recognito_local import liveness

    class RequestHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """LocalEndpoint logs each request with its operation instead."""

        def run_wsgi(self) -> None:
            # StartFaceLivenessSession is a WebSocket, which WSGI cannot carry (liveness.py).
            if liveness.wants(self):
                liveness.serve(self)
                return
            super().run_wsgi()

    return RequestHandler


def _announce(url: str, data_dir: Path, restored: bool) -> None:
    state = "restored from" if restored else "kept in"
    print(
        f"recognito: Rekognition, S3, DynamoDB, SNS, SQS and Step Functions on {url}\n"
        f"state {state} {data_dir}\n"
        "Point the AWS SDK and CLI at it with:\n"
        f"  export AWS_ENDPOINT_URL={url}\n"
        "Ctrl-C stops it and saves the state.",
        flush=True,
    )
