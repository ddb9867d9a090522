"""What the heads see: EfficientNet-Lite2's features of the whole, letterboxed image.

One ONNX run gives both the pooled 1280-d features (image classification) and the 1280 x 9 x 9
feature map (object detection pools proposals' regions from it). The model is the one DetectLabels
already loads (``recognito_inference.classifier``): no second copy of any weights or model code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from recognito_inference import classifier

INPUT_SIZE = classifier.SIZE
BATCH = 8  # images per ONNX run: larger batches gain nothing on one or two cores


@dataclass(frozen=True)
class Embedded:
    """The backbone's view of N images."""

    pooled: np.ndarray  # (N, 1280) float32
    fmap: np.ndarray  # (N, 1280, 9, 9) float16 (half the bytes between steps; heads read float32)
    scale: np.ndarray  # (N,) image px -> input px
    size: np.ndarray  # (N, 2) image width, height in px


def embed(images: list[np.ndarray]) -> Embedded:
    """Features of H x W x 3 uint8 images, ``BATCH`` at a time."""
    pooled, fmaps, scales = [], [], []
    for start in range(0, len(images), BATCH):
        batch = [classifier.letterbox(rgb) for rgb in images[start : start + BATCH]]
        p, f = classifier.features(np.stack([tensor for tensor, _ in batch]))
        pooled.append(p.astype(np.float32))
        fmaps.append(f.astype(np.float16))
        scales.extend(scale for _, scale in batch)
    return Embedded(
        pooled=np.concatenate(pooled) if pooled else np.zeros((0, 1280), np.float32),
        fmap=np.concatenate(fmaps) if fmaps else np.zeros((0, 1280, 9, 9), np.float16),
        scale=np.asarray(scales, np.float32),
        size=np.asarray([(rgb.shape[1], rgb.shape[0]) for rgb in images], np.float32).reshape(-1, 2),
    )


def concatenate(parts: list[Embedded]) -> Embedded:
    """The batches of a Map state joined back in order."""
    return Embedded(
        *(np.concatenate([getattr(p, name) for p in parts]) for name in ("pooled", "fmap", "scale", "size"))
    )
