"""ImageNet-1k classification with EfficientNet-Lite2: the probability of each of the 1,000 classes.

``efficientnet-lite2.onnx`` (exported from the Apache-2.0 EfficientNet-Lite weights by the build
step) takes 260x260 RGB scaled to about -1..1 (``(x/255 - 0.498) / 0.502``, the Lite models' own
normalization) and returns logits. The image is resized so its short side is 260 px and the centre
square is classified, as the model was evaluated: squashing the whole image instead distorts shapes
the model knows by their proportions. Class ``i`` is ImageNet-1k's ``i``-th synset (the order of the
taxonomy's ``imagenet`` list).

The same graph also returns what it classifies from, for heads trained on top of it (custom labels):
``features``, the 1280-d spatial mean of the head's feature map, and ``feature_map`` itself
(1280 x 9 x 9, one cell per 32 px of the input). For those the whole image is letterboxed into the
square (aspect kept, padded with the normalization's mean, i.e. zeros), so nothing is cropped off
and a box maps back to the image by one scale.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from recognito_inference.sessions import get_session

MODEL = "efficientnet-lite2"
SIZE = 260
MEAN = 0.498 * 255.0
STD = 0.502 * 255.0


def _input_tensor(rgb: np.ndarray) -> np.ndarray:
    """1x3x260x260 float32: short side resized to 260 (antialiased), centre square."""
    height, width = rgb.shape[:2]
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    box = (left, top, left + side, top + side)
    square = np.asarray(Image.fromarray(rgb).resize((SIZE, SIZE), Image.BICUBIC, box=box), dtype=np.float32)
    return ((square - MEAN) / STD).transpose(2, 0, 1)[None]


def classify(rgb: np.ndarray) -> np.ndarray:
    """(1000,) float64 probabilities (softmax) of ImageNet's classes for an H x W x 3 uint8 image."""
    session = get_session(MODEL)
    (logits,) = session.run(["logits"], {"input": _input_tensor(rgb)})
    z = logits[0].astype(np.float64)
    p = np.exp(z - z.max())
    return p / p.sum()


def letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """3x260x260 float32 input of the whole image (long side to 260, padded right and bottom) and
    the scale from image pixels to input pixels."""
    height, width = rgb.shape[:2]
    scale = SIZE / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BICUBIC), dtype=np.float32)
    canvas = np.zeros((SIZE, SIZE, 3), dtype=np.float32)  # zero after normalization: the mean colour
    canvas[:new_h, :new_w] = (resized - MEAN) / STD
    return canvas.transpose(2, 0, 1), scale


def features(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features (N, 1280) and feature maps (N, 1280, 9, 9) of a batch of N inputs
    (N x 3 x 260 x 260, as ``letterbox`` makes them)."""
    session = get_session(MODEL)
    pooled, fmap = session.run(["features", "feature_map"], {"input": np.ascontiguousarray(inputs, np.float32)})
    return pooled, fmap
