"""Admission control for the local endpoint's inference: bounded work, bounded memory, fast refusals.

Deployed, each request runs in its own Lambda instance, with its own memory, and Lambda's
concurrency limit refuses the excess. Locally every request shares one process, so without a
bound 64 concurrent 1080p DetectFaces took 21 GiB and p50 50 s, near botocore's 60 s read
timeout. Here:

- An operation that runs models (its registry entry names some) belongs to the family of its
  first model (``centerface`` for every face operation, ``efficientnet-lite2`` for labels, ...).
- Each family runs at most ``slots`` requests at once: as many as the cores (an ONNX Runtime
  session already uses every core for one request, so more would only add memory), and the
  whole endpoint at most what the memory budget holds: (budget - RESERVED_MB) / REQUEST_MB.
- A bounded queue waits for a slot (``QUEUE_PER_SLOT`` per slot); beyond it, or after waiting
  ``MAX_WAIT_S``, the request is refused at once with ``ThrottlingException``, which the AWS SDKs
  retry with back-off. Rekognition's error guide lists it twice: HTTP 400 "Slow down; sudden
  increase in rate of requests" (requests ramping faster than the service scales) and HTTP 500
  "Service Unavailable". A burst beyond the queue is the first, and a 4xx keeps it out of
  server-error alarms; botocore retries both by their code. Not
  ``ProvisionedThroughputExceededException`` ("Provisioned Rate exceeded"): that is an account's
  request-rate quota, which the endpoint does not have.
- When the last inference of a burst finishes, freed heap pages go back to the OS (glibc's
  ``malloc_trim``): a burst's peak does not stay the process's size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

log = logging.getLogger("recognito_local")

BUDGET_ENV = "RECOGNITO_MEMORY_BUDGET"
DEFAULT_BUDGET_MB = 4096
RESERVED_MB = 1536  # the process without requests: moto, the state, every model family's sessions
REQUEST_MB = 400  # one inference in flight at the pixel budget (bench/overload.py measures it)
QUEUE_PER_SLOT = 4
MAX_WAIT_S = 20.0  # well inside botocore's 60 s read timeout


class Overloaded(Exception):
    """No slot and no room in the queue: answer ThrottlingException."""


def budget_mb(value: str | None = None) -> int:
    """A memory budget given as ``4096``, ``4096M``, ``4G`` or ``4GB``, in MB (``$RECOGNITO_MEMORY_BUDGET``,
    else 4 GB); ``off`` is 0: no admission control (only to measure what it costs)."""
    text = (value if value is not None else os.environ.get(BUDGET_ENV) or "").strip().upper().removesuffix("B")
    if not text:
        return DEFAULT_BUDGET_MB
    if text == "OFF":
        return 0
    scale = {"G": 1024, "M": 1}.get(text[-1], None)
    number = float(text[:-1] if scale else text)
    megabytes = int(number * (scale or 1))
    if megabytes <= 0:
        raise ValueError(f"a memory budget must be positive, not {value!r}")
    return megabytes


@dataclass
class _Family:
    slots: int
    running: int = 0
    waiting: int = 0


class Admission:
    """Slots per model family, under one memory budget."""

    def __init__(self, budget: int | None = None, cores: int | None = None) -> None:
        self.budget_mb = budget if budget is not None else budget_mb()
        self.enabled = self.budget_mb > 0
        self.cores = cores or len(os.sched_getaffinity(0))
        # Never below one request at a time, however small the budget: refusing every inference
        # would not be a budget, it would be an outage.
        self.total_slots = max(1, (self.budget_mb - RESERVED_MB) // REQUEST_MB)
        self.family_slots = max(1, min(self.cores, self.total_slots))
        self._running = 0
        self._families: dict[str, _Family] = {}
        self._cond = threading.Condition()

    def describe(self) -> str:
        if not self.enabled:
            return "inference: no admission control (memory budget off)"
        return (
            f"inference: {self.family_slots} at a time per model family, {self.total_slots} in all "
            f"(memory budget {self.budget_mb} MB, {self.cores} cores)"
        )

    @contextmanager
    def admit(self, operation: str) -> Iterator[None]:
        """Run the block when ``operation``'s family has a slot; ``Overloaded`` when it cannot soon."""
        name = model_family(operation) if self.enabled else None
        if name is None:
            yield
            return
        with self._cond:
            family = self._families.setdefault(name, _Family(self.family_slots))
            if not self._free(family):
                if family.waiting >= family.slots * QUEUE_PER_SLOT:
                    raise Overloaded(f"{family.waiting} {name} requests already waiting")
                family.waiting += 1
                try:
                    deadline = time.monotonic() + MAX_WAIT_S
                    while not self._free(family):
                        if not self._cond.wait(deadline - time.monotonic()) and not self._free(family):
                            raise Overloaded(f"no {name} slot within {MAX_WAIT_S:.0f} s")
                finally:
                    family.waiting -= 1
            family.running += 1
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                family.running -= 1
                self._running -= 1
                idle = self._running == 0
                self._cond.notify_all()
            if idle:
                release_memory()

    def _free(self, family: _Family) -> bool:
        return family.running < family.slots and self._running < self.total_slots


@cache
def model_family(operation: str) -> str | None:
    """The first model an operation loads (its family), None for operations that run no model."""
    from recognito.registry import registry

    try:
        models = registry().operation(operation).models
    except LookupError:
        return None
    return models[0] if models else None


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Give freed heap pages back to the OS (glibc only; elsewhere a no-op)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
