"""The in-memory face search engine: exactness, deletes, users, the cache's sync, snapshots, recall."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import boto3
import numpy as np
import pytest
from moto import mock_aws
from recognito.errors import ResourceNotFoundException
from recognito.faces.similarity import FACE_MODEL_VERSION, cosine_for_similarity
from recognito.search import (
    AnnParams,
    FaceChange,
    FaceIndex,
    IndexCache,
    MemorySnapshotStore,
    S3SnapshotStore,
    load_snapshot,
    refresh_snapshot,
    save_snapshot,
    snapshot_seq,
)
from search_shards import merge_results, shard_of
from synthetic_faces import synthetic_faces

THRESHOLD = cosine_for_similarity(80.0, FACE_MODEL_VERSION)
# The engine's defaults for the synthetic faces' size (new collections': 128-d), IVF from 500 faces.
TUNED = AnnParams.for_dim(synthetic_faces(1, 1).gallery.shape[1])
SMALL_ANN = replace(TUNED, ann_threshold=500)


class FakeFeed:
    """A collection's change log in memory, counting what the engine asks for."""

    def __init__(self, incarnation: str = "one") -> None:
        self.log: list[FaceChange] = []
        self.incarnation_value: str | None = incarnation
        self.calls: list[int] = []  # after_seq of each changes_since
        self.served = 0  # changes handed out in total

    def write(self, face_id: str, embedding: np.ndarray | None, user_id: str | None = None) -> int:
        seq = len(self.log) + 1
        self.log.append(FaceChange(face_id, seq, embedding, user_id))
        return seq

    def changes_since(self, collection_id: str, after_seq: int) -> Iterator[FaceChange]:
        self.calls.append(after_seq)
        for change in self.log[after_seq:]:
            self.served += 1
            yield change

    def incarnation(self, collection_id: str) -> str:
        if self.incarnation_value is None:
            raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist")
        return self.incarnation_value


@pytest.fixture(scope="module")
def faces():
    return synthetic_faces(2000, 40, seed=11)


def brute_force(gallery: np.ndarray, query: np.ndarray, max_faces: int, threshold: float) -> list[tuple[int, float]]:
    scores = gallery @ query
    order = np.argsort(-scores)[:max_faces]
    return [(int(i), float(scores[i])) for i in order if scores[i] >= threshold]


def filled(faces, params: AnnParams | None = None, n: int | None = None) -> FaceIndex:
    index = FaceIndex("c", "one", params)
    for i, vector in enumerate(faces.gallery[:n]):
        index.upsert(f"f{i}", vector, f"u{faces.identity[i]}")
    return index


def test_exact_search_matches_brute_force(faces):
    index = filled(faces)
    assert len(index) == 2000 and not index.has_ann
    for query in faces.queries:
        for max_faces, threshold in ((10, THRESHOLD), (3, 0.0), (50, 0.7)):
            expected = brute_force(faces.gallery, query, max_faces, threshold)
            got = index.search(query, max_faces, threshold)
            assert [face_id for face_id, _ in got] == [f"f{i}" for i, _ in expected]
            assert np.allclose([s for _, s in got], [s for _, s in expected], atol=2e-3)  # float16 storage
            assert all(a[1] >= b[1] for a, b in zip(got, got[1:], strict=False))
    assert index.search(faces.queries[0], 0, 0.0) == []
    assert FaceIndex("empty").search(faces.queries[0], 10, 0.0) == []


