"""One collection's faces in memory: a compact float16 matrix, exact scan, and an HNSW graph.

Why this shape:

- Brute force over 1M x 512 is memory-bound (160 ms per query in float32), so past
  ``AnnParams.ann_threshold`` faces a usearch HNSW graph over int8 vectors proposes candidates and
  the float16 matrix re-ranks them exactly. Below it an exact scan is fast enough (numkong's float16
  kernel reads ~10 GB/s: about 1 ms per 10k faces) and nothing needs building.
- Building a graph costs about 1 ms of CPU per face, so it never happens in bulk on the request
  path. Faces not yet in the graph are *pending*: searches scan them exactly, and ``absorb`` moves
  them into the graph within a time budget (a small one per request, a large one in the scheduled
  snapshot job). A face is therefore searchable the moment its change is applied.
- Every result is re-ranked from the float16 matrix and checked against the live slots, so the
  graph's int8 approximation never decides a similarity and a deleted face is never returned.

Concurrency: any number of searching threads and one updater. Searches share a read lock; the
updater takes the write lock per batch of changes, so searches pause only for a batch, never for a
whole sync. Calls into usearch are serialized by their own lock (its Python binding uses one search
context for single-threaded calls, so two concurrent searches would share it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numkong
import numpy as np
from usearch.index import Index

from recognito.search.feed import FaceChange

DIM = 512
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class AnnParams:
    """Tuning of the approximate path; the defaults are what bench/search_scale.py measured."""

    ann_threshold: int = 20_000  # below this many faces: exact scan only, no graph kept
    connectivity: int = 16  # HNSW M: edges per node
    expansion_add: int = 128  # efConstruction: graph quality per insert (and its cost)
    expansion_search: int = 128  # ef: candidates explored per query (recall vs latency)
    min_candidates: int = 32  # graph candidates re-ranked at least, past max_faces
    pending_full_scan: float = 0.25  # scan everything exactly once this share of faces is pending
    apply_batch: int = 4096  # changes applied per write lock


class _RWLock:
    """Many readers or one writer; a waiting writer holds new readers back so it is not starved."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
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
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _as_query(query: np.ndarray) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape[0] != DIM:
        raise ValueError(f"query has {q.shape[0]} dimensions, expected {DIM}")
    norm = float(np.linalg.norm(q))
    return q / norm if norm > 0 else q


