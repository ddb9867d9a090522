"""Object detection with MediaPipe's Open Images SSD: boxes of 23 Open Images v4 classes.

``oid-ssd.onnx`` is the first stage of MediaPipe Objectron (SSD MobileNetV2 trained on Open Images
v4, Apache-2.0), converted from the .tflite inside the ``@mediapipe/objectron`` npm package by the
build step. Input 1x300x300x3 RGB scaled to -1..1, the whole image stretched to the square as
MediaPipe's graph does; outputs, per each of 1,917 SSD anchors, box offsets (y, x, h, w) and 24
class logits (class 0 is the background). The anchors are those of MediaPipe's SsdAnchorsCalculator
for this model: 6 layers at strides 16..512, scales 0.2..0.95, aspect ratios 1, 2, 1/2, 3, 1/3 plus
an interpolated scale, and only 3 anchors a cell in the first layer. Offsets decode with the
TF Object Detection API's box coder (scales 10, 10, 5, 5); scores are sigmoids of the logits.
Checked on scikit-image's cat: Cat 0.85, box over the whole cat, as MediaPipe reports.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from PIL import Image

from recognito_inference.boxes import nms
from recognito_inference.object_detector import Detection
from recognito_inference.sessions import get_session

MODEL = "oid-ssd"
SIZE = 300
# The model's classes in output order (the label map packed beside it; the build step checks it).
CLASSES = (
    "???", "Bicycle", "Boot", "Laptop", "Person", "Chair", "Cattle", "Desk", "Cat", "Computer mouse",
    "Computer monitor", "Box", "Mug", "Coffee cup", "Stationary bicycle", "Table", "Bottle", "High heels",
    "Vehicle", "Footwear", "Dog", "Book", "Camera", "Car",
)  # fmt: skip
STRIDES = (16, 32, 64, 128, 256, 512)
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)
BOX_SCALES = np.array([10.0, 10.0, 5.0, 5.0])  # y, x, h, w
NMS_IOU = 0.5


@cache
def anchors() -> np.ndarray:
    """(1917, 4) anchor centres and sizes (x, y, w, h), 0..1, in the model's output order."""

    def scale(layer: int) -> float:
        return MIN_SCALE + (MAX_SCALE - MIN_SCALE) * layer / (len(STRIDES) - 1)

    rows = []
    for layer, stride in enumerate(STRIDES):
        cells = math.ceil(SIZE / stride)
        if layer == 0:
            specs = [(0.1, 1.0), (scale(0), 2.0), (scale(0), 0.5)]
        else:
            following = 1.0 if layer == len(STRIDES) - 1 else scale(layer + 1)
            specs = [(scale(layer), ratio) for ratio in ASPECT_RATIOS]
            specs.append((math.sqrt(scale(layer) * following), 1.0))
        for y in range(cells):
            for x in range(cells):
                for s, ratio in specs:
                    rows.append(((x + 0.5) / cells, (y + 0.5) / cells, s * math.sqrt(ratio), s / math.sqrt(ratio)))
    return np.array(rows)


def detect_oid_objects(rgb: np.ndarray, min_score: float = 0.3, max_detections: int = 100) -> list[Detection]:
    """Objects of the model's classes in an H x W x 3 uint8 image, best first; ``class_id`` indexes
    CLASSES (never 0, the background)."""
    height, width = rgb.shape[:2]
    square = np.asarray(Image.fromarray(rgb).resize((SIZE, SIZE), Image.BILINEAR), dtype=np.float32)
    session = get_session(MODEL)
    raw_boxes, logits = session.run(["boxes", "scores"], {"input": (square / 127.5 - 1.0)[None]})
    scores = 1.0 / (1.0 + np.exp(-logits[0, :, 1:].astype(np.float64)))
    cells, classes = np.nonzero(scores > min_score)
    if not len(cells):
        return []
    a = anchors()[cells]
    offsets = raw_boxes[0, cells].astype(np.float64) / BOX_SCALES
    cx = offsets[:, 1] * a[:, 2] + a[:, 0]
    cy = offsets[:, 0] * a[:, 3] + a[:, 1]
    w, h = np.exp(offsets[:, 3]) * a[:, 2], np.exp(offsets[:, 2]) * a[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) * [width, height, width, height]
    boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
    picked = scores[cells, classes].astype(np.float32)
    found: list[Detection] = []
    for c in np.unique(classes):
        idx = np.nonzero(classes == c)[0]
        found += [
            Detection(boxes[idx[k]], float(picked[idx[k]]), int(c) + 1) for k in nms(boxes[idx], picked[idx], NMS_IOU)
        ]
    found.sort(key=lambda d: -d.score)
    return found[:max_detections]
