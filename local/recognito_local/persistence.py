"""State that survives a restart: moto's backends, pickled into the data directory.

moto keeps everything in Python objects and has no persistence of its own. Options weighed:

- moto's request recorder + replay: the log grows with every request (reads and image uploads
  included) and startup replays all of it; generated ids, timestamps and receipt handles come back
  different, and replaying ``StartExecution`` runs state machines again.
- Pickling the backends (chosen): the snapshot is the state itself, exactly (ids, timestamps,
  queued messages, execution histories), it costs what the state weighs, not its history, and
  moto's S3 objects already define how to pickle themselves.

How it works:

- Two groups, each in its own file: ``s3`` (image bytes: can be large) and ``services``
  (DynamoDB, SQS, SNS, Step Functions, KMS: small). A ``manifest.json``, replaced atomically
  (write, fsync, rename, fsync the directory), names the current file of each group, so a
  crash mid-save leaves the previous snapshot intact; files it does not name are deleted.
- Every request to moto holds the store's gate shared; a snapshot holds it exclusive, so it
  sees the state between requests, never half a request. The gate lets readers in while a
  snapshot waits: a request may make nested requests to the same server (a synchronous Step
  Functions execution calling DynamoDB), which a waiting writer must not block.
- A request that changes state marks ``services`` dirty, and ``s3`` too when it is an S3
  request (or one we cannot attribute): only S3 requests change S3, so indexing faces never
  re-pickles the images. A saver thread writes the dirty groups every ``interval`` seconds,
  and once more on shutdown (SIGTERM / Ctrl-C).
- Locks, conditions and events are pickled as fresh ones; threads (Step Functions execution
  workers) as None; KMS private keys as PKCS#8 bytes. Executions still running at shutdown are
  not resumed: on load they are marked ABORTED with error ``recognito.Restarted``.

Limits: a crash (SIGKILL, power loss) loses the writes of the last ``interval`` seconds plus the
save in progress. While a group is pickled, requests to moto wait: about 0.15 s per 100 MB of S3
objects (objects over 5 MB sit in temporary files and cost a read), 0.04 s for 2,000 DynamoDB
items of 1 KB; writing to disk happens after, without blocking. The format is moto's internals:
a snapshot written by one moto version may not load in another (the error says so).
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import logging
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from recognito.locks import ReadWriteLock

log = logging.getLogger("recognito_local")

FORMAT = 1
GROUPS: dict[str, tuple[str, ...]] = {
    "s3": ("s3",),
    # KMS holds the keys that encrypt the access key secrets recognito issues (recognito.auth).
    "services": ("dynamodb", "sqs", "sns", "stepfunctions", "stepfunctions-parser", "kms"),
}
# Where each persisted service's BackendDict lives. With execute_state_machine on, moto serves
# Step Functions from the parser's BackendDict; importing that takes seconds, so nothing here
# imports a backend module that has not served a request yet (it can hold no state).
BACKEND_DICTS: dict[str, tuple[str, str]] = {
    "s3": ("moto.s3.models", "s3_backends"),
    "dynamodb": ("moto.dynamodb.models", "dynamodb_backends"),
    "sqs": ("moto.sqs.models", "sqs_backends"),
    "sns": ("moto.sns.models", "sns_backends"),
    "stepfunctions": ("moto.stepfunctions.models", "stepfunctions_backends"),
    "stepfunctions-parser": ("moto.stepfunctions.parser.models", "stepfunctions_parser_backends"),
    "kms": ("moto.kms.models", "kms_backends"),
}
PARSER_API = "moto.stepfunctions.parser.api"
# X-Amz-Target operations that leave state as it was: everything else (and every non-GET/HEAD
# request without one) counts as a write. Listing the reads errs towards saving too often.
READ_ONLY_OPERATIONS = frozenset(
    {
        # DynamoDB
        "BatchGetItem", "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits",
        "DescribeTable", "DescribeTimeToLive", "GetItem", "ListTables", "ListTagsOfResource",
        "Query", "Scan", "TransactGetItems",
        # Step Functions
        "DescribeExecution", "DescribeStateMachine", "DescribeStateMachineForExecution",
        "GetExecutionHistory", "ListExecutions", "ListStateMachines", "ListTagsForResource",
        # SQS
        "GetQueueAttributes", "GetQueueUrl", "ListQueues", "ListQueueTags",
    }
)  # fmt: skip


class StateError(Exception):
    """The data directory holds a snapshot this server cannot load."""


def changes_state(method: str, target: str | None) -> bool:
    """Whether a request to moto may change its state (and so calls for a save)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (target and target.rpartition(".")[2] in READ_ONLY_OPERATIONS)


