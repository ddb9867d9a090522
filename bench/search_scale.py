"""Face search at scale: latency, recall vs exact search, cold load, memory, update throughput.

Synthetic embeddings that behave like faces (tests/synthetic_faces.py: identities with several
faces each, same-identity cosine ~0.6-0.9, different ~0-0.3; every query is a new face of a known
identity), of the size of new collections' face model version (``--version``; 2.0: 128-d, 1.0:
512-d), searched at that version's FaceMatchThreshold 80. Default: 100k faces; ``--full`` adds 1M.
Each size's index is built once into .cache/bench/ and reused.

Printed per size: build time (IVF training + adds), snapshot size and cold load time in a new
process, memory per face, p50/p95 search latency at MaxFaces 10 on one thread (IVF + exact re-rank
at several probe counts, and an exact scan for contrast), recall against exact float32 search above
FaceMatchThreshold, add/remove throughput. Then where an exact scan stops being enough (the ANN
threshold).

    .venv/bin/python bench/search_scale.py [--full] [--sizes 100000,...] [--queries 300] [--version 2.0]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
from recognito.faces.similarity import FACE_MODEL_VERSION, cosine_for_similarity, face_model
from recognito.search import AnnParams, DirSnapshotStore, FaceChange, FaceIndex, load_snapshot, save_snapshot
from recognito.search.index import cells_for

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from synthetic_faces import SyntheticFaces, synthetic_faces  # noqa: E402

CACHE = ROOT / ".cache" / "bench" / "search"
MAX_FACES = 10
# The face model version benchmarked (--version): its embedding size and FaceMatchThreshold 80.
VERSION = FACE_MODEL_VERSION
DIM = face_model(VERSION).dim
THRESHOLD = cosine_for_similarity(80.0, VERSION)  # FaceMatchThreshold's default


def use_version(version: str) -> None:
    global VERSION, DIM, THRESHOLD
    VERSION, DIM, THRESHOLD = version, face_model(version).dim, cosine_for_similarity(80.0, version)


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def face_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"  # UUID-shaped, as the real ids


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1e3
    return f"p50 {np.percentile(ms, 50):6.2f} ms  p95 {np.percentile(ms, 95):6.2f} ms"


def build(n: int, faces: np.ndarray, store: DirSnapshotStore, collection: str, params: AnnParams) -> dict:
    """Index every face through the production path (changes, then the offline absorb), snapshot."""
    index = FaceIndex(collection, "bench", params, DIM)
    t0 = time.perf_counter()
    index.apply(FaceChange(face_id(i), i + 1, faces[i], f"user-{i // 5}") for i in range(n))
    applied = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.absorb(offline=True)
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    save_snapshot(index, store)
    saved = time.perf_counter() - t0
    info = {"apply_s": applied, "ann_s": trained, "save_s": saved, "threads": os.cpu_count(), "cells": index.cells}
    (store.root / f"{collection}.build.json").write_text(json.dumps(info))
    return info


def ground_truth(faces: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """Exact float32 search: the top MAX_FACES at or above the threshold, per query."""
    truth = []
    for begin in range(0, len(queries), 64):
        scores = faces @ queries[begin : begin + 64].T
        for column in scores.T:
            top = np.argpartition(-column, MAX_FACES)[:MAX_FACES]
            truth.append({int(i) for i in top if column[i] >= THRESHOLD})
    return truth


def same_person(truth: list[set[int]], data: SyntheticFaces) -> list[set[int]]:
    """The true matches of the query's own identity; the others are different people above the
    threshold (at 128-d, about 1e-4 of impostor pairs: ~10 a query in 100k faces)."""
    return [{i for i in t if data.identity[i] == q} for t, q in zip(truth, data.query_identity, strict=True)]


def recall(truth: list[set[int]], found: list[set[int]]) -> float:
    return sum(len(t & f) for t, f in zip(truth, found, strict=False)) / max(1, sum(map(len, truth[: len(found)])))


def measure_search(index: FaceIndex, queries: np.ndarray) -> tuple[list[float], list[set[int]]]:
    """Latency of each query and the faces it found."""
    for q in queries[:20]:
        index.search(q, MAX_FACES, THRESHOLD)  # warm caches
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        result = index.search(q, MAX_FACES, THRESHOLD)
        latencies.append(time.perf_counter() - t0)
        found.append({int(fid[-12:]) for fid, _ in result})
    return latencies, found


def exact_only(index: FaceIndex) -> FaceIndex:
    """The same faces without the IVF: what an exact scan costs at this size."""
    manifest, parts = index.export_parts()
    manifest["ann"] = False
    return FaceIndex.from_parts(manifest, parts)


def run_size(n: int, n_queries: int, params: AnnParams, rebuild: bool) -> None:
    print(
        f"\n== {n:,} faces of {DIM} values in one collection (MaxFaces {MAX_FACES}, threshold cosine "
        f"{THRESHOLD:.3f} = 80% for face model version {VERSION})"
    )
    t0 = time.perf_counter()
    data = synthetic_faces(n, n_queries, seed=n, dim=DIM)
    print(f"  synthetic data: {time.perf_counter() - t0:.1f} s", flush=True)
    collection = f"bench-{n}-{DIM}d-ivf"
    store = DirSnapshotStore(CACHE)
    if rebuild:
        shutil.rmtree(CACHE / collection, ignore_errors=True)
    info_path = CACHE / f"{collection}.build.json"
    if load_snapshot(collection, "bench", store) is None or not info_path.exists():
        build(n, data.gallery, store, collection, params)
    info = json.loads(info_path.read_text())
    gc.collect()
    print(
        f"  build (cached): apply {n:,} changes {info['apply_s']:.1f} s ({n / info['apply_s']:,.0f}/s); "
        f"IVF train + add {info['ann_s']:.1f} s on {info['threads']} threads ({info['cells']} cells); "
        f"snapshot write {info['save_s']:.1f} s"
    )

    newest = sorted((CACHE / collection / "bench").glob("0*"))[-1]
    snapshot_bytes = sum(f.stat().st_size for f in newest.iterdir())
    cold = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--cold-load", collection, "--query-seed", str(n), "--version", VERSION],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    print(
        f"  cold start in a new process: load snapshot {cold['load_s']:.2f} s ({snapshot_bytes / 2**30:.2f} GiB of "
        f"files; from S3 add ~{snapshot_bytes / 2**20 / 300:.1f} s at 300 MB/s), first search "
        f"{cold['first_search_s'] * 1e3:.1f} ms"
    )
    print(
        f"  memory: {cold['rss_bytes'] / n:,.0f} B/face resident (RSS growth on load; estimate "
        f"{cold['nbytes'] / n:,.0f}: {2 * DIM} float16 matrix + ~{DIM + 40} IVF code, id and hash + ids)"
    )
    index = load_snapshot(collection, "bench", store)

    t0 = time.perf_counter()
    truth = ground_truth(data.gallery, data.queries)
    own = same_person(truth, data)
    print(
        f"  ground truth (exact float32, {len(truth)} queries): {time.perf_counter() - t0:.1f} s; "
        f"{np.mean([len(t) for t in truth]):.1f} true matches per query, min {min(len(t) for t in truth)}; "
        f"{np.mean([len(t) for t in own]):.1f} of them the same person"
    )
    faiss.omp_set_num_threads(1)  # one core, as the targets say
    default_probes = min(index.cells, max(params.min_probes, int(index.cells * params.probe_fraction)))
    for probes in sorted({default_probes // 2, default_probes, default_probes * 2, default_probes * 4}):
        index.params = replace(params, probe_fraction=probes / index.cells, min_probes=probes)
        latencies, found = measure_search(index, data.queries)
        default = "  <- default" if probes == default_probes else ""
        print(
            f"  search, IVF {probes:>3}/{index.cells} cells + exact re-rank: {percentiles(latencies)}  "
            f"recall {recall(truth, found):.4f} (same person {recall(own, found):.4f}){default}"
        )
    index.params = params
    exact = exact_only(index)
    latencies, found = measure_search(exact, data.queries[:60])
    print(f"  search, exact float16 scan:               {percentiles(latencies)}  recall {recall(truth, found):.4f}")
    del exact
    gc.collect()

    updates(index, n)


def updates(index: FaceIndex, n: int) -> None:
    """Add, IVF add and remove rates on the loaded index; deleted faces must never come back."""
    fresh = synthetic_faces(2000, 50, seed=n + 1, dim=DIM)
    seq = index.seq
    changes = [FaceChange(f"new-{i}", seq + 1 + i, v, None) for i, v in enumerate(fresh.gallery)]
    t0 = time.perf_counter()
    index.apply(changes)
    add_s = time.perf_counter() - t0
    pending = index.pending
    latencies = []
    for q in fresh.queries:
        t0 = time.perf_counter()
        index.search(q, MAX_FACES, THRESHOLD)
        latencies.append(time.perf_counter() - t0)
    print(f"  with {pending:,} faces pending (exact-scanned beside the IVF): search {percentiles(latencies)}")
    t0 = time.perf_counter()
    absorbed = index.absorb()
    absorb_s = time.perf_counter() - t0
    removed = [f"new-{i}" for i in range(len(changes))]
    seq = index.seq
    t0 = time.perf_counter()
    index.apply(FaceChange(fid, seq + 1 + i, None, None) for i, fid in enumerate(removed))
    remove_s = time.perf_counter() - t0
    leaked = sum(fid.startswith("new-") for q in fresh.queries for fid, _ in index.search(q, 100, 0.0))
    print(
        f"  updates: apply {len(changes) / add_s:,.0f} adds/s (searchable at once); IVF add "
        f"{absorbed / absorb_s:,.0f} faces/s on 1 thread; remove {len(removed) / remove_s:,.0f}/s; "
        f"deleted faces returned: {leaked}"
    )


def crossover() -> None:
    """Exact scan vs IVF at small sizes: where ``ann_threshold`` belongs."""
    print("\n== exact scan vs IVF (1 thread, MaxFaces 10)")
    data = synthetic_faces(50_000, 200, seed=7, dim=DIM)
    for n in (5_000, 10_000, 20_000, 50_000):
        index = FaceIndex(f"x{n}", "bench", replace(AnnParams.for_dim(DIM), ann_threshold=10**9), DIM)
        index.apply(FaceChange(face_id(i), i + 1, data.gallery[i], None) for i in range(n))
        truth = ground_truth(data.gallery[:n], data.queries)
        own = same_person(truth, data)
        exact_lat, _ = measure_search(index, data.queries)
        index.params = replace(AnnParams.for_dim(DIM), ann_threshold=1)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        t0 = time.perf_counter()
        index.absorb()
        build_s = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        ann_lat, found = measure_search(index, data.queries)
        print(
            f"  {n:>7,} faces: exact {percentiles(exact_lat)} | IVF ({cells_for(n)} cells, trained in {build_s:.1f} s) "
            f"{percentiles(ann_lat)} recall {recall(truth, found):.4f} (same person {recall(own, found):.4f})",
            flush=True,
        )


def cold_load(collection: str, seed: int) -> None:
    """In a fresh process: what a cold function pays before its first answer."""
    query = synthetic_faces(1000, 1, seed=seed, dim=DIM).queries[0]
    before = rss_bytes()
    t0 = time.perf_counter()
    index = load_snapshot(collection, "bench", DirSnapshotStore(CACHE))
    load_s = time.perf_counter() - t0
    rss = rss_bytes() - before
    t0 = time.perf_counter()
    index.search(query, MAX_FACES, THRESHOLD)
    first = time.perf_counter() - t0
    print(json.dumps({"load_s": load_s, "rss_bytes": rss, "nbytes": index.nbytes, "first_search_s": first}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also 1M faces (~1 GB of RAM per 0.5M faces)")
    parser.add_argument("--sizes", help="comma-separated sizes instead of the defaults")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes")
    parser.add_argument("--no-crossover", action="store_true")
    parser.add_argument("--cold-load", help=argparse.SUPPRESS)
    parser.add_argument("--query-seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--version", default=FACE_MODEL_VERSION, help="face model version (its embedding size)")
    args = parser.parse_args()
    use_version(args.version)
    if args.cold_load:
        cold_load(args.cold_load, args.query_seed)
        return
    params = AnnParams.for_dim(DIM)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [100_000] + ([1_000_000] if args.full else [])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; params {params}")
    for n in sizes:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core
        run_size(n, args.queries, params, args.rebuild)
        gc.collect()
    if not args.no_crossover:
        crossover()


if __name__ == "__main__":
    main()
