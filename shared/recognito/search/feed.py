"""What a search index follows: a collection's face writes, in sequence order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Protocol

import numpy as np


class FaceChange(NamedTuple):
    face_id: str
    seq: int
    embedding: np.ndarray | None  # float32 (512,), L2-normalized; None: the face was deleted
    user_id: str | None


class FaceFeed(Protocol):
    def changes_since(self, collection_id: str, after_seq: int) -> Iterator[FaceChange]: ...

    def incarnation(self, collection_id: str) -> str: ...
