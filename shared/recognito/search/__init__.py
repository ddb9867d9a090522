"""Face search over a collection: in memory, kept current from storage's change feed.

- ``FaceIndex`` (index.py): one collection; exact float16 scan when small, usearch HNSW graph with
  exact re-rank when large.
- ``IndexCache`` / ``index_cache`` (cache.py): per-process indexes, synced per call.
- snapshots (snapshot.py): the index in S3 for cold starts, written by ``refresh_snapshot``.
- sharding (shard.py): collections beyond one function's memory.
See README.md beside this file.
"""

from recognito.search.cache import IndexCache, index_cache
from recognito.search.feed import FaceChange, FaceFeed
from recognito.search.index import DIM, AnnParams, FaceIndex
from recognito.search.shard import merge_results, shard_of
from recognito.search.snapshot import (
    DirSnapshotStore,
    MemorySnapshotStore,
    S3SnapshotStore,
    SnapshotStore,
    load_snapshot,
    refresh_snapshot,
    save_snapshot,
    snapshot_seq,
)

__all__ = [
    "DIM",
    "AnnParams",
    "DirSnapshotStore",
    "FaceChange",
    "FaceFeed",
    "FaceIndex",
    "IndexCache",
    "MemorySnapshotStore",
    "S3SnapshotStore",
    "SnapshotStore",
    "index_cache",
    "load_snapshot",
    "merge_results",
    "refresh_snapshot",
    "save_snapshot",
    "shard_of",
    "snapshot_seq",
]
