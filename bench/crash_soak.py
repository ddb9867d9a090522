"""Acknowledged writes lost to SIGKILL: `recognito serve` killed ``--kills`` times under 16 writers.

Each round starts the endpoint on the same data directory, has 16 threads (each its own boto3
client, no retries) create users in one collection and collections of their own, SIGKILLs the
server after a random 6-12 s (a restarted endpoint imports its handlers on first use), starts it
again and counts the acknowledged users and collections that are missing, and whether
DescribeCollection's UserCount equals ListUsers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import Endpoint, _client  # noqa: E402  (one way to run an endpoint, shared with the e2e tests)

WRITERS = 16


def round_of_writes(endpoint: Endpoint, names: itertools.count, seconds: float) -> tuple[set[str], set[str]]:
    """Users and collections acknowledged before the kill at ``seconds``."""
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, read_timeout=60)
    users: set[str] = set()
    collections: set[str] = set()
    lock, local, killed = threading.Lock(), threading.local(), threading.Event()

    def writer(_: int) -> None:
        local.client = _client("rekognition", endpoint, config=config)
        while not killed.is_set():
            number = next(names)
            try:
                if number % 4:
                    local.client.create_user(CollectionId="soak", UserId=f"u{number}")
                    with lock:
                        users.add(f"u{number}")
                else:
                    local.client.create_collection(CollectionId=f"soak-{number}")
                    with lock:
                        collections.add(f"soak-{number}")
            except Exception:
                if not killed.is_set():
                    raise

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        running = [pool.submit(writer, i) for i in range(WRITERS)]
        time.sleep(seconds)
        killed.set()
        endpoint.kill()
        for future in running:
            future.result()
    return users, collections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    names = itertools.count()
    acknowledged = lost = 0
    with tempfile.TemporaryDirectory() as folder:
        endpoint = Endpoint(Path(folder) / "data", Path(folder) / "serve.log")
        endpoint.start()
        _client("rekognition", endpoint).create_collection(CollectionId="soak")
        all_users: set[str] = set()
        all_collections: set[str] = {"soak"}
        try:
            for kill in range(1, args.kills + 1):
                users, collections = round_of_writes(endpoint, names, random.uniform(6, 12))
                all_users |= users
                all_collections |= collections
                endpoint.start()
                rekognition = _client("rekognition", endpoint)
                listed = {
                    user["UserId"]
                    for page in rekognition.get_paginator("list_users").paginate(CollectionId="soak")
                    for user in page["Users"]
                }
                present = set(rekognition.list_collections(MaxResults=1000)["CollectionIds"])
                missing = (all_users - listed) | (all_collections - present)
                counted = rekognition.describe_collection(CollectionId="soak")["UserCount"]
                acknowledged += len(users) + len(collections)
                lost += len(missing)
                print(
                    f"kill {kill}: {len(users) + len(collections)} writes acknowledged, {len(missing)} missing "
                    f"after restart; UserCount {counted} vs {len(listed)} listed",
                    flush=True,
                )
        finally:
            endpoint.stop()
    print(f"{lost} of {acknowledged} acknowledged writes lost over {args.kills} kills")


if __name__ == "__main__":
    main()
