"""What the search engine reads from storage: a collection's changes in sequence order.

The storage layer (DynamoDB) gives every write to a collection's faces a sequence number from a
per-collection counter. A warm function keeps each collection's matrix in memory and asks only for
the changes after the last sequence number it applied, so a search costs one cheap query when
nothing changed, and a face indexed by any function is found by the next search in any function.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol

import numpy as np


class FaceChange(NamedTuple):
    """One write to a collection's faces.

    ``seq`` is strictly increasing per collection and visibility is gap-free: once a reader sees
    ``seq == n``, every change with ``seq <= n`` is visible too, so a watermark never skips one.
    """

    face_id: str  # UUID string
    seq: int
    embedding: np.ndarray | None  # float32 (dim,) L2-normalized; None: the face was deleted (a tombstone)
    user_id: str | None  # the user the face is associated with (AssociateFaces writes a new change)


class FaceFeed(Protocol):
    """Storage's side of the contract (the lead implements it over DynamoDB)."""

    def changes_since(self, collection_id: str, after_seq: int) -> Iterator[FaceChange]:
        """Changes with ``seq > after_seq``, ascending by ``seq``."""
        ...

    def incarnation(self, collection_id: str) -> str:
        """Changes when the collection is deleted and re-created under the same id (e.g. its creation
        time); raises ``recognito.errors.ResourceNotFoundException`` when the collection is gone."""
        ...