class StateStore:
    """moto's persisted backends in ``<data_dir>/state``: load once, save while running, save on close."""

    def __init__(self, data_dir: Path, interval: float = 1.0) -> None:
        self.directory = Path(data_dir) / "state"
        self.interval = interval
        self.gate = ReadWriteLock(writer_priority=False)
        self._dirty: set[str] = set()
        self._files: dict[str, str] = {}
        self._seq = 0
        self._save_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    def load(self) -> bool:
        """Install the saved backends into moto (before it serves); False when there are none."""
        manifest_path = self.directory / "manifest.json"
        if not manifest_path.exists():
            return False
        try:
            manifest = json.loads(manifest_path.read_text())
            for name in manifest["files"].values():
                with open(self.directory / name, "rb") as file:
                    _install(pickle.load(file))
        except Exception as error:
            raise StateError(
                f"cannot load the saved state in {self.directory} (written by moto "
                f"{_saved_by(manifest_path)}, this is moto {moto.__version__}): {error!r}. "
                "Move that directory aside to start empty."
            ) from error
        self._files = dict(manifest["files"])
        self._seq = int(manifest["seq"])
        self._remove_unreferenced()
        aborted = _abort_interrupted_executions()
        if aborted:
            log.info("marked %d Step Functions execution(s) interrupted by the restart as ABORTED", aborted)
            self._dirty.add("services")
        return True

    def record_write(self, service: str | None) -> None:
        """Called inside ``gate.shared()`` by a request that may have changed state.

        ``service`` is the request's SigV4 signing name, None when unsigned (``/moto-api/reset``).
        """
        self._dirty.add("services")
        if service in (None, "s3"):
            self._dirty.add("s3")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="recognito-state-saver", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the saver thread and save what is dirty (requests should have stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.save()

    def save(self) -> None:
        """Write the dirty groups and point the manifest at them."""
        with self._save_lock:
            with self.gate.exclusive():
                dirty, self._dirty = self._dirty, set()
                if not dirty:
                    return
                try:
                    blobs = {group: _dump(group) for group in sorted(dirty)}
                except BaseException:
                    self._dirty |= dirty
                    raise
                taken = datetime.datetime.now(datetime.UTC)
            try:
                self._write(blobs, taken)
            except BaseException:
                self._dirty |= dirty
                raise

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if _executions_running():
                self._dirty.add("services")
            try:
                self.save()
                self._last_error = None
            except Exception as error:
                # Said once per distinct failure, not every interval.
                if repr(error) != self._last_error:
                    log.exception("saving state to %s failed; retrying", self.directory)
                    self._last_error = repr(error)

    def _write(self, blobs: dict[str, bytes], taken: datetime.datetime) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        files = dict(self._files)
        for group, blob in blobs.items():
            files[group] = f"{group}-{self._seq:08d}.pickle"
            _write_synced(self.directory / files[group], blob)
        manifest = {
            "format": FORMAT,
            "moto": moto.__version__,
            # The snapshot holds every request answered before this instant.
            "state_at": taken.isoformat(),
            "seq": self._seq,
            "files": files,
        }
        temporary = self.directory / "manifest.json.tmp"
        _write_synced(temporary, json.dumps(manifest, indent=1).encode())
        os.replace(temporary, self.directory / "manifest.json")
        _sync_directory(self.directory)
        self._files = files
        self._remove_unreferenced()

    def _remove_unreferenced(self) -> None:
        """Drop group files a crash left behind or a newer snapshot replaced."""
        current = set(self._files.values())
        for path in self.directory.glob("*.pickle"):
            if path.name not in current:
                path.unlink(missing_ok=True)


class _Pickler(pickle.Pickler):
    """Pickles moto's synchronization objects as fresh ones, its threads as None, and the
    private keys of its KMS keys (OpenSSL objects) as PKCS#8 bytes."""

    def reducer_override(self, obj: Any) -> Any:
        fresh = _FRESH_LOCKS.get(type(obj))
        if fresh is not None:
            return fresh, ()
        if isinstance(obj, _PRIVATE_KEY_TYPES):
            der = obj.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
            return _private_key, (der,)
        if isinstance(obj, threading.Condition):
            # Keeps a Queue's conditions sharing one mutex, as they did.
            return threading.Condition, (obj._lock,)  # type: ignore[attr-defined]
        if isinstance(obj, threading.Event):
            return _event, (obj.is_set(),)
        if isinstance(obj, threading.Thread):
            return type(None), ()
        return NotImplemented


# By the factories: the lock types themselves cannot be pickled by reference.
_FRESH_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}
_PRIVATE_KEY_TYPES = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)