@pytest.mark.parametrize("params", [None, SMALL_ANN], ids=["exact", "ivf"])
def test_deleted_faces_are_never_returned(faces, params):
    index = filled(faces, params)
    index.absorb()
    assert index.has_ann == (params is not None)
    deleted = set()
    for query in faces.queries[:10]:
        for face_id, _ in index.search(query, 10, THRESHOLD):
            assert index.remove(face_id)
            deleted.add(face_id)
    assert deleted and not index.remove(next(iter(deleted)))
    for query in faces.queries:
        assert not deleted & {face_id for face_id, _ in index.search(query, 100, -1.0)}
    # a tombstone from the feed does the same, for faces in the graph and pending ones alike
    index.upsert("late", faces.queries[20], None)
    victims = [f for f, _ in index.search(faces.queries[20], 2, 0.0)]
    assert "late" in victims
    index.apply([FaceChange(v, index.seq + 1 + i, None, None) for i, v in enumerate(victims)])
    assert not set(victims) & {f for f, _ in index.search(faces.queries[20], 100, -1.0)}
    assert len(index) == 2000 - len(deleted) - 1 and len(set(victims)) == 2


def test_upserts_move_users_and_embeddings(faces):
    index = filled(faces, SMALL_ANN)
    index.absorb()
    index.upsert("f0", faces.gallery[0], "someone-else")
    assert index.user_of("f0") == "someone-else"
    assert index.pending == 0  # same embedding: a re-label, not a re-index
    assert "f0" in [f for f, _ in index.search(faces.gallery[0], 1, 0.99)]
    index.apply([FaceChange("f0", index.seq + 1, faces.gallery[0], None)])  # DisassociateFaces
    assert index.user_of("f0") is None
    # a new embedding moves the face: found at the new place, not the old
    index.upsert("f0", faces.queries[5], "u")
    assert index.pending == 1
    assert index.search(faces.queries[5], 1, 0.99)[0][0] == "f0"
    assert "f0" not in [f for f, _ in index.search(faces.gallery[0], 5, 0.99)]
    assert np.allclose(index.embedding("f0"), faces.queries[5], atol=1e-3)
    with pytest.raises(KeyError):
        index.user_of("nobody")
    assert len(index) == 2000


def test_pending_faces_are_found_before_they_reach_the_ivf(faces):
    index = filled(faces, SMALL_ANN, n=1500)
    index.absorb()
    assert index.has_ann and index.pending == 0
    for i in range(1500, 2000):
        index.upsert(f"f{i}", faces.gallery[i], None)
    assert index.pending == 500
    for query in faces.queries:
        expected = brute_force(faces.gallery, query, 10, THRESHOLD)
        assert {f for f, _ in index.search(query, 10, THRESHOLD)} == {f"f{i}" for i, _ in expected}
    assert index.absorb(max_seconds=0.0, chunk=100) == 100  # a budget of nothing still makes progress
    index.absorb()
    assert index.pending == 0


def test_ivf_is_trained_then_retrained_as_the_collection_grows(faces):
    params = replace(TUNED, ann_threshold=300, online_train_max_cells=64)
    index = filled(faces, params, n=299)
    assert index.absorb() == 0 and not index.has_ann  # small: exact scan, nothing to train
    index.upsert("f299", faces.gallery[299], None)
    index.absorb()
    assert index.cells == 4 and index.pending == 0  # ~sqrt(300) cells, 39+ faces each
    for i in range(300, 2000):
        index.upsert(f"f{i}", faces.gallery[i], None)
    assert index.needs_training()
    index.absorb()
    assert index.cells == 32 and index.pending == 0 and not index.needs_training()
    bigger = filled(synthetic_faces(20_000, 1, seed=2), params)
    bigger.absorb()
    assert bigger.cells == 64 and bigger.needs_training()  # 20k wants 128: too many to train online
    bigger.absorb(offline=True)
    assert bigger.cells == 128 and bigger.pending == 0 and not bigger.needs_training()


