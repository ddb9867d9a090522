"""Scenes with faces at known places and sizes, built from scikit-image's real photographs.

The astronaut's face (with hair and neck around it) is pasted, resized, onto an upscaled faceless
photograph. Where the face lands is known exactly, so detection can be scored per face size.
Used by tests/test_detect_faces.py and bench/detect_faces.py.
"""

from __future__ import annotations

import io

import numpy as np
import skimage.data
from PIL import Image
from recognito_inference.boxes import iou

# The astronaut's face box (x1, y1, x2, y2 px of the 512x512 image): forehead to chin, as the
# detector draws it (checked by eye on a drawing of the detection).
ASTRONAUT_FACE = np.array([181.0, 58.0, 270.0, 177.0])
_CROP = (150, 25, 300, 215)  # the pasted patch around that face: hair, ears, neck


def rgb(name: str) -> np.ndarray:
    """A scikit-image sample as HxWx3 uint8."""
    image = getattr(skimage.data, name)()
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def encode(image: np.ndarray, fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format=fmt, **options)
    return out.getvalue()


def face_grid(
    width: int, height: int, sizes: list[float], *, background: str = "rocket", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``background`` resized to width x height with one astronaut face per entry of ``sizes``.

    A size is the face box's height in px. Faces go in the cells of a grid sized for the largest,
    at a random place in their cell, so none overlap. Returns the image and the (n, 4) boxes.
    """
    rng = np.random.default_rng(seed)
    canvas = np.array(Image.fromarray(rgb(background)).resize((width, height), Image.BILINEAR))
    astronaut = Image.fromarray(rgb("astronaut")).crop(_CROP)
    face_h = ASTRONAUT_FACE[3] - ASTRONAUT_FACE[1]
    largest = max(sizes) / face_h
    cell_w, cell_h = astronaut.width * largest * 1.4, astronaut.height * largest * 1.3
    cols, rows = int(width // cell_w), int(height // cell_h)
    if cols * rows < len(sizes):
        raise ValueError(f"{len(sizes)} faces of up to {max(sizes)} px do not fit in {width}x{height}")
    cells = rng.permutation(cols * rows)[: len(sizes)]
    boxes = []
    for size, cell in zip(sizes, cells, strict=True):
        scale = size / face_h
        patch = np.asarray(astronaut.resize((round(astronaut.width * scale), round(astronaut.height * scale))))
        row, col = divmod(int(cell), cols)
        x0 = int(col * cell_w + rng.integers(0, max(1, int(cell_w) - patch.shape[1])))
        y0 = int(row * cell_h + rng.integers(0, max(1, int(cell_h) - patch.shape[0])))
        canvas[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]] = patch
        offset = np.array([x0, y0, x0, y0]) - np.array([_CROP[0], _CROP[1]] * 2) * scale
        boxes.append(ASTRONAUT_FACE * scale + offset)
    return canvas, np.array(boxes)


def lfw_grid(width: int, height: int, size: int, *, background: str = "rocket") -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's 100 LFW faces (25x25 grey crops from eyebrows to chin, 100 people) resized to
    ``size`` px and laid out in rows on ``background``, as many as fit; returns image and boxes."""
    faces = skimage.data.lfw_subset()[:100]
    canvas = np.array(Image.fromarray(rgb(background)).resize((width, height), Image.BILINEAR))
    step = 2 * size
    boxes = []
    for k, (y0, x0) in enumerate(
        (y, x) for y in range(size // 2, height - size, step) for x in range(size // 2, width - size, step)
    ):
        if k == len(faces):
            break
        patch = Image.fromarray((faces[k] * 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
        canvas[y0 : y0 + size, x0 : x0 + size] = np.asarray(patch)[..., None]
        boxes.append([x0, y0, x0 + size, y0 + size])
    return canvas, np.array(boxes, dtype=float)


def match(expected: np.ndarray, found: np.ndarray, threshold: float = 0.4) -> tuple[np.ndarray, int]:
    """Which expected boxes some found box overlaps by ``threshold`` IoU, and how many found boxes
    overlap none (false positives)."""
    if not len(expected) or not len(found):
        return np.zeros(len(expected), dtype=bool), len(found)
    overlaps = iou(expected, found)
    return overlaps.max(axis=1) >= threshold, int((overlaps.max(axis=0) < threshold).sum())
