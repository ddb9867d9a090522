"""Sequenced writes to a collection, and the change feed that search indexes follow.

Every write that touches a collection's faces or users is one DynamoDB transaction that also
moves the collection's ``seq`` counter, conditioned on the value it read. Concurrent writers to
one collection are therefore serialized by DynamoDB itself: the loser of a race re-reads and
re-plans, and counts (FaceCount, UserCount, a user's faces) stay exact. Because a write with
sequence number n can only commit after every write below n has, a reader that has seen n has
seen everything up to n: a search index catches up by reading ``seq > watermark`` and nothing else.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import numpy as np
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from recognito.collections.service import get_collection
from recognito.errors import ThrottlingException
from recognito.locks import GroupCommit, Ticket
from recognito.search.feed import FaceChange
from recognito.settings import settings
from recognito.storage import CollectionRecord, FaceRecord

MAX_ITEMS_PER_TRANSACTION = 100
MAX_ATTEMPTS = 40

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass
class Plan:
    """What one transaction will do, decided from a consistent read of the collection's state."""

    sequence_numbers: int = 0
    face_delta: int = 0
    user_delta: int = 0
    writes: list[Callable[[TransactWrite, Iterator[int]], None]] = field(default_factory=list)
    result: Any = None
    # The items the plan read and writes (("user", id), ("face", id)), when it names them: plans of
    # writers queued on one collection whose items are disjoint commit together, in one
    # transaction (``commit``). None: the plan commits alone.
    keys: frozenset[tuple[str, str]] | None = None


Planner = Callable[[CollectionRecord], Plan]
Read = tuple[type[Model], str]  # an item of the collection a plan reads: its model and range key


@dataclass(frozen=True)
class _Write:
    plan: Planner
    reads: tuple[Read, ...]


_planning = threading.local()  # the items read for the round this thread plans (``prefetched``)


def prefetched(model: type[M], collection_id: str, key: str) -> tuple[bool, M | None]:
    """While a round is planned, an item that a plan of it named in its ``reads``, read with all
    the others at the start of the round: (True, the record, or None where there is none);
    (False, None) for any other item, or outside a round."""
    items = getattr(_planning, "items", None)
    if items is None or (model, collection_id, key) not in items:
        return False, None
    return True, items[(model, collection_id, key)]


@contextmanager
def _reading(collection_id: str, writes: Iterable[_Write]) -> Iterator[None]:
    """Read what the round's plans said they read, one BatchGetItem per table (not one or two
    requests a plan), for ``prefetched`` while they plan."""
    wanted: dict[type[Model], set[str]] = {}
    for write in writes:
        for model, key in write.reads:
            wanted.setdefault(model, set()).add(key)
    items: dict[tuple[type[Model], str, str], Model | None] = {}
    for model, keys in wanted.items():
        range_key = model._range_key_attribute().attr_name  # noqa: SLF001 - PynamoDB's name for it
        for chunk in chunks(sorted(keys), 100):
            items.update(((model, collection_id, key), None) for key in chunk)
            for record in model.batch_get([(collection_id, key) for key in chunk], consistent_read=True):
                items[(model, collection_id, getattr(record, range_key))] = record
    before, _planning.items = getattr(_planning, "items", None), items
    try:
        yield
    finally:
        _planning.items = before


@cache
def _connection() -> Connection:
    return Connection(region=settings().region)


def _conflicted(error: TransactWriteError) -> bool:
    return error.cause_response_code in ("TransactionCanceledException", "TransactionConflictException")


@dataclass
class _Turn:
    """One collection's writers in this process: the group commit they queue in, and the record
    as the last round left it (its seq, counts), which the next round plans against without
    reading it again. The transaction's condition on ``seq`` and ``created`` still checks it: a
    writer in another process (or a deleted and re-created collection) cancels it, and the retry
    reads."""

    collection_id: str
    known: CollectionRecord | None = None
    group: GroupCommit[_Write] = field(init=False)

    def __post_init__(self) -> None:
        self.group = GroupCommit(lambda tickets: _commit_round(self.collection_id, tickets, self))


@cache
def _turn(collection_id: str) -> _Turn:
    return _Turn(collection_id)


def commit(collection_id: str, plan: Planner, reads: Iterable[Read] = ()) -> Any:
    """Plan against the collection's current state and commit it atomically, re-planning on a race.

    ``plan`` receives the collection record (read consistently) and returns the writes; each write
    draws its sequence numbers from the iterator it is given. Returns ``plan``'s result, or raises
    what ``plan`` raised. ``reads`` names items ``plan`` will read (``prefetched``): a round reads
    those of all its plans at once.

    Writers in one process queue per collection, and one of them at a time commits for everyone
    queued (``GroupCommit``): it runs the queued plans one after another against the same record,
    and those whose ``Plan.keys`` are disjoint go into one transaction that moves ``seq`` past all
    of them; a plan touching an item an earlier one in the round touches waits for the next round,
    so each writer still gets the answer it would have got alone, in some order of the writers.
    Plans that raise, or write nothing, are answered at once. Racing each other through the
    conditional write instead, all but one writer re-planned every round (under `recognito serve`,
    16 writers to one collection had 5 of 6 transactions cancelled and AssociateFaces p95 at 20 s);
    taking turns, a transaction each, every writer still waited for 15 transactions. Between
    processes (Lambda instances, one request each) the condition on ``seq`` still decides.
    """
    return _turn(collection_id).group.submit(_Write(plan, tuple(reads)))


