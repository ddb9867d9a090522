"""The box primitives every operation shares: one BoundingBox rule, one NMS."""

from __future__ import annotations

import numpy as np
import pytest
from recognito.boxes import bounding_box
from recognito_inference.boxes import intersections, iou, nms


def test_bounding_box_is_cut_to_the_image_except_a_faces() -> None:
    # 40 px of a 100 px wide box lie left of a 200 x 100 image, 10 px below it.
    box = np.array([-40.0, 30.0, 60.0, 110.0], dtype=np.float32)
    cut = bounding_box(box, 200, 100)
    assert cut == pytest.approx({"Left": 0.0, "Top": 0.3, "Width": 0.3, "Height": 0.7})
    whole = bounding_box(box, 200, 100, clip=False)
    assert whole == pytest.approx({"Left": -0.2, "Top": 0.3, "Width": 0.5, "Height": 0.8})
    # A box already in ratios (DetectText's polygons) converts with a 1 x 1 image.
    in_ratios = bounding_box([0.1, 0.2, 0.5, 1.2], 1, 1)
    assert in_ratios == pytest.approx({"Left": 0.1, "Top": 0.2, "Width": 0.4, "Height": 0.8})


def test_nms_keeps_the_best_of_each_overlapping_group() -> None:
    boxes = np.array(
        [
            [0, 0, 10, 10],  # best of the first group
            [1, 0, 11, 10],  # IoU 9/11 with it: dropped
            [20, 20, 30, 30],  # alone
            [5, 0, 15, 10],  # IoU 50/150 = 1/3 with the first
        ],
        dtype=np.float32,
    )
    scores = np.array([0.9, 0.8, 0.5, 0.7], dtype=np.float32)
    assert intersections(boxes[:1], boxes).tolist() == [[100, 90, 0, 50]]
    assert iou(boxes[0], boxes[3])[0, 0] == pytest.approx(1 / 3)
    assert nms(boxes, scores, 0.5).tolist() == [0, 3, 2]
    # Dropped only above max_iou: at 1/3 the fourth box goes at 0.3 and stays at 0.34.
    assert nms(boxes, scores, 0.3).tolist() == [0, 2]
    assert nms(boxes, scores, 0.34).tolist() == [0, 3, 2]
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).tolist() == []
