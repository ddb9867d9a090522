"""Object detection with NanoDet-m: boxes of COCO's 80 classes, in the input image's pixels.

``nanodet.onnx`` (NanoDet-m, Apache-2.0, converted from its TF.js graph by the build step) takes
1x3x416x416 BGR normalized with NanoDet's own mean and std (not the /255 of TF.js ports) and has a
Generalized Focal Loss head at strides 8, 16 and 32. Per stride it returns, for every cell, 80 class
scores (already sigmoid: IoU-aware quality scores, so a clear object scores ~0.5-0.9, not ~1) and
4 x 11 logits: a distribution over 0..10 strides for the distance from the cell's centre to each of
the box's left, top, right and bottom sides. The box side is that distribution's expectation.

The image is letterboxed (aspect kept, padded right and bottom with the mean colour): stretching it
to a square changed which class won on real photos (scikit-image's cat became a person).
Candidates are merged per class with non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognito_inference.boxes import nms
from recognito_inference.sessions import get_session

MODEL = "nanodet"
SIZE = 416
STRIDES = (8, 16, 32)
BINS = 11  # reg_max 10: distances 0..10 strides
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
NMS_IOU = 0.5


@dataclass(frozen=True)
class Detection:
    """One object: box in pixels of the input image (x1, y1, x2, y2, clipped to it), score 0..1 and
    COCO class index 0..79 (the detector's order)."""

    box: np.ndarray
    score: float
    class_id: int


def _input_tensor(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    height, width = rgb.shape[:2]
    scale = SIZE / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR), dtype=np.float32)
    canvas = np.zeros((SIZE, SIZE, 3), dtype=np.float32)  # zero after normalization: the mean colour
    canvas[:new_h, :new_w] = (resized[..., ::-1] - MEAN_BGR) / STD_BGR
    return canvas.transpose(2, 0, 1)[None], scale


def _decode(scores: np.ndarray, regs: np.ndarray, stride: int, min_score: float) -> tuple[np.ndarray, ...]:
    """Boxes (n, 4), scores (n,) and classes (n,) of one stride's cells scoring over ``min_score``."""
    cells, classes = np.nonzero(scores > min_score)
    if not len(cells):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    grid = SIZE // stride
    cy, cx = np.divmod(cells, grid)
    centre_x, centre_y = (cx + 0.5) * stride, (cy + 0.5) * stride
    logits = regs[cells].reshape(-1, 4, BINS).astype(np.float64)
    prob = np.exp(logits - logits.max(axis=2, keepdims=True))
    prob /= prob.sum(axis=2, keepdims=True)
    dist = (prob @ np.arange(BINS)) * stride  # (n, 4): left, top, right, bottom
    boxes = np.stack([centre_x - dist[:, 0], centre_y - dist[:, 1], centre_x + dist[:, 2], centre_y + dist[:, 3]], 1)
    return boxes.astype(np.float32), scores[cells, classes], classes


def detect_objects(rgb: np.ndarray, min_score: float = 0.3, max_detections: int = 100) -> list[Detection]:
    """Objects of COCO's 80 classes in an H x W x 3 uint8 image, best first."""
    session = get_session(MODEL)
    tensor, scale = _input_tensor(rgb)
    names = [f"{kind}_{s}" for s in STRIDES for kind in ("scores", "boxes")]
    outputs = dict(zip(names, session.run(names, {"input": tensor}), strict=True))
    parts = [_decode(outputs[f"scores_{s}"][0], outputs[f"boxes_{s}"][0], s, min_score) for s in STRIDES]
    boxes = np.concatenate([p[0] for p in parts]) / scale
    scores = np.concatenate([p[1] for p in parts])
    classes = np.concatenate([p[2] for p in parts])
    height, width = rgb.shape[:2]
    boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
    found: list[Detection] = []
    for c in np.unique(classes):
        idx = np.nonzero(classes == c)[0]
        found += [
            Detection(boxes[idx[k]], float(scores[idx[k]]), int(c)) for k in nms(boxes[idx], scores[idx], NMS_IOU)
        ]
    found.sort(key=lambda d: -d.score)
    return found[:max_detections]
