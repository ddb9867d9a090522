"""The face model versions: which model a collection's embeddings come from, and what their
similarities mean.

``FACE_MODELS`` is the one registry of them: each version names its model file (whose crop and
preprocessing ``recognito_inference.face_embedder.EMBEDDERS`` holds, keyed by that file, since a
network only works on the crops it was trained on), the embeddings' size, and its cosine ->
Similarity curve. Everything else asks ``face_model(version)``; nothing branches on version names.

A collection is pinned to the version it was created with: embeddings of one model are
meaningless to another, so the version travels with the collection (``FaceModelVersion``) and
every operation on it (IndexFaces, the searches, AssociateFaces, video face search) embeds and
scores with that version. New collections and CompareFaces take ``FACE_MODEL_VERSION``.
The registry lives here, in the shared layer rather than with the models, because collection
operations that never run a model (AssociateFaces, SearchFaces) compare stored embeddings too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from recognito_inference.face_detector import FaceDetection

# Names stored by earlier releases, read as the version they were (recognito.storage.tables).
LEGACY_VERSIONS = {"facenet-20180408": "1.0"}


def known_version(stored: str) -> str:
    """The face model version a stored name stands for."""
    return LEGACY_VERSIONS.get(stored, stored)


@dataclass(frozen=True)
class Curve:
    """Similarity = 100 / (1 + exp(-slope * (cosine - at_50))): the logistic through two anchors."""

    at_80: float  # the cosine that scores 80
    at_99: float  # the cosine that scores 99

    @property
    def slope(self) -> float:
        return float(np.log(99.0 / 4.0) / (self.at_99 - self.at_80))

    @property
    def at_50(self) -> float:
        return self.at_80 - float(np.log(4.0)) / self.slope


@dataclass(frozen=True)
class FaceModel:
    """One face model version: what embeds its faces and how its cosines read as Similarity."""

    version: str  # numeric, as AWS names them ("7.0"): botocore's IndexFacesModelVersion is [0-9.]+
    model: str  # the model file's stem (<model dir>/<model>.onnx)
    dim: int  # the embeddings' size
    curve: Curve

    def embed(self, rgb: np.ndarray, detections: Sequence[FaceDetection]) -> np.ndarray:
        """(n, dim) float32 L2-normalized embeddings of the detected faces (needs the inference layer)."""
        from recognito_inference.face_embedder import embed_faces

        return embed_faces(rgb, detections, self.model)


# "1.0": FaceNet 20180408-102900 (Inception-ResNet-v1, CASIA-WebFace; int8 weights), 512-d.
# Similarity = 100 / (1 + exp(-slope * (cosine - at_50))), a logistic curve through two
# anchors fitted by bench/calibrate_similarity.py on 2026-12-03, on ../shared/datasets/faces (147
# photos of 25 people from LFW, face-api.js, opencv-course and face_recognition's repos; see its
# SOURCES.md), none of which a test uses: 378 genuine and 10,353 impostor pairs, facenet-int8,
# MARGIN 0.10, ROC AUC 0.998.
# - 80 at cosine 0.56, where 9 of 10,353 impostor pairs match: false-match rate 8.7e-4 (95% CI by
#   bootstrap over people 0.9e-4-2.2e-3; 1.1e-3 out of fold, people held out); the same person
#   misses in 14% of pairs (9-19%). The previous 0.50, read off 3 genuine pairs, let 5.0e-3 match.
# - 99 at cosine 0.68, the genuine pairs' median: a clear photo of the same person scores in the
#   high 90s, as at AWS; unrelated people (mean cosine 0.14) score about 0.01.
# "2.0": SFace (OpenCV Zoo's MobileFaceNet, ArcFace-aligned 112 px crops; blockwise int8), 128-d,
# chosen over FaceNet, dlib's ResNet and LightCNN by bench/face_models.py. Curve fitted the same way
# on the same set (bench/calibrate_similarity.py --version 2.0, 2026-12-03; 378 genuine / 10,353
# impostor pairs; ROC AUC 1.0000, 95% by people [0.9999, 1.0000]): at 80 (cosine 0.36) 9 impostor
# pairs match, FMR 8.7e-4 (1.05e-3 out of fold) and the same person misses in 3 of 378 pairs (0.8%;
# 0.2-2.3% Clopper-Pearson); 99 at the genuine median.
FACE_MODELS: dict[str, FaceModel] = {
    "1.0": FaceModel("1.0", "facenet-int8", 512, Curve(at_80=0.56, at_99=0.68)),
    "2.0": FaceModel("2.0", "sface", 128, Curve(at_80=0.36, at_99=0.64)),
}
# What new collections are created with, and what CompareFaces and a new celebrity gallery use.
FACE_MODEL_VERSION = "2.0"


def face_model(version: str) -> FaceModel:
    """The registry's entry for a version (or a legacy name of one)."""
    return FACE_MODELS[known_version(version)]


def similarity_percent(cosine: np.ndarray | float, version: str) -> np.ndarray | float:
    """Rekognition-style Similarity (0-100) for cosine similarities of L2-normalized embeddings."""
    curve = face_model(version).curve
    score = 100.0 / (1.0 + np.exp(-curve.slope * (np.asarray(cosine, dtype=np.float64) - curve.at_50)))
    return float(score) if np.ndim(score) == 0 else score


def similarity(a: np.ndarray, b: np.ndarray, version: str) -> np.ndarray | float:
    """Similarity (0-100) of L2-normalized embeddings: two vectors give a float, a vector and an
    (m, d) matrix give (m,), two matrices give (n, m)."""
    cosine = np.clip(np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T, -1.0, 1.0)
    return similarity_percent(cosine, version)


def cosine_for_similarity(value: float, version: str) -> float:
    """The cosine at which ``similarity_percent`` reaches ``value``: a search's floor."""
    curve = face_model(version).curve
    clipped = min(max(value, 1e-6), 100 - 1e-6)
    return curve.at_50 - float(np.log(100.0 / clipped - 1.0)) / curve.slope
