"""Writers racing on one collection through ``recognito serve``: CreateUser and AssociateFaces latency.

A fresh endpoint (its own data directory) gets one collection, filled by IndexFaces on a mosaic of
20 copies of one real face (skimage's astronaut, 160 px each; ``--faces`` in all). Then each task
creates a user and associates one face with it: first by one writer (the unloaded latency), then
by ``--writers`` threads at once, each its own boto3 client. Every face write is one DynamoDB
transaction on the collection (recognito.collections.store), so the writers really race.

Prints p50/p95/max per operation, the throughput, the endpoint's CPU time per request and the
machine's load average before and after each phase (on a shared machine other jobs' load moves the
latencies), and the ratio of loaded to unloaded p95 against the target (issue #16: AssociateFaces
p95 within 3x its unloaded p95 under 16 writers).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import Endpoint, _client  # noqa: E402  (one way to run an endpoint, shared with the e2e tests)

COLLECTION = "contention"
TARGET_RATIO = 3.0  # loaded p95 / unloaded p95 of AssociateFaces
MOSAIC_FACES = 20


def mosaic_jpeg() -> bytes:
    """One real face, 20 times: IndexFaces indexes 20 faces per call instead of one."""
    from PIL import Image
    from skimage import data

    face = Image.fromarray(data.astronaut()).crop((140, 20, 340, 220)).resize((160, 160))
    picture = Image.new("RGB", (160 * 5, 160 * 4))
    for i in range(MOSAIC_FACES):
        picture.paste(face, ((i % 5) * 160, (i // 5) * 160))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def fill(endpoint: Endpoint, faces: int) -> list[str]:
    rekognition = _client("rekognition", endpoint)
    rekognition.create_collection(CollectionId=COLLECTION)
    photo, face_ids = mosaic_jpeg(), []
    while len(face_ids) < faces:
        reply = rekognition.index_faces(
            CollectionId=COLLECTION, Image={"Bytes": photo}, QualityFilter="NONE", MaxFaces=100
        )
        face_ids += [record["Face"]["FaceId"] for record in reply["FaceRecords"]]
    return face_ids[:faces]


def run(endpoint: Endpoint, face_ids: list[str], writers: int, prefix: str) -> tuple[dict[str, list[float]], float]:
    """Each task: CreateUser, then AssociateFaces of one face. Latencies (s) per operation, wall time."""
    local = threading.local()
    latencies: dict[str, list[float]] = {"CreateUser": [], "AssociateFaces": []}

    def task(index: int) -> None:
        if not hasattr(local, "client"):
            local.client = _client("rekognition", endpoint)
        user = f"{prefix}-{index}"
        began = time.perf_counter()
        local.client.create_user(CollectionId=COLLECTION, UserId=user)
        created = time.perf_counter()
        local.client.associate_faces(CollectionId=COLLECTION, UserId=user, FaceIds=[face_ids[index]])
        latencies["CreateUser"].append(created - began)
        latencies["AssociateFaces"].append(time.perf_counter() - created)

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        list(pool.map(task, range(len(face_ids))))
    return latencies, time.perf_counter() - began


def cpu_seconds(pid: int) -> float:
    """The endpoint's CPU time so far (user + system): per request, what a phase cost it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(latencies: list[float]) -> tuple[float, float, float]:
    values = np.asarray(latencies) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95)), float(values.max())


def dynamodb_profile(log: str, since: int) -> str:
    """From the endpoint's request log: DynamoDB requests by operation, with their time inside the
    endpoint, and how many transactions lost the race on the collection (HTTP 400)."""
    durations: dict[str, list[float]] = {}
    cancelled = 0
    for operation, status, ms in re.findall(r"dynamodb (\w+) (\d+) ([\d.]+)ms", log[since:]):
        durations.setdefault(operation, []).append(float(ms))
        cancelled += operation == "TransactWriteItems" and status == "400"
    parts = [f"{op} x{len(ms)} p50 {np.percentile(ms, 50):.0f} ms" for op, ms in sorted(durations.items())]
    return f"DynamoDB: {', '.join(parts)}; {cancelled} transactions cancelled"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=320, help="faces in the collection (default %(default)s)")
    parser.add_argument("--unloaded", type=int, default=40, help="tasks run by one writer (default %(default)s)")
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers (default %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        endpoint = Endpoint(Path(folder) / "data", Path(folder) / "serve.log")
        endpoint.start()
        try:
            began = time.perf_counter()
            face_ids = fill(endpoint, args.faces)
            print(f"{len(face_ids)} faces indexed in {time.perf_counter() - began:.1f} s")
            rows, logged = {}, len(endpoint.log())
            for name, ids, writers in (
                ("1 writer", face_ids[: args.unloaded], 1),
                (f"{args.writers} writers", face_ids[args.unloaded :], args.writers),
            ):
                cpu = cpu_seconds(endpoint._process.pid)  # noqa: SLF001 - the bench reads the server's CPU time
                load_before = os.getloadavg()[0]
                latencies, wall = run(endpoint, ids, writers, prefix=name.replace(" ", ""))
                cpu = cpu_seconds(endpoint._process.pid) - cpu  # noqa: SLF001
                rows[name] = {op: summary(values) for op, values in latencies.items()}
                ops = sum(len(values) for values in latencies.values())
                cells = "  ".join(
                    f"{op} {p50:6.0f}/{p95:6.0f}/{top:6.0f}" for op, (p50, p95, top) in rows[name].items()
                )
                print(f"{name:>11}: p50/p95/max ms  {cells}  {ops / wall:5.1f} requests/s ({len(ids)} tasks)")
                load = os.getloadavg()[0]
                print(
                    f"{'':>11}  endpoint CPU {1000 * cpu / ops:.0f} ms a request; "
                    f"load average {load_before:.1f} before, {load:.1f} after"
                )
                print(f"{'':>11}  {dynamodb_profile(endpoint.log(), since=logged)}")
                logged = len(endpoint.log())
        except Exception:
            print(endpoint.log()[-6000:], file=sys.stderr)
            raise
        finally:
            endpoint.stop()
    unloaded, loaded = rows["1 writer"], rows[f"{args.writers} writers"]
    for op in ("CreateUser", "AssociateFaces"):
        print(f"{op} p95 under {args.writers} writers: {loaded[op][1] / unloaded[op][1]:.1f}x the unloaded p95")
    ratio = loaded["AssociateFaces"][1] / unloaded["AssociateFaces"][1]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target AssociateFaces p95(loaded) / p95(unloaded) <= {TARGET_RATIO:.0f}x: {ratio:.1f}x, {verdict}")


if __name__ == "__main__":
    main()
