"""What the heads see: EfficientNet-Lite2's features of the whole, letterboxed image.

Image classification uses the pooled 1280-d features of the image at the classifier's 260 px. Object
detection pools proposals' regions from a feature map; at 260 px (9 x 9 cells of ~29 px) a card 50 px
wide is under two cells and boxes cannot be placed well, so the detector's map is made at twice that
resolution: the image letterboxed into 520 px, run as 2 x 2 tiles of 260 px, their 9 x 9 maps
stitched into one 18 x 18 map (five ONNX runs an image instead of one). The model is the one DetectLabels
already loads (``recognito_inference.classifier``): no second copy of any weights or model code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from recognito_inference import classifier

TILES = 2  # the detector's map: the image at twice the classifier's input, as 2 x 2 tiles
INPUT_SIZE = classifier.SIZE * TILES  # the detector's input square, px
GRID = 9 * TILES  # its feature map's cells a side (stride 32)
BATCH = 8  # images per ONNX run: larger batches gain nothing on one or two cores


@dataclass(frozen=True)
class Embedded:
    """The backbone's view of N images."""

    pooled: np.ndarray  # (N, 1280) float32: the whole image at 260 px (classification)
    fmap: np.ndarray  # (N, 1280, 18, 18) float16, or (N, 0, 18, 18) when not asked for (detection)
    scale: np.ndarray  # (N,) image px -> detector input px
    size: np.ndarray  # (N, 2) image width, height in px


def _tiles(rgb: np.ndarray) -> tuple[list[np.ndarray], float]:
    """The image letterboxed into a 520 px square (aspect kept, mean-padded right and bottom) as
    four 260 px input tensors, row-major, and the scale from image px to that square."""
    height, width = rgb.shape[:2]
    scale = INPUT_SIZE / max(width, height)
    size = classifier.SIZE
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.float32)
    resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.BICUBIC), np.float32)
    canvas[:new_h, :new_w] = (resized - classifier.MEAN) / classifier.STD
    tiles = [
        canvas[i * size : (i + 1) * size, j * size : (j + 1) * size].transpose(2, 0, 1)
        for i in range(TILES)
        for j in range(TILES)
    ]
    return tiles, scale


def _stitch(maps: np.ndarray) -> np.ndarray:
    """(TILES * TILES, C, 9, 9) tile maps, row-major -> (C, GRID, GRID)."""
    rows = [np.concatenate(list(maps[i * TILES : (i + 1) * TILES]), axis=2) for i in range(TILES)]
    return np.concatenate(rows, axis=1)


def _run(tensors: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    pooled, fmaps = [], []
    for start in range(0, len(tensors), BATCH):
        p, f = classifier.features(np.stack(tensors[start : start + BATCH]))
        pooled.append(p)
        fmaps.append(f)
    return np.concatenate(pooled), np.concatenate(fmaps)


def embed(images: list[np.ndarray], maps: bool = True) -> Embedded:
    """Features of H x W x 3 uint8 images: pooled features of each whole image, and with ``maps``
    the detector's 18 x 18 feature map from the image's 2 x 2 tiles at twice the resolution."""
    n = len(images)
    if not n:
        return Embedded(np.zeros((0, 1280), np.float32), np.zeros((0, 1280, GRID, GRID), np.float16), *np.zeros((2, 0)))
    pooled, _ = _run([classifier.letterbox(rgb)[0] for rgb in images])
    scales = np.array([INPUT_SIZE / max(rgb.shape[:2]) for rgb in images], np.float32)
    if maps:
        tiled = [_tiles(rgb)[0] for rgb in images]
        _, tile_maps = _run([tile for tiles in tiled for tile in tiles])
        per = TILES * TILES
        fmap = np.stack([_stitch(tile_maps[k * per : (k + 1) * per]) for k in range(n)]).astype(np.float16)
    else:
        fmap = np.zeros((n, 0, GRID, GRID), np.float16)
    return Embedded(
        pooled=pooled.astype(np.float32),
        fmap=fmap,
        scale=scales,
        size=np.asarray([(rgb.shape[1], rgb.shape[0]) for rgb in images], np.float32).reshape(-1, 2),
    )
