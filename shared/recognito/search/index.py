"""One collection's faces in memory: a float16 matrix, exact scan, and an IVF index over it.

Why this shape:

- Brute force over 1M x 512 is memory-bound (160 ms per query in float32, ~70 ms over float16), so
  past ``AnnParams.ann_threshold`` faces an approximate index proposes candidates and the float16
  matrix re-ranks them exactly. Below it an exact scan is fast enough (numkong's float16 kernel:
  about 1 ms per 10k faces) and nothing needs training.
- The approximate index is faiss's IVF with 8-bit codes (``IndexIVFScalarQuantizer``): k-means cells,
  a query scans the faces of its ``nprobe`` nearest cells. On clustered face embeddings it found
  0.997 of the exact matches at 1M faces in ~2.5 ms (one core), it builds in under a minute (an HNSW graph took
  25 minutes on two cores and, at 1M, left ~7% of faces unreachable from their own vector: its edge
  pruning cuts tight identity clusters apart), and adding a face costs one dim x nlist product, so
  it keeps up with writes on the request path. See README.md and bench/search_scale.py.
- Faces not yet in the IVF are *pending* (before it is trained, or between a write and ``absorb``):
  searches scan them exactly beside it, so a face is searchable the moment its change is applied.
- The cells are trained on the faces present when the IVF is built; as the collection grows
  ``absorb`` retrains with more cells (cheaply online while small, offline in the scheduled
  snapshot job when large).
- Every result is re-ranked from the float16 matrix and checked against the live slots, so the
  8-bit approximation never decides a similarity and a deleted face is never returned.

Concurrency: any number of searching threads and one updater. Searches share a read lock; the
updater takes the write lock per batch of changes, so searches pause only for a batch, never for a
whole sync or a retraining (built aside, then swapped in). faiss calls are serialized by their own lock.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import faiss
import numkong
import numpy as np

from recognito.faces.similarity import FACE_MODEL_VERSION, face_model
from recognito.locks import ReadWriteLock
from recognito.search.feed import FaceChange

SNAPSHOT_FORMAT = 2
# An index holds one face model version's embeddings (its size: 512 for "1.0", 128 for "2.0");
# by default the one new collections are created with.
DIM = face_model(FACE_MODEL_VERSION).dim


@dataclass(frozen=True)
class AnnParams:
    """Tuning of the approximate path; the defaults are what bench/search_scale.py measured."""

    ann_threshold: int = 20_000  # below this many faces: exact scan only, no IVF kept
    probe_fraction: float = 1 / 32  # share of the cells a query scans (recall vs latency)
    min_probes: int = 16
    min_candidates: int = 32  # candidates re-ranked at least, past max_faces
    online_train_max_cells: int = 256  # train at most this many cells on the request path (~1 s)
    pending_full_scan: float = 0.25  # scan everything exactly once this share of faces is pending
    apply_batch: int = 4096  # changes applied per write lock

    @classmethod
    def for_dim(cls, dim: int) -> AnnParams:
        """The tuning for ``dim``-value embeddings: the defaults were measured at 512-d (FaceNet, 1.0).

        At 128-d (SFace, 2.0; bench/search_scale.py --version 2.0 on clustered synthetic faces) an
        exact scan reads a quarter of the bytes, so it serves 4x the faces (80k) for the same cost;
        the IVF needs a quarter of its cells probed to find 0.99 of the same person's faces above
        the threshold (16 of 256 found 0.89 at 100k faces, 64 found 0.99; at 1M, 256 of 1024 0.99).
        """
        if dim >= 512:
            return cls()
        return cls(ann_threshold=80_000, probe_fraction=1 / 4, min_probes=64)


def cells_for(faces: int) -> int:
    """IVF cells for a collection size: the power of two nearest sqrt(n), so a cell holds ~sqrt(n)
    (and at least the 39 faces per cell that k-means wants)."""
    cells = 1 << min(14, round(math.log2(max(1, faces)) / 2))
    while cells > 1 and cells * 39 > faces:
        cells //= 2
    return cells


def _as_query(query: np.ndarray, dim: int) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape[0] != dim:
        raise ValueError(f"query has {q.shape[0]} dimensions, expected {dim}")
    norm = float(np.linalg.norm(q))
    return q / norm if norm > 0 else q


class FaceIndex:
    """The faces of one collection (one incarnation of it), searchable by cosine similarity."""

    def __init__(
        self, collection_id: str, incarnation: str = "", params: AnnParams | None = None, dim: int = DIM
    ) -> None:
        self.collection_id = collection_id
        self.incarnation = incarnation
        self.params = params or AnnParams.for_dim(dim)
        self.dim = dim  # the embeddings' size, fixed by the collection's face model version
        self.seq = 0  # every change with seq <= this is applied
        self._n = 0  # slots in use (live or free); rows past it are unused capacity
        self._matrix = np.zeros((0, dim), np.float16)
        self._alive = np.zeros(0, bool)
        self._in_ann = np.zeros(0, bool)
        self._ids: list[str | None] = []
        self._users: list[str | None] = []
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []  # freed slots, reused so deletes do not grow the matrix
        self._ann: faiss.IndexIVFScalarQuantizer | None = None
        self._trained_on = 0  # faces present when the IVF's cells were trained
        self._version = 0  # bumped on every change of which slots are live or in the IVF
        self._pending: tuple[int, np.ndarray] = (-1, np.zeros(0, np.int64))
        self._rw = ReadWriteLock()
        self._update_lock = threading.RLock()  # the one updater: apply, upsert, remove, absorb
        self._ann_lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, face_id: object) -> bool:
        return face_id in self._slot_of

    def user_of(self, face_id: str) -> str | None:
        """The user a face is associated with (None: none); KeyError if the face is not indexed."""
        with self._rw.shared():
            return self._users[self._slot_of[face_id]]

    def embedding(self, face_id: str) -> np.ndarray:
        """The stored embedding (float32, from the float16 copy); KeyError if not indexed.
        SearchFaces by FaceId searches with this."""
        with self._rw.shared():
            return self._matrix[self._slot_of[face_id]].astype(np.float32)

    @property
    def pending(self) -> int:
        """Live faces outside the IVF, found by exact scan (all of them while there is no IVF)."""
        return len(self._pending_slots())

    @property
    def has_ann(self) -> bool:
        return self._ann is not None

    @property
    def cells(self) -> int:
        return self._ann.nlist if self._ann is not None else 0

    @property
    def nbytes(self) -> int:
        """Resident size estimate: matrix, IVF codes and ids, and the Python id maps (~200 B per face)."""
        ann = self._ann.ntotal * (self.dim + 8 + 32) + self._ann.nlist * self.dim * 4 if self._ann is not None else 0
        return int(self._matrix.nbytes + self._alive.nbytes * 2 + ann + 200 * len(self._ids))

    def search(self, query: np.ndarray, max_faces: int, min_similarity_cosine: float) -> list[tuple[str, float]]:
        """Up to ``max_faces`` (face_id, cosine) with cosine >= the threshold, best first."""
        q = _as_query(query, self.dim)
        if max_faces <= 0:
            return []
        with self._rw.shared():
            n = self._n
            if not n:
                return []
            count = max(2 * max_faces, max_faces + self.params.min_candidates)
            pending = self._pending_slots()
            if self._ann is None or len(pending) > self.params.pending_full_scan * len(self._slot_of):
                candidates = self._scan(q, np.arange(n), count)
            else:
                with self._ann_lock:
                    ann = self._ann
                    probes = max(self.params.min_probes, int(ann.nlist * self.params.probe_fraction))
                    ann.nprobe = min(ann.nlist, probes)
                    _, found = ann.search(q[None], count)
                candidates = found[0]
                if len(pending):
                    candidates = np.concatenate([candidates, self._scan(q, pending, count)])
            return self._rerank(q, candidates, max_faces, min_similarity_cosine)

    def _scan(self, q: np.ndarray, slots: np.ndarray, count: int) -> np.ndarray:
        """Exact top ``count`` live slots among ``slots`` (a contiguous 0..n range scans in place)."""
        if not len(slots):
            return slots
        contiguous = slots[0] == 0 and slots[-1] == len(slots) - 1
        rows = self._matrix[: len(slots)] if contiguous else self._matrix[slots]
        scores = np.asarray(numkong.cdist(q.astype(np.float16)[None], rows, metric="dot", threads=1))[0]
        scores[~(self._alive[: len(slots)] if contiguous else self._alive[slots])] = -np.inf
        if len(scores) > count:
            top = np.argpartition(-scores, count - 1)[:count]
            return slots[top]
        return slots

    def _rerank(self, q: np.ndarray, slots: np.ndarray, max_faces: int, threshold: float) -> list[tuple[str, float]]:
        slots = np.unique(slots[(slots >= 0) & (slots < self._n)])
        slots = slots[self._alive[slots]]  # deleted faces never come back, whatever the IVF says
        if not len(slots):
            return []
        scores = np.clip(self._matrix[slots].astype(np.float32) @ q, -1.0, 1.0)
        keep = scores >= threshold
        slots, scores = slots[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")[:max_faces]
        return [(self._ids[s], float(scores[i])) for i, s in zip(order, slots[order], strict=True)]

    def _pending_slots(self) -> np.ndarray:
        version, slots = self._pending
        if version != self._version:
            slots = np.flatnonzero(self._alive[: self._n] & ~self._in_ann[: self._n])
            self._pending = (self._version, slots)  # a benign race: any reader computes the same
        return slots

    # -- updating --------------------------------------------------------------------------------

    def upsert(self, face_id: str, embedding: np.ndarray, user_id: str | None = None) -> None:
        """Add a face, or update one: a new user only re-labels it, a new embedding re-indexes it."""
        with self._update_lock, self._rw.exclusive():
            self._upsert(face_id, embedding, user_id)

    add = upsert

    def remove(self, face_id: str) -> bool:
        """Remove a face; False if it was not indexed."""
        with self._update_lock, self._rw.exclusive():
            return self._remove(face_id)

    def apply(self, changes: Iterable[FaceChange]) -> int:
        """Apply changes in seq order, skipping those already applied; returns how many applied.

        The watermark moves per batch, so a reader of ``seq`` never sees it ahead of the data."""
        applied = 0
        with self._update_lock:
            batch: list[FaceChange] = []
            for change in changes:
                if change.seq > self.seq:
                    batch.append(change)
                if len(batch) >= self.params.apply_batch:
                    applied += self._apply_batch(batch)
                    batch = []
            applied += self._apply_batch(batch)
        return applied

    def _apply_batch(self, batch: list[FaceChange]) -> int:
        if not batch:
            return 0
        with self._rw.exclusive():
            for change in batch:
                if change.seq <= self.seq:
                    continue  # out of order or repeated: seq is the truth
                if change.embedding is None:
                    self._remove(change.face_id)
                else:
                    self._upsert(change.face_id, change.embedding, change.user_id)
                self.seq = change.seq
        return len(batch)

    def _upsert(self, face_id: str, embedding: np.ndarray, user_id: str | None) -> None:
        row = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if row.shape[0] != self.dim:
            raise ValueError(f"embedding has {row.shape[0]} dimensions, expected {self.dim}")
        row16 = row.astype(np.float16)
        slot = self._slot_of.get(face_id)
        if slot is not None:
            self._users[slot] = user_id
            if np.array_equal(self._matrix[slot], row16):
                return
            if self._in_ann[slot]:
                self._ann_remove(slot)  # the IVF holds the old vector: re-added on absorb
        else:
            slot = self._free.pop() if self._free else self._next_slot()
            self._slot_of[face_id] = slot
            self._ids[slot] = face_id
            self._users[slot] = user_id
            self._alive[slot] = True
        self._matrix[slot] = row16
        self._version += 1

    def _remove(self, face_id: str) -> bool:
        slot = self._slot_of.pop(face_id, None)
        if slot is None:
            return False
        if self._in_ann[slot]:
            self._ann_remove(slot)
        self._alive[slot] = False
        self._ids[slot] = None
        self._users[slot] = None
        self._free.append(slot)
        self._version += 1
        return True

    def _ann_remove(self, slot: int) -> None:
        with self._ann_lock:
            self._ann.remove_ids(np.array([slot], np.int64))  # O(1): the IVF keeps a hash of ids
        self._in_ann[slot] = False

    def _next_slot(self) -> int:
        if self._n == len(self._matrix):
            self._grow(max(1024, int(len(self._matrix) * 1.5)))
        self._n += 1
        self._ids.append(None)
        self._users.append(None)
        return self._n - 1

    def _grow(self, capacity: int) -> None:
        matrix = np.zeros((capacity, self.dim), np.float16)
        matrix[: self._n] = self._matrix[: self._n]
        alive = np.zeros(capacity, bool)
        alive[: self._n] = self._alive[: self._n]
        in_ann = np.zeros(capacity, bool)
        in_ann[: self._n] = self._in_ann[: self._n]
        self._matrix, self._alive, self._in_ann = matrix, alive, in_ann

    # -- the IVF ---------------------------------------------------------------------------------

    def _train(self, cells: int) -> faiss.IndexIVFScalarQuantizer:
        """A new, empty IVF whose cells are k-means centroids of (a sample of) the live faces."""
        live = np.flatnonzero(self._alive[: self._n])
        sample = np.random.default_rng(len(live)).choice(live, min(len(live), 64 * cells), replace=False)
        quantizer = faiss.IndexFlatIP(self.dim)
        ann = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        ann.train(self._matrix[np.sort(sample)].astype(np.float32))
        ann.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids by id without a full pass
        return ann

    def needs_training(self) -> bool:
        """No IVF yet past ``ann_threshold``, or one whose cells are too few for today's size."""
        if len(self) < self.params.ann_threshold:
            return False
        return self._ann is None or cells_for(len(self)) >= 2 * self._ann.nlist

    def absorb(self, max_seconds: float | None = None, chunk: int = 4096, offline: bool = False) -> int:
        """Put pending faces into the IVF, for at most about ``max_seconds`` (None: all of them).

        First (re)trains the IVF when ``needs_training``: on the request path with at most
        ``online_train_max_cells`` cells (training cost grows with the cells), with as many as the
        size wants when ``offline`` (the scheduled snapshot job); a retrained IVF is filled aside
        and swapped in. Searches go on meanwhile:
        a face being added is found by the exact scan until it is marked in the IVF (duplicates
        between the two are merged). Returns how many faces were added."""
        with self._update_lock:
            start = time.perf_counter()
            if self.needs_training():
                cells = cells_for(len(self))
                if not offline:  # better a coarse IVF now than an exact scan until the job runs
                    cells = min(cells, self.params.online_train_max_cells)
                if self._ann is None or cells >= 2 * self._ann.nlist:
                    self._retrain(cells)
            if self._ann is None:
                return 0
            done = 0
            while True:
                pending = self._pending_slots()
                if not len(pending):
                    break
                batch = pending[:chunk]
                with self._ann_lock:
                    self._ann.add_with_ids(self._matrix[batch].astype(np.float32), batch.astype(np.int64))
                with self._rw.exclusive():
                    self._in_ann[batch] = True
                    self._version += 1
                done += len(batch)
                if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                    break
        return done

    def _retrain(self, cells: int) -> None:
        ann = self._train(cells)
        live = np.flatnonzero(self._alive[: self._n])
        for begin in range(0, len(live), 65536):
            batch = live[begin : begin + 65536]
            ann.add_with_ids(self._matrix[batch].astype(np.float32), batch.astype(np.int64))
        with self._rw.exclusive(), self._ann_lock:
            self._ann = ann
            self._trained_on = len(live)
            self._in_ann[: self._n] = False
            self._in_ann[live] = True
            self._version += 1

    # -- snapshots (serialized by recognito.search.snapshot) -------------------------------------

    def export_parts(self) -> tuple[dict, dict[str, bytes]]:
        """A consistent copy of the state as a JSON-able manifest and named binary parts.

        Holds the updater lock (no change mid-copy) and a read lock (searches go on)."""
        with self._update_lock, self._rw.shared():
            n = self._n
            manifest = {
                "format": SNAPSHOT_FORMAT,
                "collection_id": self.collection_id,
                "incarnation": self.incarnation,
                "seq": self.seq,
                "slots": n,
                "faces": len(self),
                "dim": self.dim,
                "params": asdict(self.params),
                "ann": self._ann is not None,
                "cells": self.cells,
                "trained_on": self._trained_on,
                "pending": self.pending,
            }
            parts = {
                "ids": "\n".join(i or "" for i in self._ids[:n]).encode(),
                "users": "\n".join(u or "" for u in self._users[:n]).encode(),
                "matrix": self._matrix[:n].tobytes(),
                "in_ann": np.packbits(self._in_ann[:n]).tobytes(),
            }
            if self._ann is not None:
                with self._ann_lock:
                    parts["ann"] = faiss.serialize_index(self._ann).tobytes()
        return manifest, parts

    @classmethod
    def from_parts(cls, manifest: dict, parts: dict[str, bytes]) -> FaceIndex:
        if manifest.get("format") != SNAPSHOT_FORMAT or not isinstance(manifest.get("dim"), int):
            raise ValueError(f"unsupported snapshot {json.dumps({k: manifest.get(k) for k in ('format', 'dim')})}")
        params = AnnParams(**manifest["params"])
        index = cls(manifest["collection_id"], manifest["incarnation"], params, dim=manifest["dim"])
        n = int(manifest["slots"])
        ids = parts["ids"].decode().split("\n") if n else []
        users = parts["users"].decode().split("\n") if n else []
        if len(ids) != n or len(users) != n:
            raise ValueError("snapshot ids do not match its slot count")
        index._grow(n + max(1024, n // 10))  # headroom: the first adds after a load do not copy it all
        index._matrix[:n] = np.frombuffer(parts["matrix"], np.float16).reshape(n, index.dim)
        index._ids = [i or None for i in ids]
        index._users = [u or None for u in users]
        index._slot_of = {face_id: slot for slot, face_id in enumerate(ids) if face_id}
        index._alive[:n] = np.fromiter((bool(i) for i in ids), bool, n)
        index._free = np.flatnonzero(~index._alive[:n]).tolist()
        index._n = n
        if manifest["ann"]:
            index._ann = faiss.deserialize_index(np.frombuffer(parts["ann"], np.uint8))
            index._trained_on = int(manifest["trained_on"])
            index._in_ann[:n] = np.unpackbits(np.frombuffer(parts["in_ann"], np.uint8), count=n).astype(bool)
        index.seq = int(manifest["seq"])
        index._version += 1
        return index
