"""People and their body keypoints with MoveNet MultiPose Lightning (``movenet-multipose.onnx``).

The network takes one RGB image (int32 0..255, height and width multiples of 32) and returns six
candidate people, each a box, a box score and the 17 COCO keypoints (y, x, score), all as ratios of
its input. It was trained for people filling a good part of a 256 px input: a larger input made
the same people score lower on our photographs (astronaut 0.46 at 256, 0.12 at 512), so the long
side goes to ``INPUT_LONG_SIDE`` and the rest is padded (letterboxed), never stretched.

Six people is the network's own ceiling, and a wide image letterboxed to 256 px leaves each person
few pixels (three group photographs side by side, 13 people: 3 found). So a wide or tall image is
also searched in overlapping near-square windows, a pass that fills all six slots again in two
halves, and the people of all passes merged (a box mostly inside a kept one is the same person,
perhaps cut by a window's edge). AWS returns up to 15 persons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognito_inference.boxes import areas, intersections
from recognito_inference.sessions import get_session

MODEL = "movenet-multipose"
INPUT_LONG_SIDE = 256
SLOTS = 6  # candidate people per pass, fixed by the network
MIN_BOX_SCORE = 0.15  # people in our photos scored 0.16-0.56; empty slots 0.00-0.13
DUPLICATE_OVERLAP = 0.6  # share of the smaller box inside the larger: the same person seen twice
TILE_OVERLAP = 0.3  # a window reaches this fraction of its share of the long side into the next
MAX_ASPECT = 1.5  # wider (or taller) images are also searched in windows of at most this aspect

KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
INDEX = {name: i for i, name in enumerate(KEYPOINTS)}


@dataclass(frozen=True)
class Person:
    """One person: box and keypoints in pixels of the input image, scores 0..1.

    Left and right are the person's own (COCO's convention, as MoveNet's): ``left_wrist`` is on
    the image's right for someone facing the camera.
    """

    box: np.ndarray  # (4,) float32 x1, y1, x2, y2
    score: float
    points: np.ndarray  # (17, 2) float32 x, y
    point_scores: np.ndarray  # (17,) float32

    def point(self, name: str) -> tuple[np.ndarray, float]:
        i = INDEX[name]
        return self.points[i], float(self.point_scores[i])


def _letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The network input for ``rgb`` and the scale from input pixels back to ``rgb`` pixels."""
    h, w = rgb.shape[:2]
    scale = INPUT_LONG_SIDE / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR))
    tensor = np.zeros((1, -(-nh // 32) * 32, -(-nw // 32) * 32, 3), np.int32)
    tensor[0, :nh, :nw] = small
    return tensor, 1.0 / scale


def _one_pass(rgb: np.ndarray, offset: tuple[int, int]) -> list[Person]:
    tensor, back = _letterbox(rgb)
    out = get_session(MODEL).run(None, {"input": tensor})[0][0]  # (6, 56)
    th, tw = tensor.shape[1:3]
    ox, oy = offset
    people = []
    for row in out:
        score = float(row[55])
        if score < MIN_BOX_SCORE:
            continue
        kp = row[:51].reshape(17, 3)
        points = np.stack([kp[:, 1] * tw * back + ox, kp[:, 0] * th * back + oy], axis=1)
        y1, x1, y2, x2 = row[51:55]
        box = np.array([x1 * tw * back + ox, y1 * th * back + oy, x2 * tw * back + ox, y2 * th * back + oy])
        people.append(Person(box.astype(np.float32), score, points.astype(np.float32), kp[:, 2].astype(np.float32)))
    return people


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box: a person cut by a half's edge is mostly inside the
    whole-image box of the same person, though their IoU can be low."""
    smaller = float(areas(np.stack([a, b])).min())
    return float(intersections(a, b)[0, 0]) / smaller if smaller > 0 else 1.0


def _tiles(h: int, w: int, count: int) -> list[tuple[int, int, int, int]]:
    """``count`` windows (x1, y1, x2, y2) along the long side, each 1/count of it plus
    ``TILE_OVERLAP`` of its own length, so a person cut by one window's edge is whole in the next."""
    long_side = max(h, w)
    size = min(long_side, int(long_side / count * (1 + TILE_OVERLAP)))
    starts = np.linspace(0, long_side - size, count).round().astype(int)
    if w >= h:
        return [(int(s), 0, int(s) + size, h) for s in starts]
    return [(0, int(s), w, int(s) + size) for s in starts]


def detect_people(rgb: np.ndarray, *, max_people: int = 15) -> list[Person]:
    """The people in ``rgb`` (H x W x 3 uint8), highest score first, at most ``max_people``.

    The whole-image pass's people are all kept (the network already separates them, even when
    their boxes overlap). A wide or tall image is also searched in near-square windows, since
    letterboxed whole it leaves each person few pixels; and a pass that fills all six slots is
    searched again in halves. A window's person is added only if no kept person covers it.
    """
    h, w = rgb.shape[:2]
    people = _one_pass(rgb, (0, 0))
    windows = []
    aspect = max(h, w) / min(h, w)
    if aspect > MAX_ASPECT:
        windows += _tiles(h, w, int(np.ceil(aspect / MAX_ASPECT)))
    if len(people) >= SLOTS:
        windows += _tiles(h, w, 2)
    for x1, y1, x2, y2 in windows:
        found = _one_pass(np.ascontiguousarray(rgb[y1:y2, x1:x2]), (x1, y1))
        for person in sorted(found, key=lambda p: -p.score):
            if all(_overlap(person.box, k.box) < DUPLICATE_OVERLAP for k in people):
                people.append(person)
    people.sort(key=lambda p: -p.score)
    return people[:max_people]
