"""ONNX Runtime sessions, one per model per process.

Creating a session costs far more than running it (the graph is loaded and optimized), so a Lambda
container or the local server creates each one on first use and keeps it for every later
invocation. Sessions are thread-safe for ``run``; the lock only guards their creation.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import onnxruntime as ort

_LAYER_MODEL_DIR = Path("/opt/models")  # where the Lambda layer's models land
_REPO_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

_sessions: dict[str, ort.InferenceSession] = {}
_lock = threading.Lock()


def model_dir() -> Path:
    """The folder holding ``<name>.onnx``: ``RECOGNITO_MODEL_DIR``, the layer's, or the repo's."""
    configured = os.environ.get("RECOGNITO_MODEL_DIR")
    if configured:
        return Path(configured)
    if _LAYER_MODEL_DIR.is_dir():
        return _LAYER_MODEL_DIR
    return _REPO_MODEL_DIR


def model_path(name: str) -> Path:
    """Where model ``name`` is expected (whether or not it is there)."""
    return model_dir() / f"{name}.onnx"


def _threads() -> int:
    configured = os.environ.get("RECOGNITO_THREADS")
    if configured:
        return max(1, int(configured))
    # A Lambda function's vCPUs (or a cgroup's) can be fewer than the host's os.cpu_count().
    return max(1, len(os.sched_getaffinity(0)))


def get_session(name: str) -> ort.InferenceSession:
    """The process's session for model ``name`` (``<model dir>/<name>.onnx``), created on first use."""
    session = _sessions.get(name)
    if session is not None:
        return session
    with _lock:
        session = _sessions.get(name)
        if session is None:
            path = model_path(name)
            if not path.is_file():
                raise FileNotFoundError(
                    f"model {name!r} not found at {path}: run `make models` "
                    "(or set RECOGNITO_MODEL_DIR to the folder holding it)"
                )
            options = ort.SessionOptions()
            options.intra_op_num_threads = _threads()
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # No CPU arena: it keeps the largest activations it ever held (a burst of big images)
            # for the life of the process; without it they go back to malloc, which the local
            # endpoint trims after a burst. Measured cost: see the README (admission control).
            options.enable_cpu_mem_arena = False
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            _sessions[name] = session
    return session
