"""Object detection: a trained head over class-agnostic proposals that classifies and refines them.

Fast R-CNN with a frozen backbone and linear heads. The proposals are a fixed set of anchors over
the detector's 520 px letterboxed input (7 sizes x 4 aspect ratios on a 24 x 24 grid of centres).
Each one is described by the backbone's 18 x 18 feature map (``backbone.embed``) pooled over it: the
mean of a 256-channel projection of the map over the box (what it is; the projection is the
principal directions of the training images' cells), a 3 x 3 grid of means of its first 64
channels (where its edges are), how those 64 channels' mean over a ring around the box differs from
the box's own (whether the box ends where the object does: a box on half an object, or on an object
and its neighbour, has the object's look on both sides of its edge), plus its own position and shape.
Pooling is exact area averaging through an integral image of the map, so all ~16,000 anchors of an
image cost well under a second.

Two heads are trained on them: a softmax over background plus the labels (anchors overlapping a
box by IoU >= 0.5 are that box's label, those under 0.3 background, plus hard negatives: anchors
that cut an object, IoU 0.1-0.5) and a ridge regression of the box deltas (Fast R-CNN's dx, dy, dw,
dh) from an anchor to the box it overlaps. Detection is then: score every anchor, refine it,
non-maximum suppression per label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from recognito_inference.boxes import iou, nms

from recognito.custom_labels.training.backbone import GRID, INPUT_SIZE, Embedded
from recognito.custom_labels.training.linear import LinearHead, fit_ridge, fit_softmax

UPSAMPLE = 4  # integral image at quarter cells: box edges to 1/4 of a cell (8 px of 520)
WHOLE = 256  # channels of the projection the whole-box mean keeps
PROJECTED = 64  # channels of the projection the 3 x 3 layout features use
BINS = 3
CONTEXT = 1.8  # the ring around a box: the box grown 1.8 times about its centre, minus the box
SIZES = (40, 60, 90, 135, 200, 300, 450)  # anchor side (geometric mean of w and h) in input px
ASPECTS = (0.55, 0.8, 1.25, 1.8)  # height / width
CENTRES = 24
POSITIVE_IOU = 0.5
NEGATIVE_IOU = 0.3
HARD_IOU = (0.1, 0.5)  # anchors that cut an object: background, and the ones a detector gets wrong
# Samples an image. More than 16 positives / 48 negatives, hard negatives and the ring features:
# held-out AP 0.52 -> 0.61 on a third of the cards bench's 100 training photos (not its test photos).
POSITIVES_PER_IMAGE = 64
NEGATIVES_PER_IMAGE = 128
HARD_PER_IMAGE = 32  # of the negatives
NMS_IOU = 0.4
MIN_SCORE = 0.01  # a detection below 1% confidence is never useful, even for AP
PRE_NMS = 200
MAX_DETECTIONS = 50
DELTA_CLIP = np.log(1000.0 / 16)


def anchors() -> np.ndarray:
    """(A, 4) anchors x1, y1, x2, y2 in input px, centre-major."""
    step = INPUT_SIZE / CENTRES
    centres = (np.arange(CENTRES) + 0.5) * step
    shapes = np.array([(s / np.sqrt(a), s * np.sqrt(a)) for s in SIZES for a in ASPECTS])  # w, h
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    c = np.stack([cx.ravel(), cy.ravel()], 1)[:, None, :]
    half = shapes[None, :, :] / 2
    return np.concatenate([c - half, c + half], axis=2).reshape(-1, 4).astype(np.float32)


ANCHORS = anchors()


def _integral(fmap: np.ndarray) -> np.ndarray:
    """(G*U+1, G*U+1, C) integral image of a (C, G, G) map upsampled U times (nearest: exact areas),
    channels last so that each box corner read is one contiguous row."""
    up = fmap.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2).astype(np.float32).transpose(1, 2, 0)
    out = np.zeros((up.shape[0] + 1, up.shape[1] + 1, fmap.shape[0]), np.float32)
    out[1:, 1:] = up.cumsum(0).cumsum(1)
    return out


def _box_means(integral: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, C) mean of the map over each box (input px), boxes at least a quarter cell a side."""
    per_px = GRID * UPSAMPLE / INPUT_SIZE
    limit = GRID * UPSAMPLE
    x1 = np.clip(np.floor(boxes[:, 0] * per_px), 0, limit - 1).astype(int)
    y1 = np.clip(np.floor(boxes[:, 1] * per_px), 0, limit - 1).astype(int)
    x2 = np.clip(np.ceil(boxes[:, 2] * per_px), x1 + 1, limit).astype(int)
    y2 = np.clip(np.ceil(boxes[:, 3] * per_px), y1 + 1, limit).astype(int)
    sums = integral[y2, x2] - integral[y1, x2] - integral[y2, x1] + integral[y1, x1]
    return sums / ((x2 - x1) * (y2 - y1))[:, None]


