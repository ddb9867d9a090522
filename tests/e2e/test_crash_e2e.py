"""Acknowledged means durable: `recognito serve` killed (SIGKILL) under 16 concurrent writers
loses no write it answered, and comes back with exact counts."""

from __future__ import annotations

import concurrent.futures
import io
import threading
import time

import botocore.exceptions
import pytest
from botocore.config import Config
from models_available import needs_models
from PIL import Image
from skimage import data

from .conftest import Endpoint, _client

pytestmark = pytest.mark.e2e

WRITERS = 16
KILL_AFTER = 40  # acknowledged tasks before the kill: the kill lands among writes in flight
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)


def faces_jpeg(count: int = 20) -> bytes:
    """One real face ``count`` times (skimage's astronaut): IndexFaces indexes them all in one call."""
    face = Image.fromarray(data.astronaut()).crop((140, 20, 340, 220)).resize((160, 160))
    picture = Image.new("RGB", (160 * 5, 160 * ((count + 4) // 5)))
    for i in range(count):
        picture.paste(face, ((i % 5) * 160, (i // 5) * 160))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_sigkill_under_concurrent_writers_loses_no_acknowledged_write(tmp_path):
    needs_models("centerface", "sface")
    endpoint = Endpoint(tmp_path / "data", tmp_path / "serve.log")
    endpoint.start()
    try:
        rekognition = _client("rekognition", endpoint)
        rekognition.create_collection(CollectionId="crash")
        reply = rekognition.index_faces(
            CollectionId="crash", Image={"Bytes": faces_jpeg(40)}, QualityFilter="NONE", MaxFaces=100
        )
        face_ids = [record["Face"]["FaceId"] for record in reply["FaceRecords"]]
        assert len(face_ids) == 40

        acknowledged = _write_until_killed(endpoint, face_ids)
        assert len(acknowledged["users"]) + len(acknowledged["collections"]) >= KILL_AFTER

        endpoint.start()
        assert "replayed" in endpoint.log()  # the kill came between snapshots: the journal kept them
        rekognition = _client("rekognition", endpoint)
        collections = _all(rekognition, "list_collections", "CollectionIds")
        assert {"crash", *acknowledged["collections"]} <= set(collections)
        users = {user["UserId"] for user in _all(rekognition, "list_users", "Users", CollectionId="crash")}
        assert acknowledged["users"] <= users
        faces = _all(rekognition, "list_faces", "Faces", CollectionId="crash")
        owner = {face["FaceId"]: face.get("UserId") for face in faces}
        assert sorted(owner) == sorted(face_ids)
        for user, face_id in acknowledged["associations"].items():
            assert owner[face_id] == user
        described = rekognition.describe_collection(CollectionId="crash")
        assert (described["FaceCount"], described["UserCount"]) == (len(faces), len(users))
        for collection in acknowledged["collections"]:
            assert rekognition.describe_collection(CollectionId=collection)["FaceCount"] == 0
    finally:
        endpoint.kill()


def _write_until_killed(endpoint: Endpoint, face_ids: list[str]) -> dict:
    """16 threads: CreateUser then AssociateFaces of its own face, and CreateCollection; SIGKILL
    once ``KILL_AFTER`` tasks were answered. What was acknowledged before the kill."""
    acknowledged: dict = {"users": set(), "associations": {}, "collections": set()}
    lock, local = threading.Lock(), threading.local()
    killed = threading.Event()

    def task(index: int) -> None:
        if killed.is_set():
            return
        if not hasattr(local, "client"):
            local.client = _client("rekognition", endpoint, config=NO_RETRIES)
        user, face_id = f"user-{index}", face_ids[index % len(face_ids)]
        try:
            if index >= len(face_ids):  # faces are all taken: collections instead
                local.client.create_collection(CollectionId=f"crash-{index}")
                with lock:
                    acknowledged["collections"].add(f"crash-{index}")
                return
            local.client.create_user(CollectionId="crash", UserId=user)
            with lock:
                acknowledged["users"].add(user)
            local.client.associate_faces(CollectionId="crash", UserId=user, FaceIds=[face_id])
            with lock:
                acknowledged["associations"][user] = face_id
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError):
            assert killed.is_set(), "the endpoint failed a request before it was killed"
        finally:
            with lock:
                done = len(acknowledged["users"]) + len(acknowledged["collections"])
            if done >= KILL_AFTER and not killed.is_set():
                killed.set()
                endpoint.kill()

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(task, range(10 * len(face_ids))))
    assert killed.is_set()
    time.sleep(0.1)
    return acknowledged


def _all(client, operation: str, key: str, **parameters) -> list:
    return [item for page in client.get_paginator(operation).paginate(**parameters) for item in page[key]]