def _commit_round(collection_id: str, tickets: list[Ticket[_Write]], turn: _Turn) -> None:
    """Settle at least the first ticket: plan them all, commit the compatible ones in one transaction."""
    alone = False  # after a failure no retry can fix, each plan commits by itself
    for attempt in range(MAX_ATTEMPTS):
        try:
            collection, turn.known = turn.known or get_collection(collection_id), None
        except Exception as error:  # the collection is gone: the answer to every plan
            for ticket in tickets:
                ticket.settle(error=error)
            return
        waiting = [ticket for ticket in tickets if not ticket.done]
        with _reading(collection_id, [ticket.work for ticket in waiting]):
            batch = _plan_round(collection, waiting, alone)
        if not batch:
            turn.known = collection
            return
        plans = [planned for _, planned in batch]
        try:
            seq = _transact(collection_id, collection, plans)
        except TransactWriteError as error:
            if not _conflicted(error):
                if len(batch) == 1:
                    batch[0][0].settle(error=error)
                    return
                alone = True
                continue
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            continue
        turn.known = _advanced(collection, seq, plans)
        for ticket, planned in batch:
            ticket.settle(planned.result)
        return
    error = ThrottlingException(f"Too many concurrent changes to collection {collection_id}; retry the request")
    for ticket in tickets:
        if not ticket.done:
            ticket.settle(error=error)


def _plan_round(
    collection: CollectionRecord, tickets: list[Ticket[_Write]], alone: bool
) -> list[tuple[Ticket[_Write], Plan]]:
    """The plans that commit together this round; tickets whose plan raised or writes nothing are
    settled, those that must wait for the next round left as they were."""
    batch: list[tuple[Ticket[_Write], Plan]] = []
    touched: set[tuple[str, str]] = set()
    items = 1  # the collection's update
    for ticket in tickets:
        try:
            planned = ticket.work.plan(collection)
        except Exception as error:
            ticket.settle(error=error)
            continue
        if not planned.writes and not planned.user_delta:
            ticket.settle(planned.result)
            continue
        if batch and (
            alone
            or planned.keys is None
            or batch[0][1].keys is None
            or not touched.isdisjoint(planned.keys)
            or items + len(planned.writes) > MAX_ITEMS_PER_TRANSACTION
        ):
            continue  # planned again next round, against what this one leaves
        batch.append((ticket, planned))
        touched |= planned.keys or set()
        items += len(planned.writes)
    return batch


def _transact(collection_id: str, collection: CollectionRecord, plans: list[Plan]) -> int:
    """One transaction: every plan's writes, and the collection moved past all of them; the new seq."""
    seq = int(collection.seq) + sum(planned.sequence_numbers for planned in plans)
    numbers = iter(range(int(collection.seq) + 1, seq + 1))
    with TransactWrite(connection=_connection()) as transaction:
        transaction.update(
            CollectionRecord(collection_id),
            actions=[
                CollectionRecord.seq.set(seq),
                CollectionRecord.face_count.add(sum(planned.face_delta for planned in plans)),
                CollectionRecord.user_count.add(sum(planned.user_delta for planned in plans)),
            ],
            condition=(CollectionRecord.seq == collection.seq) & (CollectionRecord.created == collection.created),
        )
        for planned in plans:
            for write in planned.writes:
                write(transaction, numbers)
    return seq


def _advanced(collection: CollectionRecord, seq: int, plans: list[Plan]) -> CollectionRecord:
    """The collection's record as committed plans left it (a copy: plans may keep the one they got)."""
    after = copy.deepcopy(collection)
    after.seq = seq
    after.face_count = int(collection.face_count) + sum(planned.face_delta for planned in plans)
    after.user_count = int(collection.user_count) + sum(planned.user_delta for planned in plans)
    return after


def chunks(items: list[T], size: int = MAX_ITEMS_PER_TRANSACTION - 2) -> Iterator[list[T]]:
    """Slices that fit in one transaction beside the collection's and a user's updates."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def encode_embedding(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def decode_embedding(data: bytes) -> np.ndarray:
    vector = np.frombuffer(data, dtype="<f2").astype(np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


class DynamoFaceFeed:
    """The ``FaceFeed`` a search index follows: a collection's face writes above a watermark."""

    def changes_since(self, collection_id: str, after_seq: int) -> Iterator[FaceChange]:
        for record in FaceRecord.by_seq.query(
            collection_id, FaceRecord.seq > after_seq, consistent_read=True, scan_index_forward=True
        ):
            live = not record.deleted and record.embedding is not None
            yield FaceChange(
                face_id=record.face_id,
                seq=int(record.seq),
                embedding=decode_embedding(record.embedding) if live else None,
                user_id=record.user_id if live else None,
            )

    def incarnation(self, collection_id: str) -> str:
        return get_collection(collection_id).created.isoformat()
