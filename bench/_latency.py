"""Latency of an image operation's service call, p50/p95, per thread count (shared by benches).

Each thread count runs in a fresh process: RECOGNITO_THREADS is read when a session is created.
The worker times the service function ``module:function`` on each request, after one warm-up
call per request; the first call of the process (imports, sessions, first inference) is the cold
start. A request is one image (``{"Image": ...}``) or a pair of images (``{"SourceImage": ...,
"TargetImage": ...}``, as CompareFaces takes).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]


def _request(blobs: list[bytes]) -> dict:
    if len(blobs) == 1:
        return {"Image": {"Bytes": blobs[0]}}
    source, target = blobs
    return {"SourceImage": {"Bytes": source}, "TargetImage": {"Bytes": target}}


def worker(target: str, repeats: list[int], requests: list[list[str]]) -> None:
    """One process, one thread count: cold start, then p50/p95 per request, as a JSON line."""
    import resource

    import numpy as np

    module, function = target.split(":")
    call = getattr(importlib.import_module(module), function)
    bodies = [_request([Path(path).read_bytes() for path in paths]) for paths in requests]
    start = time.perf_counter()
    call(bodies[0])
    first = time.perf_counter()
    result = {"cold_start_s": first - T0, "first_call_s": first - start, "latency_ms": []}
    for body, count in zip(bodies, repeats, strict=True):
        call(body)  # warm this request's allocations
        times = []
        for _ in range(count):
            began = time.perf_counter()
            call(body)
            times.append((time.perf_counter() - began) * 1000)
        result["latency_ms"].append([float(np.percentile(times, 50)), float(np.percentile(times, 95))])
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def report(
    target: str, images: dict[str, bytes | tuple[bytes, bytes]], repeats: int | list[int], width: int = 24
) -> None:
    """Print one row per thread count (1, 2): cold start, first call, p50/p95 per request, max RSS
    and the process's wall time. ``images`` maps a column name to one image or a (source, target)
    pair; ``repeats`` is the timed calls per request, one count for all or one per request."""
    counts = [repeats] * len(images) if isinstance(repeats, int) else list(repeats)
    widths = [max(width, len(name) + 11) for name in images]
    with tempfile.TemporaryDirectory() as folder:
        requests = []
        for i, blobs in enumerate(images.values()):
            requests.append([])
            for j, blob in enumerate((blobs,) if isinstance(blobs, bytes) else blobs):
                requests[-1].append(str(Path(folder) / f"{i}-{j}.img"))
                Path(requests[-1][-1]).write_bytes(blob)
        columns = "  ".join(f"{name + ' p50/p95 ms':>{w}}" for name, w in zip(images, widths, strict=True))
        print(f"{'threads':>7} {'cold start':>10} {'1st call':>8}  {columns}  {'max RSS':>8}")
        spec = json.dumps({"target": target, "repeats": counts, "requests": requests})
        for threads in (1, 2):
            env = {**os.environ, "RECOGNITO_THREADS": str(threads)}
            began = time.perf_counter()
            out = subprocess.run(
                [sys.executable, __file__, spec], env=env, capture_output=True, text=True, check=True
            ).stdout
            wall = time.perf_counter() - began
            result = json.loads(out.strip().splitlines()[-1])
            cells = "  ".join(
                f"{p50:>{w - 9}.0f} / {p95:>6.0f}" for (p50, p95), w in zip(result["latency_ms"], widths, strict=True)
            )
            print(
                f"{threads:>7} {result['cold_start_s']:>9.2f}s {result['first_call_s']:>7.2f}s  {cells}"
                f"  {result['max_rss_mb']:>6.0f}MB   (process wall time {wall:.1f}s)"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "tests"))
    spec = json.loads(sys.argv[1])
    worker(spec["target"], spec["repeats"], spec["requests"])
