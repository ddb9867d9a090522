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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

import numpy as np
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from recognito.collections.service import get_collection
from recognito.errors import ThrottlingException
from recognito.search.feed import FaceChange
from recognito.settings import settings
from recognito.storage import CollectionRecord, FaceRecord

MAX_ITEMS_PER_TRANSACTION = 100
MAX_ATTEMPTS = 40

T = TypeVar("T")


@dataclass
class Plan:
    """What one transaction will do, decided from a consistent read of the collection's state."""

    sequence_numbers: int = 0
    face_delta: int = 0
    user_delta: int = 0
    writes: list[Callable[[TransactWrite, Iterator[int]], None]] = field(default_factory=list)
    result: Any = None


@cache
def _connection() -> Connection:
    return Connection(region=settings().region)


def _conflicted(error: TransactWriteError) -> bool:
    return error.cause_response_code in ("TransactionCanceledException", "TransactionConflictException")


@dataclass
class _Turn:
    """One collection's writers in this process: the lock they take turns on, and the record as
    the last of them left it (its seq, counts), which the next one plans against without reading
    it again. The transaction's condition on ``seq`` and ``created`` still checks it: a writer in
    another process (or a deleted and re-created collection) cancels it, and the retry reads."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    known: CollectionRecord | None = None


@cache
def _turn(collection_id: str) -> _Turn:
    return _Turn()


def commit(collection_id: str, plan: Callable[[CollectionRecord], Plan]) -> Any:
    """Plan against the collection's current state and commit it atomically, re-planning on a race.

    ``plan`` receives the collection record (read consistently) and returns the writes; each write
    draws its sequence numbers from the iterator it is given. Returns ``plan``'s result.

    Writers in one process take turns per collection first: racing each other through the
    conditional write, all but one of them would re-plan every round, and the wasted reads and
    transactions lengthen the next round (under `recognito serve`, 16 writers to one collection
    had 5 of 6 transactions cancelled and AssociateFaces p95 at 20 s). Between processes (Lambda
    instances, one request each) the condition on ``seq`` still decides. The one whose turn it is
    plans against the record its predecessor left (``_Turn.known``): the turn holds one DynamoDB
    read fewer.
    """
    turn = _turn(collection_id)
    with turn.lock:
        return _commit(collection_id, plan, turn)


def _commit(collection_id: str, plan: Callable[[CollectionRecord], Plan], turn: _Turn) -> Any:
    for attempt in range(MAX_ATTEMPTS):
        collection, turn.known = turn.known or get_collection(collection_id), None
        planned = plan(collection)
        if not planned.writes and not planned.user_delta:
            turn.known = collection
            return planned.result
        seq = int(collection.seq) + planned.sequence_numbers
        numbers = iter(range(int(collection.seq) + 1, seq + 1))
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.update(
                    CollectionRecord(collection_id),
                    actions=[
                        CollectionRecord.seq.set(seq),
                        CollectionRecord.face_count.add(planned.face_delta),
                        CollectionRecord.user_count.add(planned.user_delta),
                    ],
                    condition=(CollectionRecord.seq == collection.seq)
                    & (CollectionRecord.created == collection.created),
                )
                for write in planned.writes:
                    write(transaction, numbers)
        except TransactWriteError as error:
            if not _conflicted(error):
                raise
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            continue
        turn.known = _advanced(collection, seq, planned)
        return planned.result
    raise ThrottlingException(f"Too many concurrent changes to collection {collection_id}; retry the request")


def _advanced(collection: CollectionRecord, seq: int, planned: Plan) -> CollectionRecord:
    """The collection's record as a committed plan left it (a copy: plans may keep the one they got)."""
    after = copy.deepcopy(collection)
    after.seq = seq
    after.face_count = int(collection.face_count) + planned.face_delta
    after.user_count = int(collection.user_count) + planned.user_delta
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