def _bins(boxes: np.ndarray) -> np.ndarray:
    """(N * 9, 4): each box's 3 x 3 grid of sub-boxes, box-major."""
    w = (boxes[:, 2] - boxes[:, 0]) / BINS
    h = (boxes[:, 3] - boxes[:, 1]) / BINS
    parts = []
    for i in range(BINS):
        for j in range(BINS):
            x1, y1 = boxes[:, 0] + j * w, boxes[:, 1] + i * h
            parts.append(np.stack([x1, y1, x1 + w, y1 + h], 1))
    return np.stack(parts, 1).reshape(-1, 4)


def _grown(boxes: np.ndarray, factor: float) -> np.ndarray:
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    return np.concatenate([centre - half, centre + half], 1)


def region_features(fmap: np.ndarray, projection: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, 256 + 10 * 64 + 4) features of ``boxes`` (input px) on one image's (1280, 18, 18) map."""
    reduced = np.einsum("cd,chw->dhw", projection, fmap.astype(np.float32))
    whole = _box_means(_integral(reduced), boxes)
    first = _integral(reduced[:PROJECTED])
    layout = _box_means(first, _bins(boxes)).reshape(len(boxes), -1)
    ring = _box_means(first, _grown(boxes, CONTEXT)) - whole[:, :PROJECTED]
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    geometry = np.stack(
        [
            (boxes[:, 0] + w / 2) / INPUT_SIZE,
            (boxes[:, 1] + h / 2) / INPUT_SIZE,
            np.log(w / INPUT_SIZE),
            np.log(h / INPUT_SIZE),
        ],
        1,
    )
    return np.concatenate([whole, layout, ring, geometry], 1).astype(np.float32)


