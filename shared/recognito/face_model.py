"""The face model a collection's embeddings come from, and what its similarities mean.

A collection is pinned to the version it was created with: embeddings of one model are
meaningless to another, so the version travels with the collection (``FaceModelVersion``).
The similarity scale lives here, in the shared layer, because collection operations that never
run a model (AssociateFaces, SearchFaces) compare stored embeddings too.
"""

from __future__ import annotations

import numpy as np

FACE_MODEL_VERSION = "facenet-20180408"
EMBEDDING_SIZE = 512

# Rekognition's Similarity is a 0-100 score where 80 is the default "same person" line. FaceNet's
# cosine similarity is mapped onto it by a logistic curve fitted on genuine and impostor pairs
# (see the README's calibration section): 80 sits where different people almost never reach.
_COSINE_AT_50 = 0.30
_SLOPE = 12.0


def similarity_percent(cosine: np.ndarray | float) -> np.ndarray:
    """Rekognition-style Similarity (0-100) for cosine similarities of L2-normalized embeddings."""
    return 100.0 / (1.0 + np.exp(-_SLOPE * (np.asarray(cosine, dtype=np.float64) - _COSINE_AT_50)))


def cosine_for_similarity(similarity: float) -> float:
    """The cosine similarity at which ``similarity_percent`` reaches ``similarity``: a search's floor."""
    clipped = min(max(similarity, 1e-6), 100 - 1e-6)
    return _COSINE_AT_50 - float(np.log(100.0 / clipped - 1.0)) / _SLOPE
