"""Latency of an image operation's service call, p50/p95, per thread count (shared by benches).

Each thread count runs in a fresh process: RECOGNITO_THREADS is read when a session is created.
The worker times the service function ``module:function`` on each image file, after one warm-up
call per image; the first call of the process (imports, sessions, first inference) is the cold
start.
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


def worker(target: str, repeats: int, paths: list[str]) -> None:
    import resource

    import numpy as np

    module, function = target.split(":")
    call = getattr(importlib.import_module(module), function)
    blobs = [Path(path).read_bytes() for path in paths]
    start = time.perf_counter()
    call({"Image": {"Bytes": blobs[0]}})
    first = time.perf_counter()
    result = {"cold_start_s": first - T0, "first_call_s": first - start, "latency_ms": []}
    for blob in blobs:
        call({"Image": {"Bytes": blob}})
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            call({"Image": {"Bytes": blob}})
            times.append((time.perf_counter() - began) * 1000)
        result["latency_ms"].append([float(np.percentile(times, 50)), float(np.percentile(times, 95))])
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def report(target: str, images: dict[str, bytes], repeats: int) -> None:
    """Print one row per thread count (1, 2): cold start, first call, p50/p95 per image, max RSS."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, blob in enumerate(images.values()):
            paths.append(str(Path(folder) / f"{i}.img"))
            Path(paths[-1]).write_bytes(blob)
        columns = "  ".join(f"{name + ' p50/p95 ms':>24}" for name in images)
        print(f"{'threads':>7} {'cold start':>10} {'1st call':>8}  {columns}  {'max RSS':>8}")
        for threads in (1, 2):
            env = {**os.environ, "RECOGNITO_THREADS": str(threads)}
            args = [sys.executable, __file__, target, str(repeats), *paths]
            out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            cells = "  ".join(f"{p50:>15.0f} / {p95:>6.0f}" for p50, p95 in result["latency_ms"])
            print(
                f"{threads:>7} {result['cold_start_s']:>9.2f}s {result['first_call_s']:>7.2f}s  {cells}"
                f"  {result['max_rss_mb']:>6.0f}MB"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "tests"))
    worker(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
