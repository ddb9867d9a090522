"""Pixel boxes as Rekognition's ``BoundingBox``: one conversion, one clipping rule, for every operation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bounding_box(
    box: Sequence[float] | np.ndarray, width: float, height: float, *, clip: bool = True
) -> dict[str, float]:
    """``{"Width", "Height", "Left", "Top"}`` as ratios of the image for an (x1, y1, x2, y2) box in
    pixels of a ``width`` x ``height`` image (1 x 1 for a box already in ratios).

    The rule: the box is cut to the image, so no ratio leaves 0..1, except a face's (``clip=False``):
    AWS reports a face at the edge, only partly visible, with its whole extent, "negative values or
    values greater than 1 for the left or top values" (BoundingBox in the API reference), and the
    face pipeline (attributes, crops) works on that whole extent too.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    left, right, top, bottom = x1 / width, x2 / width, y1 / height, y2 / height
    if clip:
        left, right = min(max(left, 0.0), 1.0), min(max(right, 0.0), 1.0)
        top, bottom = min(max(top, 0.0), 1.0), min(max(bottom, 0.0), 1.0)
    return {"Width": right - left, "Height": bottom - top, "Left": left, "Top": top}
