"""Snapshots: a large collection's index in S3, so a cold function loads instead of rebuilding.

Replaying a 1M-face collection from DynamoDB (about 2 GB of items, 1 MB per query page) and
training its IVF (about a minute on two cores) cannot fit in API Gateway's 29 s. A snapshot holds
what that would produce: the face ids, user ids, the float16 matrix, the serialized faiss IVF
(cells and codes) and the seq watermark. A cold start loads it and applies only
``feed.changes_since(snapshot seq)``.

Layout under ``{prefix}{collection}/{incarnation}/``: immutable parts at ``{seq}-{nonce}/{name}``,
then ``latest.json`` (the manifest naming them) written last, so a reader sees a whole snapshot
or the previous one. A re-created collection has a new incarnation and so never reads the old one's
snapshots. Writers keep two generations and delete older parts where the store can delete, so a
reader that fetched the previous manifest still finds its parts.

Snapshots are written by ``refresh_snapshot``, meant for a scheduled function (e.g. every few
minutes, for collections with enough changes since their snapshot), never on the request path.
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from recognito.search.feed import FaceFeed
from recognito.search.index import DIM, AnnParams, FaceIndex


class SnapshotStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such key."""
        ...


class MemorySnapshotStore:
    """A dict: for tests and single-process use."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


class DirSnapshotStore:
    """Files under a directory: for benchmarks and a local endpoint without S3."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3SnapshotStore:
    """S3 objects under ``prefix``. Transfers go through boto3's transfer manager: large parts move
    as concurrent ranged GETs and multipart uploads, which is what makes a 1 GB+ load quick."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: object | None = None,
        max_concurrency: int = 16,
        part_size: int = 32 * 1024 * 1024,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self._config = TransferConfig(
            multipart_threshold=part_size,
            multipart_chunksize=part_size,
            max_concurrency=max_concurrency,
        )

    def put(self, key: str, data: bytes) -> None:
        self.client.upload_fileobj(io.BytesIO(data), self.bucket, self.prefix + key, Config=self._config)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            size = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)["ContentLength"]
            buffer = _Buffer(size)
            self.client.download_fileobj(self.bucket, self.prefix + key, buffer, Config=self._config)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return buffer.data  # a bytearray, filled in place: no second copy of a 1 GB part

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


class _Buffer(io.RawIOBase):
    """A seekable file over a preallocated bytearray, so concurrent ranged GETs land in place."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.data = bytearray(size)
        self._view = memoryview(self.data)
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self.data)}[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def write(self, chunk: bytes) -> int:
        end = self._position + len(chunk)
        if end > len(self.data):  # the object grew between HEAD and GET
            self._view.release()
            self.data.extend(bytes(end - len(self.data)))
            self._view = memoryview(self.data)
        self._view[self._position : end] = chunk
        self._position = end
        return len(chunk)


def _base(collection_id: str, incarnation: str) -> str:
    return f"{quote(collection_id, safe='')}/{quote(incarnation, safe='')}/"


def _latest_key(collection_id: str, incarnation: str) -> str:
    return _base(collection_id, incarnation) + "latest.json"


def snapshot_manifest(collection_id: str, incarnation: str, store: SnapshotStore) -> dict | None:
    """The latest snapshot's manifest (seq, faces, pending, parts), or None: one small GET."""
    raw = store.get(_latest_key(collection_id, incarnation))
    return json.loads(raw) if raw is not None else None


def snapshot_seq(collection_id: str, incarnation: str, store: SnapshotStore) -> int | None:
    """The seq of the latest snapshot (None: none), for a scheduler deciding what to refresh."""
    manifest = snapshot_manifest(collection_id, incarnation, store)
    return int(manifest["seq"]) if manifest else None


def save_snapshot(index: FaceIndex, store: SnapshotStore) -> dict:
    """Write the index's snapshot; returns its manifest. Does not replace a newer snapshot."""
    manifest, parts = index.export_parts()
    base = _base(index.collection_id, index.incarnation)
    folder = f"{base}{manifest['seq']:020d}-{uuid.uuid4().hex[:8]}/"
    keys = {name: folder + name for name in parts}
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        list(pool.map(lambda name: store.put(keys[name], parts[name]), parts))
    previous = snapshot_manifest(index.collection_id, index.incarnation, store)
    if previous and previous["seq"] > manifest["seq"]:
        _delete(store, keys.values())  # another writer got further: keep theirs
        return previous
    manifest["parts"] = keys
    manifest["previous_parts"] = list(previous["parts"].values()) if previous else []
    manifest["written_at"] = time.time()
    store.put(_latest_key(index.collection_id, index.incarnation), json.dumps(manifest).encode())
    if previous:
        _delete(store, previous.get("previous_parts", []))  # two generations back: nobody reads it now
    return manifest


def _delete(store: SnapshotStore, keys: object) -> None:
    delete = getattr(store, "delete", None)
    if delete is not None:
        for key in keys:
            delete(key)


def load_snapshot(collection_id: str, incarnation: str, store: SnapshotStore) -> FaceIndex | None:
    """The collection's latest snapshot as an index (its ``seq`` says where the feed resumes)."""
    for _attempt in range(2):  # a refresh may delete parts between our manifest read and theirs
        manifest = snapshot_manifest(collection_id, incarnation, store)
        if manifest is None:
            return None
        keys = manifest["parts"]
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            fetched = dict(zip(keys, pool.map(store.get, keys.values()), strict=True))
        if all(value is not None for value in fetched.values()):
            return FaceIndex.from_parts(manifest, fetched)
    return None


def refresh_snapshot(
    collection_id: str,
    feed: FaceFeed,
    store: SnapshotStore,
    *,
    min_changes: int = 1,
    max_seconds: float = 600.0,
    params: AnnParams | None = None,
    dim: int = DIM,
) -> dict:
    """Bring a collection's snapshot up to date: for a scheduled function, not the request path.

    Loads the latest snapshot (or starts empty), applies the changes since, (re)trains the IVF when
    the collection outgrew its cells (about a minute for 1M faces on two cores: too long for a
    request, fine here), adds pending faces, and writes a new snapshot when at least ``min_changes``
    changes were applied or the IVF changed. ``dim``: the size of the collection's embeddings.
    Returns what it did."""
    start = time.perf_counter()
    incarnation = feed.incarnation(collection_id)
    index = load_snapshot(collection_id, incarnation, store)
    if index is None or index.dim != dim:
        index = FaceIndex(collection_id, incarnation, params, dim)
    applied = index.apply(feed.changes_since(collection_id, index.seq))
    cells = index.cells
    absorbed = index.absorb(max_seconds=max(0.0, max_seconds - (time.perf_counter() - start)), offline=True)
    written = applied >= min_changes or absorbed > 0 or index.cells != cells
    if written:
        save_snapshot(index, store)
    return {
        "collection_id": collection_id,
        "incarnation": incarnation,
        "seq": index.seq,
        "faces": len(index),
        "pending": index.pending,
        "applied": applied,
        "absorbed": absorbed,
        "cells": index.cells,
        "written": written,
        "seconds": round(time.perf_counter() - start, 3),
    }


__all__ = [
    "DirSnapshotStore",
    "MemorySnapshotStore",
    "S3SnapshotStore",
    "SnapshotStore",
    "load_snapshot",
    "refresh_snapshot",
    "save_snapshot",
    "snapshot_manifest",
    "snapshot_seq",
]
