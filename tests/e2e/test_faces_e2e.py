"""Faces through `recognito serve`: concurrent writers lose nothing; the README quickstart runs as pasted."""

from __future__ import annotations

import concurrent.futures
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from models_available import needs_models
from PIL import Image
from skimage import data

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def astronaut_jpeg(scale: float = 1.0) -> bytes:
    picture = Image.fromarray(data.astronaut())
    if scale != 1.0:
        picture = picture.resize((int(512 * scale), int(512 * scale)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_concurrent_index_delete_associate_keep_counts_exact(rekognition):
    needs_models("centerface", "sface")
    collection = "e2e-concurrent"
    rekognition.create_collection(CollectionId=collection)
    rekognition.create_user(CollectionId=collection, UserId="eileen")
    photos = [astronaut_jpeg(scale) for scale in (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)]

    def index(photo: bytes) -> str:
        reply = rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo}, QualityFilter="NONE")
        (record,) = reply["FaceRecords"]
        return record["Face"]["FaceId"]

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        face_ids = list(pool.map(index, photos * 2))
    assert len(set(face_ids)) == 12

    doomed, kept = face_ids[:4], face_ids[4:]
    to_user = kept[:4]

    def delete(face_id: str) -> list[str]:
        return rekognition.delete_faces(CollectionId=collection, FaceIds=[face_id])["DeletedFaces"]

    def associate(face_id: str) -> list[dict]:
        reply = rekognition.associate_faces(CollectionId=collection, UserId="eileen", FaceIds=[face_id])
        return reply["AssociatedFaces"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        deleted = [pool.submit(delete, face_id) for face_id in doomed]
        associated = [pool.submit(associate, face_id) for face_id in to_user]
        assert sorted(face for future in deleted for face in future.result()) == sorted(doomed)
        assert all(len(future.result()) == 1 for future in associated)

    described = rekognition.describe_collection(CollectionId=collection)
    assert (described["FaceCount"], described["UserCount"]) == (8, 1)
    listed = [
        face
        for page in rekognition.get_paginator("list_faces").paginate(CollectionId=collection)
        for face in page["Faces"]
    ]
    assert sorted(face["FaceId"] for face in listed) == sorted(kept)
    users_faces = rekognition.list_faces(CollectionId=collection, UserId="eileen")["Faces"]
    assert sorted(face["FaceId"] for face in users_faces) == sorted(to_user)

    found = rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": astronaut_jpeg(0.95)})
    assert {match["Face"]["FaceId"] for match in found["FaceMatches"]} == set(kept)
    users = rekognition.search_users_by_image(CollectionId=collection, Image={"Bytes": astronaut_jpeg()})
    assert [match["User"]["UserId"] for match in users["UserMatches"]] == ["eileen"]


def _quickstart() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Quickstart with boto3") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_quickstart_runs_as_pasted(endpoint, tmp_path):
    needs_models("centerface")
    Image.fromarray(np.asarray(data.astronaut())).save(tmp_path / "photo.jpg", quality=90)
    script = _quickstart().replace("http://127.0.0.1:8765", endpoint.url)
    try:
        rekognition = __import__("boto3").client(
            "rekognition",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        rekognition.delete_collection(CollectionId="friends")
    except Exception:  # noqa: BLE001 - it may not exist yet
        pass
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_ENDPOINT_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "friends" in result.stdout
    assert "'Width'" in result.stdout  # a face was found in the photo