def _private_key(der: bytes) -> Any:
    return load_der_private_key(der, password=None)


def _event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def _backends(service: str, load: bool = False) -> Any:
    """The service's BackendDict; None when its module is not imported and ``load`` is False."""
    module_name, attribute = BACKEND_DICTS[service]
    module = sys.modules.get(module_name) or (importlib.import_module(module_name) if load else None)
    return getattr(module, attribute) if module else None


def _dump(group: str) -> bytes:
    state = {}
    for service in GROUPS[group]:
        backends = _backends(service)
        if backends:
            state[service] = {account: dict(regions) for account, regions in backends.items()}
    for attempt in range(3):
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
            return buffer.getvalue()
        except RuntimeError:
            # A Step Functions worker thread changed its execution while we pickled it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _install(state: dict[str, dict[str, dict[str, Any]]]) -> None:
    for service, accounts in state.items():
        backends = _backends(service, load=True)
        for account, regions in accounts.items():
            per_account = backends[account]
            for region, backend in regions.items():
                per_account[region] = backend


def _parser_executions() -> Iterator[Any]:
    backends = _backends("stepfunctions-parser")
    for _, _, backend in backends.iter_backends() if backends else ():
        for state_machine in list(backend.state_machines):
            yield from list(state_machine.executions)


def _executions_running() -> bool:
    """True while some execution runs: its worker changes state outside any request."""
    if PARSER_API not in sys.modules:
        return False
    running = sys.modules[PARSER_API].ExecutionStatus.RUNNING
    try:
        return any(execution.exec_status == running for execution in _parser_executions())
    except Exception:  # moto internals; never let a probe stop the saver
        return True


def _abort_interrupted_executions() -> int:
    if PARSER_API not in sys.modules:
        return 0
    status = sys.modules[PARSER_API].ExecutionStatus
    aborted = 0
    for execution in _parser_executions():
        if execution.exec_status == status.RUNNING:
            execution.exec_status = status.ABORTED
            execution.stop_date = datetime.datetime.now(datetime.UTC)
            execution.error = "recognito.Restarted"
            execution.cause = "recognito serve restarted while this execution ran; local executions are not resumed"
            aborted += 1
    return aborted


def _saved_by(manifest_path: Path) -> str:
    try:
        return str(json.loads(manifest_path.read_text())["moto"])
    except Exception:
        return "an unknown version"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