def test_ann_recall_on_clustered_faces():
    data = synthetic_faces(20_000, 200, seed=5)
    index = FaceIndex("big", "one", replace(TUNED, ann_threshold=20_000))
    index.apply(FaceChange(f"f{i}", i + 1, v, None) for i, v in enumerate(data.gallery))
    index.absorb()
    assert index.has_ann and index.pending == 0 and index.cells == 128
    found = expected_total = own_found = own_total = 0
    for query, person in zip(data.queries, data.query_identity, strict=True):
        expected = {i for i, _ in brute_force(data.gallery, query, 10, THRESHOLD)}
        got = {int(f[1:]) for f, _ in index.search(query, 10, THRESHOLD)}
        own = {i for i in expected if data.identity[i] == person}
        found, expected_total = found + len(expected & got), expected_total + len(expected)
        own_found, own_total = own_found + len(own & got), own_total + len(own)
    assert own_total >= 200  # every query has true matches
    # The same person's faces are what a search is for; different people above the threshold (at
    # 128-d about 1e-4 of pairs) lie in scattered cells, and a few of them are missed.
    assert own_found / own_total >= 0.99
    assert found / expected_total >= 0.97


def test_cache_applies_only_new_changes(faces):
    feed, cache = FakeFeed(), IndexCache()
    for i in range(100):
        feed.write(f"f{i}", faces.gallery[i], "u")
    index = cache.get("c", feed)
    assert (len(index), index.seq, feed.calls, feed.served) == (100, 100, [0], 100)
    assert cache.get("c", feed) is index and feed.calls[-1] == 100 and feed.served == 100
    feed.write("f100", faces.gallery[100])
    feed.write("f3", None)
    index = cache.get("c", feed)
    assert feed.calls[-1] == 100 and feed.served == 102
    assert "f100" in index and "f3" not in index and index.seq == 102
    # with a sync interval, a burst of searches skips the feed
    lazy = IndexCache(min_sync_interval_s=3600)
    lazy.get("c", feed)
    calls = len(feed.calls)
    lazy.get("c", feed)
    assert len(feed.calls) == calls


def test_incarnation_change_resets_and_gone_collection_raises(faces):
    feed, cache = FakeFeed("one"), IndexCache()
    feed.write("old", faces.gallery[0])
    assert "old" in cache.get("c", feed)
    feed.incarnation_value, feed.log = "two", []  # deleted and re-created under the same id
    feed.write("new", faces.gallery[1])
    index = cache.get("c", feed)
    assert "old" not in index and "new" in index and index.incarnation == "two"
    feed.incarnation_value = None
    with pytest.raises(ResourceNotFoundException):
        cache.get("c", feed)
    assert "c" not in cache


def test_cache_trains_the_ivf_and_evicts_past_its_budget(faces):
    feed = FakeFeed()
    for i in range(600):
        feed.write(f"f{i}", faces.gallery[i])
    cache = IndexCache(params=SMALL_ANN)
    index = cache.get("c", feed)
    assert index.has_ann and index.pending == 0
    feed.write("new", faces.gallery[700])
    assert cache.get("c", feed).pending == 0  # new faces go into the IVF on the next sync
    small = IndexCache(max_bytes=1)
    small.get("a", feed)
    small.get("b", feed)
    assert "b" in small and "a" not in small


@mock_aws
def test_snapshot_round_trip_in_s3(faces):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="snapshots")
    store = S3SnapshotStore("snapshots", "faces/", client=s3)
    index = filled(faces, SMALL_ANN, n=1500)
    index.absorb()
    for i in range(1500, 1600):  # some pending, some deleted: all of it must survive the trip
        index.upsert(f"f{i}", faces.gallery[i], None)
    index.remove("f7")
    index.seq = 1601
    save_snapshot(index, store)
    assert snapshot_seq("c", "one", store) == 1601
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="snapshots")["Contents"]]
    assert all(k.startswith("faces/c/one/") for k in keys) and "faces/c/one/latest.json" in keys

    loaded = load_snapshot("c", "one", store)
    assert (len(loaded), loaded.seq, loaded.pending, loaded.has_ann) == (len(index), 1601, 100, True)
    assert loaded.user_of("f1") == index.user_of("f1") and loaded.user_of("f1550") is None
    for query in faces.queries:
        assert loaded.search(query, 10, THRESHOLD) == index.search(query, 10, THRESHOLD)
    assert load_snapshot("c", "two", store) is None  # another incarnation never reads it
    assert load_snapshot("other", "one", store) is None
    assert store.get("missing") is None