def _deltas(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    sw, sh = source[:, 2] - source[:, 0], source[:, 3] - source[:, 1]
    tw, th = target[:, 2] - target[:, 0], target[:, 3] - target[:, 1]
    return np.stack(
        [
            (target[:, 0] + tw / 2 - source[:, 0] - sw / 2) / sw,
            (target[:, 1] + th / 2 - source[:, 1] - sh / 2) / sh,
            np.log(tw / sw),
            np.log(th / sh),
        ],
        1,
    )


def _apply(source: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    sw, sh = source[:, 2] - source[:, 0], source[:, 3] - source[:, 1]
    cx = source[:, 0] + sw / 2 + deltas[:, 0] * sw
    cy = source[:, 1] + sh / 2 + deltas[:, 1] * sh
    w = sw * np.exp(np.clip(deltas[:, 2], -DELTA_CLIP, DELTA_CLIP))
    h = sh * np.exp(np.clip(deltas[:, 3], -DELTA_CLIP, DELTA_CLIP))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def input_boxes(boxes: np.ndarray, size: np.ndarray, scale: float) -> np.ndarray:
    """Ratio boxes (left, top, width, height) of an image of ``size`` (w, h) -> input px x1, y1, x2, y2."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    w, h = size[0] * scale, size[1] * scale
    return np.stack(
        [boxes[:, 0] * w, boxes[:, 1] * h, (boxes[:, 0] + boxes[:, 2]) * w, (boxes[:, 1] + boxes[:, 3]) * h], 1
    )


@dataclass(frozen=True)
class Detector:
    labels: tuple[str, ...]
    projection: np.ndarray  # (1280, 256)
    classifier: LinearHead  # softmax over background + labels
    regressor: LinearHead  # box deltas

    def detect(self, fmap: np.ndarray, size: np.ndarray, scale: float) -> list[tuple[str, float, np.ndarray]]:
        """(label, probability, box as ratios left, top, width, height) of one image, best first."""
        w, h = float(size[0]) * scale, float(size[1]) * scale
        inside = _inside(w, h)
        x = region_features(fmap, self.projection, ANCHORS[inside])
        probs = self.classifier.predict(x)
        refined = _apply(ANCHORS[inside], self.regressor.predict(x))
        refined = np.clip(refined, 0, [w, h, w, h])
        found = []
        for k, label in enumerate(self.labels, start=1):
            candidates = np.nonzero(probs[:, k] >= MIN_SCORE)[0]
            candidates = candidates[
                (refined[candidates, 2] - refined[candidates, 0] > 2)
                & (refined[candidates, 3] - refined[candidates, 1] > 2)
            ]
            # greedy NMS is a Python loop: only the best few hundred of ~7,700 anchors can matter
            candidates = candidates[np.argsort(-probs[candidates, k], kind="stable")[:PRE_NMS]]
            for i in candidates[nms(refined[candidates], probs[candidates, k], NMS_IOU)]:
                x1, y1, x2, y2 = refined[i]
                found.append((label, float(probs[i, k]), np.array([x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h])))
        found.sort(key=lambda item: -item[1])
        return found[:MAX_DETECTIONS]

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "detector.labels": np.array(self.labels),
            "detector.projection": self.projection,
            **self.classifier.arrays("detector.classifier"),
            **self.regressor.arrays("detector.regressor"),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Detector:
        return cls(
            labels=tuple(str(label) for label in arrays["detector.labels"]),
            projection=arrays["detector.projection"],
            classifier=LinearHead.from_arrays(arrays, "detector.classifier"),
            regressor=LinearHead.from_arrays(arrays, "detector.regressor"),
        )


def _inside(width: float, height: float) -> np.ndarray:
    """Anchors whose centre lies on the image (not on the letterbox's padding)."""
    cx = (ANCHORS[:, 0] + ANCHORS[:, 2]) / 2
    cy = (ANCHORS[:, 1] + ANCHORS[:, 3]) / 2
    return (cx < width) & (cy < height)


def projection_of(embedded: Embedded) -> np.ndarray:
    """(1280, 256): the principal directions of the training images' feature map cells."""
    fmaps = embedded.fmap
    cells = fmaps.astype(np.float32).transpose(0, 2, 3, 1).reshape(-1, fmaps.shape[1])
    cells = cells - cells.mean(axis=0)
    # eigenvectors of the 1280 x 1280 covariance: far cheaper than an SVD of the cells themselves
    _, vectors = np.linalg.eigh(cells.T @ cells)
    return np.ascontiguousarray(vectors[:, ::-1][:, :WHOLE]).astype(np.float32)


def train(
    embedded: Embedded,
    boxes: list[list[tuple[str, np.ndarray]]],
    labels: tuple[str, ...],
    projection: np.ndarray | None = None,
    seed: int = 0,
) -> Detector:
    """A detector of ``labels`` from images' embeddings and their boxes ((label, ratio box) lists).
    ``projection`` (unsupervised, from ``projection_of``) can be shared by the folds of one dataset."""
    rng = np.random.default_rng(seed)
    projection = projection_of(embedded) if projection is None else projection
    index = {label: k for k, label in enumerate(labels, start=1)}
    xs, ys, reg_x, reg_y = [], [], [], []
    for n, image_boxes in enumerate(boxes):
        size, scale = embedded.size[n], float(embedded.scale[n])
        inside = np.nonzero(_inside(size[0] * scale, size[1] * scale))[0]
        candidates = ANCHORS[inside]
        if image_boxes:
            truth = input_boxes(np.array([b for _, b in image_boxes]), size, scale)
            overlap = iou(candidates, truth)
            best, best_iou = overlap.argmax(1), overlap.max(1)
            # every box gets its best anchors even when none reaches the threshold
            forced = overlap.argmax(0)
            best_iou[forced] = np.maximum(best_iou[forced], POSITIVE_IOU)
            best[forced] = np.arange(len(truth))
        else:
            truth, best, best_iou = np.zeros((0, 4)), np.zeros(len(candidates), int), np.zeros(len(candidates))
        positives = np.nonzero(best_iou >= POSITIVE_IOU)[0]
        negatives = np.nonzero(best_iou < NEGATIVE_IOU)[0]
        positives = rng.permutation(positives)[:POSITIVES_PER_IMAGE]
        hard = np.nonzero((best_iou >= HARD_IOU[0]) & (best_iou < HARD_IOU[1]))[0]
        hard = rng.permutation(hard)[:HARD_PER_IMAGE]
        easy = rng.permutation(np.setdiff1d(negatives, hard))[: NEGATIVES_PER_IMAGE - len(hard)]
        negatives = np.concatenate([hard, easy]).astype(int)
        chosen = np.concatenate([positives, negatives])
        x = region_features(embedded.fmap[n], projection, candidates[chosen])
        xs.append(x)
        ys.append(
            np.concatenate([[index[image_boxes[best[i]][0]] for i in positives], np.zeros(len(negatives), int)]).astype(
                int
            )
        )
        if len(positives):
            reg_x.append(x[: len(positives)])
            reg_y.append(_deltas(candidates[positives], truth[best[positives]]))
    classifier = fit_softmax(np.concatenate(xs), np.concatenate(ys), len(labels) + 1, l2=1e-2)
    regressor = fit_ridge(np.concatenate(reg_x), np.concatenate(reg_y).astype(np.float32))
    return Detector(labels, projection, classifier, regressor)
