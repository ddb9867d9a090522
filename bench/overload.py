"""DetectFaces on a 1080p photo through `recognito serve`, 8, 32 and 128 requests at once.

Each level sends ``--rounds`` x its concurrency requests from as many threads, each its own boto3
client. A ``ThrottlingException`` is counted and retried by the client after an exponential
back-off with jitter (what the SDKs' retry modes do); any other error is counted as failed. Per
level: p50/p95 of the client's latency (first attempt to answer, back-offs included), requests
per second, throttled and failed counts, the endpoint's peak RSS (sampled every 50 ms) and its RSS
once the burst is over.

``--memory-budget off`` runs without admission control, for the unthrottled baseline; its levels
default to 8 only, because without a bound 32 and 128 concurrent requests take 10-40 GB (the
reason admission control exists), more than this machine should give a bench.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import Endpoint, _client  # noqa: E402  (one way to run an endpoint, shared with the e2e tests)


def photo_1080p() -> bytes:
    """A 1920 x 1080 JPEG with one real face (skimage's astronaut) on a real background (coffee)."""
    from PIL import Image
    from skimage import data

    picture = Image.fromarray(data.coffee()).resize((1920, 1080))
    picture.paste(Image.fromarray(data.astronaut()).resize((900, 900)), (510, 90))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def level(endpoint: Endpoint, pid: int, photo: bytes, concurrency: int, rounds: int) -> dict:
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, read_timeout=120, max_pool_connections=2)
    clients = [_client("rekognition", endpoint, config=config) for _ in range(concurrency)]
    latencies: list[float] = []
    counts = {"throttled": 0, "failed": 0}
    lock = threading.Lock()
    peak = [rss_mb(pid)]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.05):
            peak[0] = max(peak[0], rss_mb(pid))

    def worker(client) -> None:
        for _ in range(rounds):
            began, backoff = time.perf_counter(), 0.1
            while True:
                try:
                    client.detect_faces(Image={"Bytes": photo})
                    break
                except client.exceptions.ThrottlingException:
                    with lock:
                        counts["throttled"] += 1
                    time.sleep(random.uniform(0, backoff))
                    backoff = min(backoff * 2, 5.0)
                except Exception as error:  # 5xx, timeouts: what admission control must prevent
                    with lock:
                        counts["failed"] += 1
                    print(f"  failed: {error!r}"[:200], file=sys.stderr)
                    break
            with lock:
                latencies.append(time.perf_counter() - began)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    sampling.set()
    sampler.join()
    time.sleep(3)  # idle: what the process gives back after the burst
    values = np.asarray(latencies) * 1000
    return {
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "rps": len(latencies) / wall,
        "requests": len(latencies),
        **counts,
        "peak_mb": peak[0],
        "after_mb": rss_mb(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-budget", default="4G", help="the endpoint's --memory-budget, or off (default 4G)")
    parser.add_argument("--levels", default=None, help="concurrency levels, comma-separated (default 8,32,128)")
    parser.add_argument("--rounds", type=int, default=1, help="requests per thread per level (default 1)")
    args = parser.parse_args()
    levels = [int(n) for n in (args.levels or ("8" if args.memory_budget == "off" else "8,32,128")).split(",")]
    os.environ["RECOGNITO_MEMORY_BUDGET"] = args.memory_budget
    photo = photo_1080p()
    with tempfile.TemporaryDirectory() as folder:
        endpoint = Endpoint(Path(folder) / "data", Path(folder) / "serve.log")
        endpoint.start()
        try:
            pid = endpoint._process.pid  # noqa: SLF001 - the bench reads the server's RSS
            _client("rekognition", endpoint).detect_faces(Image={"Bytes": photo})  # models loaded
            print(f"memory budget {args.memory_budget}; 1080p JPEG of {len(photo) // 1024} KB; "
                  f"idle RSS after one call {rss_mb(pid):.0f} MB")  # fmt: skip
            print(f"{'concurrent':>10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>6} "
                  f"{'throttled':>9} {'failed':>6} {'peak RSS':>9} {'RSS after':>9}")  # fmt: skip
            for concurrency in levels:
                row = level(endpoint, pid, photo, concurrency, args.rounds)
                print(
                    f"{concurrency:>10} {row['requests']:>8} {row['p50']:>8.0f} {row['p95']:>8.0f} {row['rps']:>6.2f} "
                    f"{row['throttled']:>9} {row['failed']:>6} {row['peak_mb']:>7.0f}MB {row['after_mb']:>7.0f}MB",
                    flush=True,
                )
        except Exception:
            print(endpoint.log()[-4000:], file=sys.stderr)
            raise
        finally:
            endpoint.stop()


if __name__ == "__main__":
    main()
