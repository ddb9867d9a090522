"""Face detection with CenterFace: boxes, scores and five landmarks, in the input image's pixels.

CenterFace (``centerface.onnx``) is a fully convolutional, anchor-free detector: for an RGB image
of any size that is a multiple of 32 (float 0..255, no normalization) it returns, at stride 4, a
face-centre heatmap, the log of the face's height and width, the sub-cell offset of the centre and
the five landmarks relative to the box. This module only does what surrounds the network: picking
the input scales, resizing, decoding every cell above the threshold at once, and merging the
candidates of all scales with non-maximum suppression.

Scales: the network finds faces from ``MIN_FACE_AT_INPUT`` (~24) to ``MAX_FACE_AT_INPUT`` (~640)
px tall at its input. An image up to ``BASE_LONG_SIDE`` px long takes one pass (small ones
enlarged, up to ``MAX_UPSCALE``); so does a larger one whose short side is within the network's
range at full resolution. Otherwise a base pass with the long side at ``BASE_LONG_SIDE`` finds
the large faces, and a pass at full resolution (at most ``SMALL_PASS_MAX_PIXELS``, which bounds
time and memory for huge images) the small ones: it keeps only faces the base pass could have
missed, since it sees large faces truncated or split. Candidates of both passes are merged with
NMS. Faces from ~24 px tall (forehead to chin, ~18 px wide) are found up to 1920x1080; AWS
documents 40 px as its smallest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognito_inference.boxes import areas, intersections, nms
from recognito_inference.sessions import get_session

MODEL = "centerface"
INPUT = "input.1"
OUTPUTS = ["537", "538", "539", "540"]  # heatmap, log(h, w), centre offset (y, x), landmarks (y, x)
STRIDE = 4

MIN_SCORE = 0.4  # heatmap peak; faceless images peak under 0.37, small faces often under 0.5
NMS_IOU = 0.3
BASE_LONG_SIDE = 640  # base pass resolution: the network's sweet spot, ~50 ms on one core
MIN_FACE_PX = 20  # smallest face (box height in the original) that must be found
MIN_FACE_AT_INPUT = 24  # smallest face height the network reliably finds at its input
MAX_FACE_AT_INPUT = 640  # beyond ~700 px its boxes come out too small, and split in two
MAX_UPSCALE = 2.0
SMALL_PASS_MAX_PIXELS = 1920 * 1088  # bound on the small-face pass's cost for huge images


@dataclass(frozen=True)
class FaceDetection:
    """One face: box and landmarks in pixels of the input image, score 0..1."""

    box: np.ndarray  # (4,) float32 x1, y1, x2, y2
    score: float
    landmarks: np.ndarray  # (5, 2) float32 x, y: eyeLeft, eyeRight, nose, mouthLeft, mouthRight

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


def _round32(value: float) -> int:
    return max(32, int(np.ceil(value / 32.0)) * 32)


def _input_tensor(rgb: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """The image resized by ``scale`` and zero-padded to multiples of 32, as 1x3xHxW float32.

    Padding (rather than stretching to the next multiple of 32) keeps faces' aspect ratio, which
    the network's box regression assumes. Returns the tensor and the exact x and y scale factors.
    """
    height, width = rgb.shape[:2]
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if (new_w, new_h) != (width, height):
        resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR))
    else:
        resized = rgb
    tensor = np.zeros((1, 3, _round32(new_h), _round32(new_w)), dtype=np.float32)
    tensor[0, :, :new_h, :new_w] = resized.transpose(2, 0, 1)
    return tensor, new_w / width, new_h / height


def _decode(
    outputs: list[np.ndarray], sx: float, sy: float, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every heatmap cell above ``min_score`` as a box, score and landmarks in original pixels."""
    heatmap, log_size, offset, landmarks = outputs
    ys, xs = np.nonzero(heatmap[0, 0] > min_score)
    scores = heatmap[0, 0, ys, xs]
    box_h = np.exp(log_size[0, 0, ys, xs]) * STRIDE
    box_w = np.exp(log_size[0, 1, ys, xs]) * STRIDE
    cy = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE
    x1, y1 = cx - box_w / 2, cy - box_h / 2
    boxes = np.stack([x1, y1, x1 + box_w, y1 + box_h], axis=1)
    boxes[:, 0::2] /= sx
    boxes[:, 1::2] /= sy
    # Landmarks are fractions of the box from its (unclipped) top-left corner, y first.
    lm_y = landmarks[0, 0::2][:, ys, xs] * box_h + y1  # (5, n)
    lm_x = landmarks[0, 1::2][:, ys, xs] * box_w + x1
    points = np.stack([lm_x.T / sx, lm_y.T / sy], axis=2)  # (n, 5, 2)
    return boxes.astype(np.float32), scores.astype(np.float32), points.astype(np.float32)


def _passes(width: int, height: int) -> list[tuple[float, float]]:
    """(scale, largest face height kept, in original px) for each pass over a width x height image."""
    base = BASE_LONG_SIDE / max(width, height)
    if base >= 1.0:
        # Small images are enlarged so that their small faces reach the network's minimum, but
        # not by a token amount, which would cost a resize for nothing.
        return [(1.0 if base < 1.15 else min(base, MAX_UPSCALE), float("inf"))]
    full = min(1.0, float(np.sqrt(SMALL_PASS_MAX_PIXELS / (width * height))))
    if min(width, height) * full <= MAX_FACE_AT_INPUT:
        # No face can be too large for the network at this scale: one pass sees them all.
        return [(full, float("inf"))]
    passes = [(base, float("inf"))]
    if MIN_FACE_PX * base < MIN_FACE_AT_INPUT and full > base * 1.15:
        # The high-resolution pass only adds faces that the base pass sees under about its
        # minimum; the margin covers faces that neither pass sees at its best.
        passes.append((full, 2.5 * MIN_FACE_AT_INPUT / base))
    return passes


def _drop_parts(boxes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``keep`` without boxes lying mostly inside a box at least 4 times their area.

    At high resolution the network can fire on part of a large face (an eye and brow, say); NMS
    keeps such a box, since it overlaps the whole face's box little.
    """
    kept = boxes[keep]
    area = areas(kept)
    inside = (intersections(kept, kept) >= 0.7 * area[:, None]) & (area[None, :] >= 4 * area[:, None])
    return keep[~inside.any(axis=1)]


def detect_faces(rgb: np.ndarray, *, max_faces: int = 100, min_score: float = MIN_SCORE) -> list[FaceDetection]:
    """The faces in an HxWx3 uint8 RGB image, largest first, at most ``max_faces``."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    session = get_session(MODEL)
    all_boxes, all_scores, all_points = [], [], []
    for scale, max_face in _passes(width, height):
        tensor, sx, sy = _input_tensor(rgb, scale)
        boxes, scores, points = _decode(session.run(OUTPUTS, {INPUT: tensor}), sx, sy, min_score)
        if np.isfinite(max_face):
            small = (boxes[:, 3] - boxes[:, 1]) <= max_face
            boxes, scores, points = boxes[small], scores[small], points[small]
        all_boxes.append(boxes)
        all_scores.append(scores)
        all_points.append(points)
    boxes = np.concatenate(all_boxes)
    scores = np.concatenate(all_scores)
    points = np.concatenate(all_points)
    if not len(boxes):
        return []
    keep = _drop_parts(boxes, nms(boxes, scores, NMS_IOU))
    keep = keep[np.argsort(-areas(boxes[keep]), kind="stable")][:max_faces]
    return [FaceDetection(box=boxes[i], score=float(scores[i]), landmarks=points[i]) for i in keep]
