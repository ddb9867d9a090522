"""Face search over a collection: in memory, kept current from storage's change feed.

- ``FaceIndex`` (index.py): one collection; exact float16 scan when small, faiss IVF (8-bit codes)
  with exact re-rank when large.
- ``IndexCache`` (cache.py): per-process indexes, synced per call.
- snapshots (snapshot.py): the index in S3 for cold starts, written by ``refresh_snapshot``.
Sharding collections beyond one function's memory is planned, not built (tests/search_shards.py).
See README.md beside this file.
"""

import importlib
from typing import Any

# Names resolve on first use (PEP 562): the storage layer imports ``recognito.search.feed`` alone,
# and functions that never search must not load faiss and numkong, which live in the SearchLayer.
_HOMES = {
    "IndexCache": "cache",
    "FaceChange": "feed",
    "FaceFeed": "feed",
    "DIM": "index",
    "AnnParams": "index",
    "FaceIndex": "index",
    "DirSnapshotStore": "snapshot",
    "MemorySnapshotStore": "snapshot",
    "S3SnapshotStore": "snapshot",
    "SnapshotStore": "snapshot",
    "load_snapshot": "snapshot",
    "refresh_snapshot": "snapshot",
    "save_snapshot": "snapshot",
    "snapshot_seq": "snapshot",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'recognito.search' has no attribute {name!r}")
    return getattr(importlib.import_module(f"recognito.search.{_HOMES[name]}"), name)
