"""A readers-writer lock, for state read by many threads and changed by few."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Many holders of ``shared()`` at once, or one of ``exclusive()``.

    With ``writer_priority`` a waiting writer holds new readers back, so a busy index still gets
    its updates in. Without it readers keep entering while a writer waits: needed where a reader
    may itself wait on another reader to finish (the local endpoint's requests that call back into
    the same endpoint), which a waiting writer must not deadlock.
    """

    def __init__(self, writer_priority: bool = True) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._writer_priority = writer_priority
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing or (self._writer_priority and self._writers_waiting):
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
