"""The per-process cache of collection indexes that makes warm searches cheap.

``IndexCache.get(collection_id, feed)`` returns the collection's index brought up to date: it
checks the incarnation (a collection deleted and re-created under the same id must not answer
with the old faces), then applies ``feed.changes_since(index.seq)``. When nothing changed that is
two cheap key lookups in DynamoDB and no scan, and a face indexed by any function is visible to
the next search here. A cold collection starts from its S3 snapshot when a store is given.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from recognito.errors import ResourceNotFoundException
from recognito.search.feed import FaceFeed
from recognito.search.index import DIM, AnnParams, FaceIndex
from recognito.search.snapshot import SnapshotStore, load_snapshot, snapshot_manifest


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    index: FaceIndex | None = None
    synced_at: float = float("-inf")
    snapshot_checked_at: float = float("-inf")


def _default_max_bytes() -> int | None:
    """Most of a Lambda's memory (the rest is the runtime and the models); unbounded elsewhere."""
    megabytes = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    return int(int(megabytes) * 1024 * 1024 * 0.6) if megabytes else None


class IndexCache:
    """Collection id -> FaceIndex, least recently used evicted past ``max_bytes``.

    ``min_sync_interval_s`` > 0 lets a burst of searches skip the feed for that long (stale reads
    of at most that age); 0 (the default) checks on every call: a face indexed by one call is
    found by the next. After a sync, up to ``absorb_budget_s`` of the call goes to adding new faces
    to the IVF (20-170 us each, growing with its cells) and, while the collection is small, to
    training or retraining it.
    Retraining a large collection is the scheduled snapshot job's work: when this index needs it
    (or ``reload_pending`` faces wait outside the IVF, e.g. after a cold replay), the latest
    snapshot's manifest is checked at most every ``snapshot_check_s`` and a snapshot with more cells
    or far fewer pending faces replaces the index."""

    def __init__(
        self,
        store: SnapshotStore | None = None,
        *,
        min_sync_interval_s: float = 0.0,
        absorb_budget_s: float = 0.05,
        reload_pending: int = 50_000,
        snapshot_check_s: float = 60.0,
        max_bytes: int | None = None,
        params: AnnParams | None = None,
    ) -> None:
        self.store = store
        self.min_sync_interval_s = min_sync_interval_s
        self.absorb_budget_s = absorb_budget_s
        self.reload_pending = reload_pending
        self.snapshot_check_s = snapshot_check_s
        self.max_bytes = max_bytes if max_bytes is not None else _default_max_bytes()
        self.params = params
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, collection_id: str, feed: FaceFeed, store: SnapshotStore | None = None, dim: int = DIM) -> FaceIndex:
        """The collection's index with every change visible to ``feed`` applied; ``dim`` is the size
        of the collection's embeddings (its face model version's).

        Raises ResourceNotFoundException (from the feed) when the collection is gone."""
        with self._lock:
            entry = self._entries.get(collection_id)
            if entry is None:
                entry = self._entries[collection_id] = _Entry()
            self._entries.move_to_end(collection_id)
        with entry.lock:  # one updater per collection; searches of its index go on meanwhile
            now = time.monotonic()
            if entry.index is not None and now - entry.synced_at < self.min_sync_interval_s:
                return entry.index
            try:
                incarnation = feed.incarnation(collection_id)
            except ResourceNotFoundException:
                self.drop(collection_id)
                raise
            snapshots = store if store is not None else self.store
            if entry.index is None or entry.index.incarnation != incarnation or entry.index.dim != dim:
                entry.index = None  # the old incarnation's faces must not answer, even on failure below
                loaded = load_snapshot(collection_id, incarnation, snapshots) if snapshots is not None else None
                if loaded is not None and loaded.dim != dim:
                    loaded = None  # not this collection's embeddings: rebuild from the feed
                entry.index = loaded or FaceIndex(collection_id, incarnation, self.params, dim)
            index = entry.index
            index.apply(feed.changes_since(collection_id, index.seq))
            stale = index.needs_training() or index.pending >= self.reload_pending
            if snapshots is not None and stale and now - entry.snapshot_checked_at >= self.snapshot_check_s:
                entry.snapshot_checked_at = now
                index = entry.index = self._fresher(index, feed, snapshots)
            if index.pending or index.needs_training():
                index.absorb(max_seconds=self.absorb_budget_s)
            entry.synced_at = now
        self._evict(keep=collection_id)
        return index

    @staticmethod
    def _fresher(index: FaceIndex, feed: FaceFeed, store: SnapshotStore) -> FaceIndex:
        """The latest snapshot plus changes since, if it is better trained than ``index``."""
        manifest = snapshot_manifest(index.collection_id, index.incarnation, store)
        if manifest is None:
            return index
        better = manifest.get("cells", 0) > index.cells or manifest.get("pending", 0) * 4 < index.pending
        if not better:
            return index
        loaded = load_snapshot(index.collection_id, index.incarnation, store)
        if loaded is None:
            return index
        loaded.apply(feed.changes_since(index.collection_id, loaded.seq))
        return loaded

    def drop(self, collection_id: str) -> None:
        """Forget a collection (e.g. after DeleteCollection in this process)."""
        with self._lock:
            self._entries.pop(collection_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self._entries

    def _evict(self, keep: str) -> None:
        if self.max_bytes is None:
            return
        with self._lock:
            sizes = {cid: e.index.nbytes for cid, e in self._entries.items() if e.index is not None}
            total = sum(sizes.values())
            for cid in list(self._entries):  # oldest first
                if total <= self.max_bytes:
                    break
                if cid != keep:
                    total -= sizes.get(cid, 0)
                    del self._entries[cid]
