"""Linear heads in numpy: softmax regression (one label an image or a box), sigmoid regression
(multi-label), and ridge regression (box refinement).

Features are standardized with the training set's mean and spread, then fitted full-batch with Adam
and an L2 penalty: a few hundred steps converge on thousands of samples in seconds on one core, and
numpy is all a Lambda function needs (no scikit-learn or SciPy in the deployment package).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

STEPS = 300
LEARNING_RATE = 0.05
L2 = 1e-3


@dataclass(frozen=True)
class LinearHead:
    """``x -> ((x - mean) / scale) @ weights + bias``; ``kind`` says how scores become probabilities."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    weights: np.ndarray  # (D, K)
    bias: np.ndarray  # (K,)
    kind: str  # "softmax" | "sigmoid" | "identity"

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, np.float32) - self.mean) / self.scale) @ self.weights + self.bias

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(N, K) probabilities (softmax rows or independent sigmoids), or values for ridge heads."""
        z = self.logits(x)
        if self.kind == "softmax":
            return _softmax(z)
        if self.kind == "sigmoid":
            return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        return z

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The head as named arrays for an ``.npz`` artifact."""
        return {
            f"{prefix}.mean": self.mean,
            f"{prefix}.scale": self.scale,
            f"{prefix}.weights": self.weights,
            f"{prefix}.bias": self.bias,
            f"{prefix}.kind": np.array(self.kind),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> LinearHead:
        return cls(
            mean=arrays[f"{prefix}.mean"],
            scale=arrays[f"{prefix}.scale"],
            weights=arrays[f"{prefix}.weights"],
            bias=arrays[f"{prefix}.bias"],
            kind=str(arrays[f"{prefix}.kind"]),
        )


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _standardizer(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean.astype(np.float32), np.where(scale > 1e-6, scale, 1.0).astype(np.float32)


def fit_softmax(x: np.ndarray, y: np.ndarray, classes: int, *, balanced: bool = True, l2: float = L2) -> LinearHead:
    """Multinomial logistic regression of class indices ``y`` (N,) in 0..classes-1.

    ``balanced`` weighs each class's samples to the same total, so a class with few examples (or the
    many background proposals of a detector) does not drown the others."""
    targets = np.zeros((len(y), classes), np.float32)
    targets[np.arange(len(y)), y] = 1.0
    counts = np.bincount(y, minlength=classes).astype(np.float32)
    if balanced:
        per_class = np.where(counts > 0, len(y) / (classes * np.maximum(counts, 1)), 0.0)
        weights = per_class[y]
    else:
        weights = np.ones(len(y), np.float32)
    return _fit(x, targets, weights, "softmax", l2)


def fit_sigmoid(x: np.ndarray, targets: np.ndarray, *, l2: float = L2, offset: np.ndarray | None = None) -> LinearHead:
    """Independent logistic regressions, one a column of the 0/1 matrix ``targets`` (N, K).

    ``offset`` (N, K) is a fixed part of each logit: the head then learns a correction to it (a
    moderation adapter's correction of the base model's log-odds); its ``logits`` leave it out."""
    return _fit(x, targets.astype(np.float32), np.ones(len(x), np.float32), "sigmoid", l2, offset)


def fit_ridge(x: np.ndarray, targets: np.ndarray, *, l2: float = 10.0) -> LinearHead:
    """Least squares with an L2 penalty, closed form (box deltas from region features)."""
    mean, scale = _standardizer(x)
    z = (x - mean) / scale
    offset = targets.mean(axis=0)
    gram = z.T @ z + l2 * len(z) * np.eye(z.shape[1], dtype=np.float32) / 100.0
    weights = np.linalg.solve(gram, z.T @ (targets - offset))
    return LinearHead(mean, scale, weights.astype(np.float32), offset.astype(np.float32), "identity")


def _fit(
    x: np.ndarray, targets: np.ndarray, weights: np.ndarray, kind: str, l2: float, offset: np.ndarray | None = None
) -> LinearHead:
    x = np.asarray(x, np.float32)
    mean, scale = _standardizer(x)
    z = (x - mean) / scale
    n, d = z.shape
    k = targets.shape[1]
    w = np.zeros((d, k), np.float32)
    b = np.zeros(k, np.float32)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    sample_weights = (weights / weights.sum())[:, None].astype(np.float32)
    for step in range(1, STEPS + 1):
        logits = z @ w + b if offset is None else z @ w + b + offset
        probs = _softmax(logits) if kind == "softmax" else 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        error = (probs - targets) * sample_weights  # gradient of the weighted mean cross-entropy
        grads = [z.T @ error + l2 * w, error.sum(axis=0)]
        for i, (param, grad) in enumerate(zip((w, b), grads, strict=True)):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad * grad
            param -= LEARNING_RATE * (m[i] / (1 - 0.9**step)) / (np.sqrt(v[i] / (1 - 0.999**step)) + 1e-8)
    return LinearHead(mean, scale, w, b, kind)


def pack(format_tag: str, arrays: dict[str, np.ndarray]) -> bytes:
    """A trained artifact's arrays as compressed npz bytes (no pickles), tagged with its format."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, format=np.array(format_tag), **arrays)
    return buffer.getvalue()


def unpack(data: bytes, format_tag: str) -> dict[str, np.ndarray]:
    """The arrays ``pack`` stored; ValueError when they are not of that format (another kind of
    artifact, or one an older recognito wrote)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    if str(arrays.get("format")) != format_tag:
        raise ValueError(f"not a {format_tag} artifact")
    return arrays
