"""Small real datasets for the custom labels training tests, made from scikit-image's photographs.

- ``classification_set``: crops of three photographs (chelsea the cat, the coffee cup, the rocket),
  resized and flipped at random; training crops come from the left part of each photograph and
  testing crops from the right part, so no testing pixel was seen in training at that place.
- ``detection_set``: the cat's head and the coffee cup pasted at random places and sizes onto
  scikit-image's grass, brick and gravel textures, with their boxes.
"""

from __future__ import annotations

import numpy as np
import skimage.data
from PIL import Image

PHOTOS = {"cat": "chelsea", "coffee": "coffee", "rocket": "rocket"}
OBJECTS = {"cat": ("chelsea", (20, 120, 290, 340)), "cup": ("coffee", (20, 160, 330, 460))}  # y1, x1, y2, x2
TEXTURES = ("grass", "brick", "gravel")


def _crop(rgb: np.ndarray, rng: np.random.Generator, part: str) -> np.ndarray:
    h, w = rgb.shape[:2]
    side = int(min(h, w) * rng.uniform(0.55, 0.8))
    lo, hi = (0, int(w * 0.45) - side // 2) if part == "train" else (int(w * 0.55) - side // 2, w - side)
    x = int(rng.integers(max(0, lo), max(lo + 1, hi)))
    x = min(max(0, x), w - side)
    y = int(rng.integers(0, h - side + 1))
    out = np.asarray(Image.fromarray(rgb[y : y + side, x : x + side]).resize((200, 200)))
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def classification_set(per_label: int, part: str, seed: int) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    return [
        (_crop(getattr(skimage.data, photo)(), rng, part), label)
        for label, photo in PHOTOS.items()
        for _ in range(per_label)
    ]


def detection_set(count: int, seed: int) -> list[tuple[np.ndarray, list[tuple[str, tuple[float, ...]]]]]:
    """Images (320 x 320) with one or two objects each, and their (label, (left, top, width, height)) ratios."""
    rng = np.random.default_rng(seed)
    images = []
    for n in range(count):
        grey = getattr(skimage.data, TEXTURES[n % len(TEXTURES)])()
        y, x = rng.integers(0, 512 - 320, 2)
        canvas = np.repeat(grey[y : y + 320, x : x + 320, None], 3, axis=2).copy()
        boxes: list[tuple[str, tuple[float, ...]]] = []
        taken: list[tuple[int, int, int, int]] = []
        for label in rng.permutation(list(OBJECTS))[: int(rng.integers(1, 3))]:
            photo, (y1, x1, y2, x2) = OBJECTS[str(label)]
            patch = getattr(skimage.data, photo)()[y1:y2, x1:x2]
            scale = rng.uniform(0.35, 0.6)
            pw, ph = int((x2 - x1) * scale), int((y2 - y1) * scale)
            for _ in range(20):  # a place not overlapping the other object
                px, py = int(rng.integers(0, 320 - pw)), int(rng.integers(0, 320 - ph))
                if all(px + pw <= a or a2 <= px or py + ph <= b or b2 <= py for a, b, a2, b2 in taken):
                    break
            taken.append((px, py, px + pw, py + ph))
            canvas[py : py + ph, px : px + pw] = np.asarray(Image.fromarray(patch).resize((pw, ph)))
            boxes.append((str(label), (px / 320, py / 320, pw / 320, ph / 320)))
        images.append((canvas, boxes))
    return images
