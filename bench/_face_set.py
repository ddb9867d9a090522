"""The shared face set (``../shared/datasets/faces``) run through recognito's own face pipeline, cached.

Each photo of ``labels.csv`` is decoded as the service decodes a request's image
(``recognito.images.decode_image``). Its largest face is found exactly as CompareFaces finds its
source face (``recognito.faces.compare._source_face``, QualityFilter NONE) and embedded with the
face model of a ``version`` (``recognito.faces.similarity.FACE_MODELS``: "1.0" FaceNet, "2.0"
SFace, each through its own crop; one face a batch as IndexFaces of a portrait runs it;
``RECOGNITO_FACE_MODEL`` swaps in a variant of the version's network, e.g. ``facenet`` fp32). Every face
that DetectFaces would return is kept too, with its DEFAULT FaceDetail, for
checking detection, ``Confidence`` and the QualityFilter bars. A photo where no face is found is
kept with its error, never dropped.

Results are cached in ``.cache/face_set/<sha256 of the photo>[-<version>].json`` (git-ignored; no
suffix for "1.0") under a key that
hashes the models in use (the build manifest's sha256s), the embedder's name and the source of
every module that makes the numbers: a change to any of them recomputes the photo.

Test data is deliberately elsewhere (tests/face_datasets.py): nothing here is used by a test, so
the numbers fitted on this set are checked, not trained, by the tests.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FACE_SET = REPO.parent / "shared" / "datasets" / "faces"
CACHE = REPO / ".cache" / "face_set"


@dataclass(frozen=True)
class Face:
    """One detected face: detector score (0..1) and its DEFAULT FaceDetail."""

    score: float
    detail: dict[str, Any]


@dataclass(frozen=True)
class Photo:
    """One photo of the set and what the pipeline made of it."""

    path: str  # relative to FACE_SET
    identity: str
    source: str  # the repository it was copied from (SOURCES.md)
    width: int
    height: int
    largest: Face | None  # CompareFaces' source face; None when no face was found
    embedding: np.ndarray | None  # (d,) float32 L2-normalized, of ``largest`` (d: the version's size)
    faces: list[Face]  # every face DetectFaces returns, largest first
    error: str | None  # why ``largest`` is None


@cache
def embedder(version: str) -> str:
    """The model file ``version`` embeds with, or the variant of its network RECOGNITO_FACE_MODEL names."""
    from recognito.faces.similarity import face_model
    from recognito_inference.face_embedder import EMBEDDERS

    shipped = face_model(version).model
    variant = os.environ.get("RECOGNITO_FACE_MODEL")
    return variant if variant in EMBEDDERS and EMBEDDERS[variant] is EMBEDDERS[shipped] else shipped


def _pipeline_key(version: str = "1.0") -> str:
    """A hash of everything a cached result depends on: models, embedder, and the code."""
    from recognito import images
    from recognito.faces import compare, details
    from recognito_inference import face_detector, face_embedder, face_geometry
    from recognito_inference.sessions import model_dir

    digest = hashlib.sha256()
    manifest = model_dir() / "manifest.json"
    models = json.loads(manifest.read_text())["models"] if manifest.is_file() else {}
    for name in ("centerface", embedder(version)):
        digest.update(f"{name}:{models.get(name, {}).get('sha256', 'unknown')}".encode())
    for module in (compare, details, images, face_detector, face_embedder, face_geometry):
        source = Path(inspect.getsourcefile(module)).read_text()
        # Comments and the QualityFilter bars change no cached number (the filter is applied when
        # a record is read back), so editing them does not recompute the set.
        source = re.sub(r"\n_BARS = \{.*?\n\}\n", "\n", source, flags=re.S)
        digest.update(re.sub(r"(?m)^\s*#.*\n", "", source).encode())
    return digest.hexdigest()[:16]


def _run(data: bytes, version: str = "1.0") -> dict[str, Any]:
    """The pipeline on one photo's bytes, as a JSON-able record."""
    from recognito.errors import InvalidParameterException
    from recognito.faces.compare import MAX_TARGET_FACES, _source_face
    from recognito.faces.details import face_details
    from recognito.images import decode_image, limits_for
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.face_embedder import embed_faces

    image = decode_image(data, limits_for("CompareFaces"))
    record: dict[str, Any] = {"width": image.width, "height": image.height, "error": None}
    found = detect_faces(image.rgb, max_faces=MAX_TARGET_FACES)
    record["faces"] = [
        {"score": d.score, "detail": detail} for d, detail in zip(found, face_details(image, found), strict=True)
    ]
    try:
        source = _source_face(image, "NONE")
    except InvalidParameterException as error:
        record.update(largest=None, embedding=None, error=f"no face found ({error})")
        return record
    embedding = embed_faces(image.rgb, [source.detection], embedder(version))[0]
    record["largest"] = {"score": source.detection.score, "detail": source.detail}
    record["embedding"] = embedding.tolist()
    return record


def _face(entry: dict[str, Any] | None) -> Face | None:
    return None if entry is None else Face(score=float(entry["score"]), detail=entry["detail"])


def labels(root: Path = FACE_SET) -> list[dict[str, str]]:
    """The rows of ``labels.csv``: path, identity, source_repo."""
    with (root / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def through_pipeline(data: bytes, path: str, identity: str, source: str, version: str = "1.0") -> tuple[Photo, bool]:
    """One image's bytes through the pipeline, cached by sha256: (the Photo, whether it was run now)."""
    key = _pipeline_key(version)
    CACHE.mkdir(parents=True, exist_ok=True)
    suffix = "" if version == "1.0" else f"-{version}"
    cached = CACHE / f"{hashlib.sha256(data).hexdigest()}{suffix}.json"
    record = json.loads(cached.read_text()) if cached.is_file() else {}
    ran = record.get("key") != key
    if ran:
        record = {"key": key, **_run(data, version)}
        cached.write_text(json.dumps(record))
    embedding = record["embedding"]
    photo = Photo(
        path=path,
        identity=identity,
        source=source,
        width=record["width"],
        height=record["height"],
        largest=_face(record["largest"]),
        embedding=None if embedding is None else np.asarray(embedding, dtype=np.float32),
        faces=[_face(face) for face in record["faces"]],
        error=record["error"],
    )
    return photo, ran


def photos(root: Path = FACE_SET, *, verbose: bool = True, version: str = "1.0") -> Iterator[Photo]:
    """Every photo of the set through the pipeline with face model ``version``, in ``labels.csv`` order, cached."""
    if not (root / "labels.csv").is_file():
        sys.exit(f"face set not found at {root} (it lives in ../shared/datasets/faces next to the repo)")
    rows = labels(root)
    computed = 0
    for row in rows:
        data = (root / row["path"]).read_bytes()
        photo, ran = through_pipeline(data, row["path"], row["identity"], row["source_repo"], version)
        computed += ran
        yield photo
    if verbose:
        print(f"[{len(rows)} photos from {root}; {computed} run through the pipeline, {len(rows) - computed} cached]")
