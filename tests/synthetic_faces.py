"""Synthetic face embeddings for the search tests and benchmarks (bench/search_scale.py); not deployed.

Random unit vectors in 128-d (or 512-d) are all nearly orthogonal, so an ANN index finds them either trivially
(one point per cluster) or not at all (no structure): neither says anything about real faces.
Face embeddings are clustered: each identity has several faces around its own centre, and centres
share structure (a common direction, demographic-like groups), which makes near-but-wrong
identities (hard negatives) that an approximate index must tell apart. The generator reproduces that:

- same identity: cosine ~0.6-0.9 (per-face noise of random strength around the centre);
- different identities: cosine ~0-0.3 (shared global direction plus one of ``groups`` directions).

Every query is a fresh face of an identity in the gallery, so every query has true matches.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from recognito.search.index import DIM  # new collections' embedding size (face model version 2.0: 128)


class SyntheticFaces(NamedTuple):
    gallery: np.ndarray  # (n, DIM) float32, L2-normalized
    identity: np.ndarray  # (n,) int32: the identity of each gallery face
    queries: np.ndarray  # (q, DIM) float32, new faces of gallery identities
    query_identity: np.ndarray  # (q,) int32


def _normalize(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def identity_centres(n_identities: int, rng: np.random.Generator, groups: int = 64, dim: int = DIM) -> np.ndarray:
    """Unit centres sharing a global direction and one of ``groups`` directions (hard negatives)."""
    shared = _normalize(rng.standard_normal((1, dim)).astype(np.float32))
    group_dirs = _normalize(rng.standard_normal((groups, dim)).astype(np.float32))
    group = rng.integers(0, groups, n_identities)
    w_shared = rng.uniform(0.15, 0.35, (n_identities, 1)).astype(np.float32)
    w_group = rng.uniform(0.2, 0.45, (n_identities, 1)).astype(np.float32)
    own = _normalize(rng.standard_normal((n_identities, dim)).astype(np.float32))
    return _normalize(w_shared * shared + w_group * group_dirs[group] + own)


def faces_of(centres: np.ndarray, identity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faces around their identity's centre; noise 0.35-0.8 gives same-identity cosine ~0.6-0.9."""
    dim = centres.shape[1]
    out = np.empty((len(identity), dim), np.float32)
    step = 65536  # bounded temporary memory at 1M faces
    for start in range(0, len(identity), step):
        ids = identity[start : start + step]
        noise = _normalize(rng.standard_normal((len(ids), dim)).astype(np.float32))
        strength = rng.uniform(0.35, 0.8, (len(ids), 1)).astype(np.float32)
        out[start : start + len(ids)] = _normalize(centres[ids] + strength * noise)
    return out


def synthetic_faces(
    n_faces: int, n_queries: int = 200, faces_per_identity: int = 5, seed: int = 0, dim: int = DIM
) -> SyntheticFaces:
    """``n_faces`` gallery faces of ``dim`` values, ~``faces_per_identity`` each (1 to 2x that, so sizes vary).

    At 128-d (SFace's size) different identities' cosines reach 0.19 at the 95th percentile, 0.31 at
    the 99.9th (the shared face set's SFace impostors: 0.24 and ~0.36); same identity: median 0.75."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 2 * faces_per_identity, max(1, n_faces // faces_per_identity) + n_faces)
    cut = int(np.searchsorted(np.cumsum(sizes), n_faces)) + 1
    identity = np.repeat(np.arange(cut, dtype=np.int32), sizes[:cut])[:n_faces]
    n_identities = int(identity[-1]) + 1
    centres = identity_centres(n_identities, rng, dim=dim)
    gallery = faces_of(centres, identity, rng)
    query_identity = rng.choice(identity, n_queries).astype(np.int32)
    queries = faces_of(centres, query_identity, rng)
    return SyntheticFaces(gallery, identity, queries, query_identity)
