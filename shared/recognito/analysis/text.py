"""DetectText: lines and words of text in an image, with boxes, polygons and confidences.

What Rekognition documents, and how it is done here:

* ``TextDetections`` holds LINE and WORD elements: every line first, in reading order, then every
  word, line by line. ``Id`` numbers them in that order from 0; a word's ``ParentId`` is its
  line's ``Id``; a line has no ``ParentId``.
* A word is a run of characters without spaces; a line's ``DetectedText`` is its words joined by
  single spaces. Up to 100 words an image ("DetectText can detect up to 100 words in an image"):
  the first 100 in reading order are kept, and lines keep only their kept words.
* ``Geometry.Polygon`` is four points in reading order (top-left, top-right, bottom-right,
  bottom-left of the text as read), so rotated text keeps its rotation; ``Geometry.BoundingBox``
  is the axis-aligned box around them. Both are ratios of the image's width and height.
* ``Filters.WordFilter``: words below ``MinConfidence`` (default 80, as the DetectionFilter shape
  documents) or whose BoundingBox is narrower than ``MinBoundingBoxWidth`` or lower than
  ``MinBoundingBoxHeight`` are left out. ``Filters.RegionsOfInterest`` (boxes or polygons): a word
  is kept if more than half of it lies in at least one region. A line whose words were all left
  out is left out; otherwise it is rebuilt from the words it keeps (text, box, confidence).
* ``TextModelVersion`` is "3.0", the version Rekognition reports for its current text model.

The reading itself (PP-OCRv4 detection, direction and recognition, words split along each line)
is ``recognito_inference.text``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from recognito_inference.text import TextLine, read_text

from recognito.boxes import bounding_box
from recognito.errors import InvalidParameterException
from recognito.images import limits_for, load_image

TEXT_MODEL_VERSION = "3.0"
MAX_WORDS = 100
DEFAULT_MIN_CONFIDENCE = 80.0
# Points sampled over a word's box to measure how much of it a region of interest covers.
_COVERAGE_GRID = np.stack(
    np.meshgrid((np.arange(12) + 0.5) / 12, (np.arange(4) + 0.5) / 4, indexing="xy"), axis=-1
).reshape(-1, 2)


def detect_text(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectText response for a validated request."""
    filters = request.get("Filters") or {}
    word_filter = filters.get("WordFilter") or {}
    regions = [_region(roi) for roi in filters.get("RegionsOfInterest") or []]
    image = load_image(request["Image"], limits_for("DetectText"))
    size = np.array([image.width, image.height], dtype=np.float64)

    min_confidence = word_filter.get("MinConfidence", DEFAULT_MIN_CONFIDENCE)
    min_width = word_filter.get("MinBoundingBoxWidth", 0.0)
    min_height = word_filter.get("MinBoundingBoxHeight", 0.0)

    kept: list[tuple[TextLine, list[int]]] = []
    budget = MAX_WORDS
    for line in read_text(image.rgb):
        indices = []
        for i, word in enumerate(line.words):
            if budget == 0:
                break
            quad = line.word_quad(word) / size
            box = _bounding_box(quad)
            if (
                100 * word.confidence < min_confidence
                or box["Width"] < min_width
                or box["Height"] < min_height
                or (regions and not any(_covers_half(region, quad) for region in regions))
            ):
                continue
            indices.append(i)
            budget -= 1
        if indices:
            kept.append((line, indices))

    lines: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    for line_id, (line, indices) in enumerate(kept):
        chosen = [line.words[i] for i in indices]
        for word in chosen:
            quad = line.word_quad(word) / size
            detection = _detection(word.text, "WORD", len(kept) + len(words), 100 * word.confidence, quad)
            words.append(detection | {"ParentId": line_id})
        quad = line.span_quad(chosen[0].start, chosen[-1].end) / size
        confidence = 100 * float(np.mean([w.confidence for w in chosen]))
        lines.append(_detection(" ".join(w.text for w in chosen), "LINE", line_id, confidence, quad))
    return {"TextDetections": lines + words, "TextModelVersion": TEXT_MODEL_VERSION}


def _detection(text: str, kind: str, ident: int, confidence: float, quad: np.ndarray) -> dict[str, Any]:
    return {
        "DetectedText": text,
        "Type": kind,
        "Id": ident,
        "Confidence": min(100.0, confidence),
        "Geometry": {
            "BoundingBox": _bounding_box(quad),
            "Polygon": [{"X": float(x), "Y": float(y)} for x, y in np.clip(quad, 0.0, 1.0)],
        },
    }


def _bounding_box(quad: np.ndarray) -> dict[str, float]:
    """The axis-aligned box around a polygon (ratios), kept within the image."""
    return bounding_box(np.concatenate([quad.min(axis=0), quad.max(axis=0)]), 1.0, 1.0)


def _region(roi: dict[str, Any]) -> np.ndarray:
    """A region of interest as a polygon (N x 2 ratios). A box needs all four members and a
    polygon at least three points."""
    box, polygon = roi.get("BoundingBox"), roi.get("Polygon")
    if box is not None:
        if not all(k in box for k in ("Left", "Top", "Width", "Height")):
            raise InvalidParameterException("Request has invalid parameters")
        left, top, w, h = box["Left"], box["Top"], box["Width"], box["Height"]
        return np.array([[left, top], [left + w, top], [left + w, top + h], [left, top + h]], dtype=np.float64)
    if polygon is not None:
        if len(polygon) < 3 or not all("X" in p and "Y" in p for p in polygon):
            raise InvalidParameterException("Request has invalid parameters")
        return np.array([[p["X"], p["Y"]] for p in polygon], dtype=np.float64)
    raise InvalidParameterException("Request has invalid parameters")


def _covers_half(region: np.ndarray, quad: np.ndarray) -> bool:
    """Whether more than half of a word's box lies inside a region (polygon, any shape)."""
    tl, tr, br, bl = quad
    u, v = _COVERAGE_GRID[:, :1], _COVERAGE_GRID[:, 1:]
    points = (1 - v) * (tl + (tr - tl) * u) + v * (bl + (br - bl) * u)
    return float(np.mean(_inside_polygon(region, points))) > 0.5


def _inside_polygon(polygon: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Even-odd rule, vectorized over the points."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside
