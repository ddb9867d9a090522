"""Index snapshots of large collections, refreshed on a schedule (never on the request path).

A cold search function loads a collection's snapshot from S3 and applies only the changes since,
so a million-face collection answers its first search in seconds instead of replaying a million
DynamoDB records and training an index within the request.
"""

from __future__ import annotations

from typing import Any

from recognito.collections.search import snapshot_store
from recognito.collections.store import DynamoFaceFeed
from recognito.faces.similarity import face_model
from recognito.search.snapshot import refresh_snapshot, snapshot_seq
from recognito.storage import CollectionRecord

# Below this a collection's index is built from DynamoDB in about a second: no snapshot needed.
MIN_FACES = 20_000
# A snapshot is refreshed once this many changes have piled up behind it.
MIN_CHANGES = 10_000


def refresh_snapshots(
    *, min_faces: int = MIN_FACES, min_changes: int = MIN_CHANGES, max_seconds: float = 600.0
) -> list[dict[str, Any]]:
    """Refresh the snapshot of every collection big enough and changed enough; what was done."""
    store = snapshot_store()
    if store is None:
        return []
    feed = DynamoFaceFeed()
    done = []
    for collection in CollectionRecord.scan():
        if collection.face_count < min_faces:
            continue
        incarnation = collection.created.isoformat()
        behind = int(collection.seq) - (snapshot_seq(collection.collection_id, incarnation, store) or 0)
        if behind >= min_changes or behind == int(collection.seq):
            dim = face_model(collection.face_model_version).dim
            done.append(refresh_snapshot(collection.collection_id, feed, store, max_seconds=max_seconds, dim=dim))
    return done