class FaceIndex:
    """The faces of one collection (one incarnation of it), searchable by cosine similarity."""

    def __init__(self, collection_id: str, incarnation: str = "", params: AnnParams | None = None) -> None:
        self.collection_id = collection_id
        self.incarnation = incarnation
        self.params = params or AnnParams()
        self.seq = 0  # every change with seq <= this is applied
        self._n = 0  # slots in use (live or free); rows past it are unused capacity
        self._matrix = np.zeros((0, DIM), np.float16)
        self._alive = np.zeros(0, bool)
        self._in_graph = np.zeros(0, bool)
        self._ids: list[str | None] = []
        self._users: list[str | None] = []
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []  # freed slots, reused so deletes do not grow the matrix
        self._graph: Index | None = None
        self._version = 0  # bumped on every change of which slots are live or in the graph
        self._pending: tuple[int, np.ndarray] = (-1, np.zeros(0, np.int64))
        self._rw = _RWLock()
        self._update_lock = threading.RLock()  # the one updater: apply, upsert, remove, absorb
        self._graph_lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, face_id: object) -> bool:
        return face_id in self._slot_of

    def user_of(self, face_id: str) -> str | None:
        """The user a face is associated with (None: none); KeyError if the face is not indexed."""
        with self._rw.read():
            return self._users[self._slot_of[face_id]]

    def embedding(self, face_id: str) -> np.ndarray:
        """The stored embedding (float32, from the float16 copy); KeyError if not indexed.
        SearchFaces by FaceId searches with this."""
        with self._rw.read():
            return self._matrix[self._slot_of[face_id]].astype(np.float32)

    @property
    def pending(self) -> int:
        """Faces searchable only by exact scan until ``absorb`` puts them in the graph."""
        return len(self._pending_slots()) if self._graph is not None else 0

    @property
    def has_graph(self) -> bool:
        return self._graph is not None

    @property
    def nbytes(self) -> int:
        """Resident size estimate: matrix, graph and the Python id maps (~200 B per face)."""
        graph = self._graph.memory_usage if self._graph is not None else 0
        return int(self._matrix.nbytes + self._alive.nbytes * 2 + graph + 200 * len(self._ids))

    def search(self, query: np.ndarray, max_faces: int, min_similarity_cosine: float) -> list[tuple[str, float]]:
        """Up to ``max_faces`` (face_id, cosine) with cosine >= the threshold, best first."""
        q = _as_query(query)
        if max_faces <= 0:
            return []
        with self._rw.read():
            n = self._n
            if not n:
                return []
            count = max(2 * max_faces, max_faces + self.params.min_candidates)
            pending = self._pending_slots()
            if self._graph is None or len(pending) > self.params.pending_full_scan * len(self._slot_of):
                candidates = self._scan(q, np.arange(n), count)
            else:
                with self._graph_lock:
                    graph = self._graph
                    ef = max(self.params.expansion_search, count)
                    if graph.expansion_search != ef:
                        graph.expansion_search = ef
                    found = graph.search(q, count, threads=1).keys.astype(np.int64)
                candidates = np.concatenate([found, self._scan(q, pending, count)]) if len(pending) else found
            return self._rerank(q, candidates, max_faces, min_similarity_cosine)

    def _scan(self, q: np.ndarray, slots: np.ndarray, count: int) -> np.ndarray:
        """Exact top ``count`` live slots among ``slots`` (a contiguous 0..n range scans in place)."""
        if not len(slots):
            return slots
        contiguous = slots[0] == 0 and slots[-1] == len(slots) - 1
        rows = self._matrix[: len(slots)] if contiguous else self._matrix[slots]
        scores = np.asarray(numkong.cdist(q.astype(np.float16)[None], rows, metric="dot", threads=1))[0]
        scores[~self._alive[slots]] = -np.inf
        if len(scores) > count:
            top = np.argpartition(-scores, count - 1)[:count]
            return slots[top]
        return slots

    def _rerank(self, q: np.ndarray, slots: np.ndarray, max_faces: int, threshold: float) -> list[tuple[str, float]]:
        slots = np.unique(slots[(slots >= 0) & (slots < self._n)])
        slots = slots[self._alive[slots]]  # deleted faces never come back, whatever the graph says
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
            slots = np.flatnonzero(self._alive[: self._n] & ~self._in_graph[: self._n])
            self._pending = (self._version, slots)  # a benign race: any reader computes the same
        return slots

    # -- updating --------------------------------------------------------------------------------

    def upsert(self, face_id: str, embedding: np.ndarray, user_id: str | None = None) -> None:
        """Add a face, or update one: a new user only re-labels it, a new embedding re-indexes it."""
        with self._update_lock, self._rw.write():
            self._upsert(face_id, embedding, user_id)

    add = upsert

    def remove(self, face_id: str) -> bool:
        """Remove a face; False if it was not indexed."""
        with self._update_lock, self._rw.write():
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
        with self._rw.write():
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
        if row.shape[0] != DIM:
            raise ValueError(f"embedding has {row.shape[0]} dimensions, expected {DIM}")
        row16 = row.astype(np.float16)
        slot = self._slot_of.get(face_id)
        if slot is not None:
            self._users[slot] = user_id
            if np.array_equal(self._matrix[slot], row16):
                return
            if self._in_graph[slot]:
                self._graph_remove(slot)  # the graph holds the old vector: re-insert on absorb
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
        if self._in_graph[slot]:
            self._graph_remove(slot)
        self._alive[slot] = False
        self._ids[slot] = None
        self._users[slot] = None
        self._free.append(slot)
        self._version += 1
        return True

    def _graph_remove(self, slot: int) -> None:
        with self._graph_lock:
            self._graph.remove(slot)
        self._in_graph[slot] = False

    def _next_slot(self) -> int:
        if self._n == len(self._matrix):
            self._grow(max(1024, int(len(self._matrix) * 1.5)))
        self._n += 1
        self._ids.append(None)
        self._users.append(None)
        return self._n - 1

    def _grow(self, capacity: int) -> None:
        matrix = np.zeros((capacity, DIM), np.float16)
        matrix[: self._n] = self._matrix[: self._n]
        alive = np.zeros(capacity, bool)
        alive[: self._n] = self._alive[: self._n]
        in_graph = np.zeros(capacity, bool)
        in_graph[: self._n] = self._in_graph[: self._n]
        self._matrix, self._alive, self._in_graph = matrix, alive, in_graph

    # -- the graph -------------------------------------------------------------------------------

    def _new_graph(self) -> Index:
        p = self.params
        return Index(
            ndim=DIM,
            metric="cos",
            dtype="i8",
            connectivity=p.connectivity,
            expansion_add=p.expansion_add,
            expansion_search=p.expansion_search,
        )

    def absorb(self, max_seconds: float | None = None, threads: int = 0, chunk_seconds: float = 0.05) -> int:
        """Insert pending faces into the graph, for at most about ``max_seconds`` (None: all).

        Faces go in chunks of about ``chunk_seconds``: searches wait for the graph during a chunk,
        so keep it short where searches run; an offline build uses long chunks (better threading).

        Starts the graph once the collection reaches ``ann_threshold`` faces. Searches go on
        meanwhile: a face being inserted is found by the exact scan until it is marked in the graph
        (duplicates between the two are merged). Returns how many faces were inserted."""
        with self._update_lock:
            if self._graph is None:
                if len(self) < self.params.ann_threshold:
                    return 0
                self._graph = self._new_graph()
                self._version += 1
            start = time.perf_counter()
            done, chunk = 0, 64
            while True:
                pending = self._pending_slots()
                if not len(pending):
                    break
                batch = pending[:chunk]
                vectors = self._matrix[batch].astype(np.float32)
                t0 = time.perf_counter()
                with self._graph_lock:
                    self._graph.add(batch.astype(np.uint64), vectors, threads=threads)
                with self._rw.write():
                    self._in_graph[batch] = True
                    self._version += 1
                done += len(batch)
                elapsed = time.perf_counter() - start
                if max_seconds is not None and elapsed >= max_seconds:
                    break
                per_face = (time.perf_counter() - t0) / len(batch)
                chunk = int(min(65536, max(16, chunk_seconds / max(per_face, 1e-6))))
                if max_seconds is not None:
                    chunk = max(1, min(chunk, int((max_seconds - elapsed) / max(per_face, 1e-6)) + 1))
        return done

    # -- snapshots (serialized by recognito.search.snapshot) -------------------------------------

    def export_parts(self) -> tuple[dict, dict[str, bytes]]:
        """A consistent copy of the state as a JSON-able manifest and named binary parts.

        Holds the updater lock (no change mid-copy) and a read lock (searches go on)."""
        with self._update_lock, self._rw.read():
            n = self._n
            manifest = {
                "format": SNAPSHOT_FORMAT,
                "collection_id": self.collection_id,
                "incarnation": self.incarnation,
                "seq": self.seq,
                "slots": n,
                "faces": len(self),
                "dim": DIM,
                "params": asdict(self.params),
                "graph": self._graph is not None,
                "pending": len(self._pending_slots()) if self._graph is not None else 0,
            }
            parts = {
                "ids": "\n".join(i or "" for i in self._ids[:n]).encode(),
                "users": "\n".join(u or "" for u in self._users[:n]).encode(),
                "matrix": self._matrix[:n].tobytes(),
                "in_graph": np.packbits(self._in_graph[:n]).tobytes(),
            }
            if self._graph is not None:
                with self._graph_lock:
                    parts["graph"] = bytes(self._graph.save())
        return manifest, parts

    @classmethod
    def from_parts(cls, manifest: dict, parts: dict[str, bytes]) -> FaceIndex:
        if manifest.get("format") != SNAPSHOT_FORMAT or manifest.get("dim") != DIM:
            raise ValueError(f"unsupported snapshot {json.dumps({k: manifest.get(k) for k in ('format', 'dim')})}")
        index = cls(manifest["collection_id"], manifest["incarnation"], AnnParams(**manifest["params"]))
        n = int(manifest["slots"])
        ids = parts["ids"].decode().split("\n") if n else []
        users = parts["users"].decode().split("\n") if n else []
        if len(ids) != n or len(users) != n:
            raise ValueError("snapshot ids do not match its slot count")
        capacity = n + max(1024, n // 10)  # headroom: the first adds after a load do not copy it all
        index._grow(capacity)
        index._matrix[:n] = np.frombuffer(parts["matrix"], np.float16).reshape(n, DIM)
        index._ids = [i or None for i in ids]
        index._users = [u or None for u in users]
        index._slot_of = {face_id: slot for slot, face_id in enumerate(ids) if face_id}
        index._alive[:n] = np.fromiter((bool(i) for i in ids), bool, n)
        index._free = np.flatnonzero(~index._alive[:n]).tolist()
        index._n = n
        if manifest["graph"]:
            graph = index._new_graph()
            graph.load(parts["graph"])
            graph.expansion_add = index.params.expansion_add
            graph.expansion_search = index.params.expansion_search
            index._graph = graph
            index._in_graph[:n] = np.unpackbits(np.frombuffer(parts["in_graph"], np.uint8), count=n).astype(bool)
        index.seq = int(manifest["seq"])
        index._version += 1
        return index