@mock_aws
def test_s3_store_moves_large_parts_in_ranges():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="snapshots")
    store = S3SnapshotStore("snapshots", client=s3, part_size=5 * 1024 * 1024)
    data = np.random.default_rng(0).integers(0, 255, 12 * 1024 * 1024 + 7, dtype=np.uint8).tobytes()
    store.put("big", data)  # multipart upload
    assert store.get("big") == data  # concurrent ranged GETs into one buffer


def test_refresh_snapshot_and_cold_start_read_only_changes_since(faces):
    feed, store = FakeFeed(), MemorySnapshotStore()
    for i in range(800):
        feed.write(f"f{i}", faces.gallery[i], f"u{i % 7}")
    report = refresh_snapshot("c", feed, store, params=SMALL_ANN)
    assert report["written"] and report["seq"] == 800 and report["pending"] == 0
    assert not refresh_snapshot("c", feed, store)["written"]  # nothing new
    feed.write("f900", faces.gallery[900])
    feed.write("f1", None)
    feed.calls.clear()
    index = IndexCache(store=store).get("c", feed)
    assert feed.calls == [800]  # the snapshot, then only what came after it
    assert "f900" in index and "f1" not in index and index.user_of("f2") == "u2"
    assert refresh_snapshot("c", feed, store)["seq"] == 802
    first_parts = set(store.objects)
    for i in range(3):
        feed.write(f"g{i}", faces.gallery[1000 + i])
        refresh_snapshot("c", feed, store)
    assert len(store.objects) < 3 * len(first_parts)  # old generations are deleted
    assert load_snapshot("c", "one", store).seq == 805
    stale = FaceIndex("c", "one", SMALL_ANN)
    stale.seq = 3
    save_snapshot(stale, store)  # a slower writer never replaces a newer snapshot
    assert snapshot_seq("c", "one", store) == 805


def test_warm_index_swaps_to_a_better_trained_snapshot(faces):
    feed, store = FakeFeed(), MemorySnapshotStore()
    params = replace(TUNED, ann_threshold=300, online_train_max_cells=64)
    data = synthetic_faces(20_000, 1, seed=2)
    for i in range(20_000):
        feed.write(f"f{i}", data.gallery[i])
    cache = IndexCache(store=store, params=params, absorb_budget_s=10.0, snapshot_check_s=0.0)
    index = cache.get("c", feed)
    assert index.cells == 64 and index.needs_training()  # the request path trains only small IVFs
    report = refresh_snapshot("c", feed, store, params=params)  # the scheduled job trains the big one
    assert report["cells"] == 128 and report["written"]
    feed.write("late", faces.gallery[0])
    fresher = cache.get("c", feed)
    assert fresher is not index and fresher.cells == 128 and "late" in fresher and fresher.pending == 0


def test_concurrent_searches_and_one_updater(faces):
    index = filled(faces, SMALL_ANN, n=1000)
    index.absorb()
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                for query in faces.queries[:10]:
                    result = index.search(query, 10, 0.0)
                    assert len({f for f, _ in result}) == len(result)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(1000, 2000):
        index.upsert(f"f{i}", faces.gallery[i], None)
        if i % 3 == 0:
            index.remove(f"f{i - 900}")
    index.absorb(chunk=10)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(index) == 2000 - len(range(1002, 2000, 3)) and index.pending == 0


def test_merge_results_and_shards():
    shards = [[("a", 0.9), ("b", 0.5)], [("c", 0.8), ("a", 0.95)], [], [("d", 0.5)]]
    assert merge_results(shards, 3) == [("a", 0.95), ("c", 0.8), ("b", 0.5)]
    assert merge_results(shards, 10)[-2:] == [("b", 0.5), ("d", 0.5)]
    assert merge_results([], 5) == []
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(4000)]
    counts = np.bincount([shard_of(face_id, 4) for face_id in ids], minlength=4)
    assert counts.min() > 850 and shard_of(ids[0], 4) == shard_of(ids[0], 4)
