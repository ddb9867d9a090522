"""A readers-writer lock, for state read by many threads and changed by few; a group commit, for
work that costs about as much for many callers as for one."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

W = TypeVar("W")


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


@dataclass
class Ticket(Generic[W]):
    """One caller's work in a ``GroupCommit``, and once settled, its result or error."""

    work: W
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, _own_copy(error) if error else None, True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


def _own_copy(error: BaseException) -> BaseException:
    """A copy for one caller to raise: one exception object raised in several threads at once
    would gather all their tracebacks."""
    try:
        return copy.copy(error)
    except Exception:  # an exception type that cannot be rebuilt from its args
        return error


class GroupCommit(Generic[W]):
    """Work handed in by many threads, done by one of them at a time for all that queued meanwhile.

    ``run`` gets the queued tickets, oldest first, and settles at least the first; the others it
    leaves wait for the next round. The caller whose turn it is runs rounds until its own ticket
    is settled, then hands the turn to the next one still waiting. While one round runs, the
    callers arriving queue up for the next: under load a round serves many of them at the cost of
    about one, and alone a caller's round is its own work, at once.
    """

    def __init__(self, run: Callable[[list[Ticket[W]]], None]) -> None:
        self._run = run
        self._changed = threading.Condition(threading.Lock())
        self._queue: list[Ticket[W]] = []
        self._holder: int | None = None  # the thread whose turn it is

    def submit(self, work: W) -> Any:
        """``work``'s result once a round settled it, or the error it settled it with."""
        ticket, me = Ticket(work), threading.get_ident()
        if self._holder == me:  # submitted from inside a round: nobody else can run it
            self._run([ticket])
            return ticket.outcome()
        with self._changed:
            self._queue.append(ticket)
            self._changed.wait_for(lambda: ticket.done or self._holder is None)
            if ticket.done:
                return ticket.outcome()
            self._holder = me
        try:
            while not ticket.done:
                with self._changed:
                    queued = list(self._queue)
                try:
                    self._run(queued)
                except BaseException as error:  # noqa: BLE001 - every caller of the round gets it
                    for waiting in queued:
                        if not waiting.done:
                            waiting.settle(error=error)
                with self._changed:
                    self._queue = [waiting for waiting in self._queue if not waiting.done]
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._holder = None
                self._changed.notify_all()
        return ticket.outcome()
