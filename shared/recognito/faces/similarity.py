"""The face model a collection's embeddings come from, and what its similarities mean.

A collection is pinned to the version it was created with: embeddings of one model are
meaningless to another, so the version travels with the collection (``FaceModelVersion``).
The similarity scale lives here, in the shared layer rather than with the models, because
collection operations that never run a model (AssociateFaces, SearchFaces) compare stored
embeddings too.
"""

from __future__ import annotations

import numpy as np

FACE_MODEL_VERSION = "facenet-20180408"
EMBEDDING_SIZE = 512

# Similarity = 100 / (1 + exp(-_SLOPE * (cosine - _COSINE_AT_50))), a logistic curve through two
# anchors read off genuine and impostor pairs (bench/compare_faces.py; tests/face_datasets.py has
# the photographs: Obama in 3 photos, Biden, the astronaut, the cameraman and 22 women in 6 group
# photos; with facenet-int8 and MARGIN 0.10):
# - 80 at cosine 0.50. Impostor pairs from different photographs: mean 0.13, sd 0.11, largest
#   0.37 of 144, so a normal tail puts 0.50 at a false-match rate of ~4e-4 (0.47 would be 1e-3).
#   Different women in one group photograph (shared light, pose and colour) reach 0.54: a face cut
#   out of a group photograph and compared with that photograph is the one case seen to match
#   someone else above 80.
# - 99 at cosine 0.70, about the median of the genuine pairs (0.62-0.74): a clear photo of the same
#   person scores in the high 90s, as at AWS; unrelated people score about 1 (their mean).
_COSINE_AT_80 = 0.50
_COSINE_AT_99 = 0.70
_SLOPE = float(np.log(99.0 / 4.0) / (_COSINE_AT_99 - _COSINE_AT_80))
_COSINE_AT_50 = _COSINE_AT_80 - float(np.log(4.0)) / _SLOPE


def similarity_percent(cosine: np.ndarray | float) -> np.ndarray | float:
    """Rekognition-style Similarity (0-100) for cosine similarities of L2-normalized embeddings."""
    score = 100.0 / (1.0 + np.exp(-_SLOPE * (np.asarray(cosine, dtype=np.float64) - _COSINE_AT_50)))
    return float(score) if np.ndim(score) == 0 else score


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Similarity (0-100) of L2-normalized embeddings: two vectors give a float, a vector and an
    (m, 512) matrix give (m,), two matrices give (n, m)."""
    cosine = np.clip(np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T, -1.0, 1.0)
    return similarity_percent(cosine)


def cosine_for_similarity(value: float) -> float:
    """The cosine at which ``similarity_percent`` reaches ``value``: a search's floor."""
    clipped = min(max(value, 1e-6), 100 - 1e-6)
    return _COSINE_AT_50 - float(np.log(100.0 / clipped - 1.0)) / _SLOPE
