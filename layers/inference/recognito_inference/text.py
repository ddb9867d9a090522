"""Text in images with PP-OCRv4: lines found, turned upright, read, and split into words.

Three ONNX models from PaddleOCR (as RapidOCR ships them), with everything around them here in
numpy and Pillow, so the layer needs neither OpenCV nor PaddleOCR:

1. **Detection** (``ppocrv4-det``, DB): a text probability map at the input's resolution. It is
   binarized, its connected components (8-connected, found on row runs) become minimum-area
   rotated rectangles, each scored by the mean probability inside it and grown by DB's "unclip"
   offset (for a rectangle, exactly ``area * ratio / perimeter`` on every side).
2. **Direction** (``ppocr-cls``): each line is cut out along its rotated box (a Pillow QUAD
   transform) and turned upright; the classifier says whether it reads upside down (180 degrees).
3. **Recognition** (``ppocrv4-rec``, CTC over 6,623 characters): greedy CTC decoding, restricted to
   Latin script (ASCII, Latin-1 and Latin Extended-A letters, common punctuation): Rekognition
   reads Latin text, and the model's Chinese characters would otherwise stand in for smudges.

Words: the recognizer's time steps say where each character sits along the line, so each word (a
run of characters between spaces, or across a gap in the ink that the model read without a
space) gets its own sub-box of the line's rotated box. Boxes are quadrilaterals in image pixels,
corners in reading order: top-left, top-right, bottom-right, bottom-left of the text as read, so
rotated text keeps its rotation.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from recognito_inference.sessions import get_session

DET_MODEL = "ppocrv4-det"
REC_MODEL = "ppocrv4-rec"
CLS_MODEL = "ppocr-cls"

# Detection, as PaddleOCR / RapidOCR tune DB for PP-OCRv4.
DET_SHORT_SIDE = 736  # the map is computed with the short side at this size (small images enlarged)
DET_MAX_SIDE = 2000  # ... and the long side at most this (bounds time and memory on huge images)
BINARY_THRESHOLD = 0.3
BOX_THRESHOLD = 0.5  # mean probability inside a box
UNCLIP_RATIO = 1.6
MIN_BOX_SIDE = 3  # px on the map, before unclip (+2 after)
MAX_CANDIDATES = 1000

# Direction and recognition inputs.
CLS_SHAPE = (48, 192)
CLS_THRESHOLD = 0.9  # turn a line over only when the classifier is this sure
REC_HEIGHT = 48
REC_MIN_WIDTH = 320
REC_STRIDE = 8  # input columns per CTC time step
BATCH = 6
MIN_LINE_SCORE = 0.5  # mean character probability; below it a "line" is mostly noise

# A gap in the ink this much wider than the line's median letter gap, and at least this fraction
# of the line's height, separates two words even where the recognizer emitted no space.
WORD_GAP_HEIGHT_RATIO = 0.33
WORD_GAP_MEDIAN_RATIO = 2.5


@dataclass(frozen=True)
class TextWord:
    """One word: its text, the mean probability of its characters (0..1), and its span along the
    line (``start``..``end``, fractions of the line box's length in reading direction)."""

    text: str
    confidence: float
    start: float
    end: float


@dataclass(frozen=True)
class TextLine:
    """One line: its box (4 x 2 float pixels, corners in reading order), text, mean character
    probability (0..1) and words."""

    quad: np.ndarray
    text: str
    confidence: float
    words: tuple[TextWord, ...]

    def word_quad(self, word: TextWord) -> np.ndarray:
        return sub_quad(self.quad, word.start, word.end)


def sub_quad(quad: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of a reading-order box between ``start`` and ``end`` (fractions of its length)."""
    tl, tr, br, bl = np.asarray(quad, dtype=np.float64)
    return np.array(
        [tl + (tr - tl) * start, tl + (tr - tl) * end, bl + (br - bl) * end, bl + (br - bl) * start]
    )


def read_text(rgb: np.ndarray) -> list[TextLine]:
    """Every line of text in an H x W x 3 uint8 RGB image, in reading order (top to bottom, then
    left to right)."""
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # PaddleOCR trained on OpenCV's BGR
    quads = detect_lines(bgr)
    if not quads:
        return []
    crops, quads = zip(*(_upright(bgr, q) for q in quads), strict=True)
    crops, quads = _fix_upside_down(list(crops), list(quads))
    lines = []
    for quad, crop, decoded in zip(quads, crops, _recognize(crops), strict=True):
        line = _line(quad, crop, *decoded)
        if line is not None:
            lines.append(line)
    return lines


# ------------------------------------------------------------------------------------- detection
def detect_lines(bgr: np.ndarray) -> list[np.ndarray]:
    """Rotated boxes (4 x 2 float pixels of ``bgr``) around the lines of text, in reading order."""
    height, width = bgr.shape[:2]
    scale = DET_SHORT_SIDE / min(height, width)
    scale = min(scale, DET_MAX_SIDE / max(height, width))
    in_h = max(32, round(height * scale / 32) * 32)
    in_w = max(32, round(width * scale / 32) * 32)
    resized = np.asarray(Image.fromarray(bgr).resize((in_w, in_h), Image.BILINEAR), dtype=np.float32)
    tensor = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    session = get_session(DET_MODEL)
    prob = session.run(None, {session.get_inputs()[0].name: tensor})[0][0, 0]

    mask = prob > BINARY_THRESHOLD
    # DB's 2x2 dilation (OpenCV anchors it at its centre): a pixel is set if it or its neighbours
    # above, to the left, or above-left are.
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:, 1:] |= mask[:, :-1]
    grown[1:, 1:] |= mask[:-1, :-1]

    sx, sy = width / in_w, height / in_h
    boxes = []
    for hull_points in _components(grown)[:MAX_CANDIDATES]:
        rect = _min_area_rect(hull_points)
        if rect is None or min(_sides(rect)) < MIN_BOX_SIDE:
            continue
        if _mean_inside(prob, rect) < BOX_THRESHOLD:
            continue
        rect = _unclip(rect, UNCLIP_RATIO)
        if min(_sides(rect)) < MIN_BOX_SIDE + 2:
            continue
        box = rect * [sx, sy]
        box[:, 0] = np.clip(box[:, 0], 0, width)
        box[:, 1] = np.clip(box[:, 1], 0, height)
        boxes.append(_order_corners(box))
    return _reading_order(boxes)


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """The 8-connected components of a binary image, each as the points that bound it: the first
    and last pixel of each of its rows (enough for a convex hull), largest component first.

    Labelling runs rather than pixels keeps this vectorized: runs of consecutive rows touch when
    their column ranges overlap or meet diagonally, and labels spread along those links by
    repeated minimum with pointer jumping until nothing changes.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    row, x0 = np.nonzero(edges == 1)  # runs: [x0, x1) on `row`, in row-major order
    _, x1 = np.nonzero(edges == -1)
    n = len(row)
    if n == 0:
        return []
    stride = width + 2
    starts, ends = row * stride + x0, row * stride + x1
    # Runs of the row above that touch run r: their end >= x0 and their start <= x1.
    lo = np.searchsorted(ends, (row - 1) * stride + x0, side="left")
    hi = np.searchsorted(starts, (row - 1) * stride + x1, side="right")
    counts = np.maximum(hi - lo, 0)
    a = np.repeat(np.arange(n), counts)
    b = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    labels = np.arange(n)
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]  # pointer jumping
        if np.array_equal(new, labels):
            break
        labels = new
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.nonzero(np.diff(labels[order]))[0] + 1)
    points = []
    for runs in groups:
        # Each row's extreme pixels (centres, as OpenCV's contours give them).
        rows = row[runs]
        left = np.full(height, width, dtype=np.int64)
        right = np.full(height, -1, dtype=np.int64)
        np.minimum.at(left, rows, x0[runs])
        np.maximum.at(right, rows, x1[runs] - 1)
        ys = np.unique(rows)
        pts = np.concatenate([np.stack([left[ys], ys], 1), np.stack([right[ys], ys], 1)]).astype(np.float64)
        points.append(pts)
    points.sort(key=len, reverse=True)
    return points


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise (in y-up terms), no repeated points."""
    pts = np.unique(points, axis=0)
    if len(pts) < 3:
        return pts

    def half(seq: np.ndarray) -> list:
        out: list = []
        for p in seq:
            while len(out) >= 2 and np.cross(out[-1] - out[-2], p - out[-2]) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _min_area_rect(points: np.ndarray) -> np.ndarray | None:
    """The smallest rotated rectangle around the points (rotating calipers over hull edges)."""
    hull = _convex_hull(points)
    if len(hull) < 3:
        return None
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    keep = lengths > 0
    u = edges[keep] / lengths[keep, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)
    pu, pv = hull @ u.T, hull @ v.T  # (points, edges)
    area = (pu.max(0) - pu.min(0)) * (pv.max(0) - pv.min(0))
    k = int(np.argmin(area))
    a0, a1, b0, b1 = pu[:, k].min(), pu[:, k].max(), pv[:, k].min(), pv[:, k].max()
    return np.array([u[k] * a + v[k] * b for a, b in ((a0, b0), (a1, b0), (a1, b1), (a0, b1))])


def _sides(rect: np.ndarray) -> tuple[float, float]:
    return float(np.linalg.norm(rect[1] - rect[0])), float(np.linalg.norm(rect[2] - rect[1]))


def _unclip(rect: np.ndarray, ratio: float) -> np.ndarray:
    """DB's unclip of a rectangle: offset outwards by ``area * ratio / perimeter``. For a
    rectangle the offset polygon's minimum-area rectangle is the rectangle grown by that much on
    every side (its rounded corners stay inside)."""
    w, h = _sides(rect)
    distance = w * h * ratio / (2 * (w + h))
    centre = rect.mean(axis=0)
    u = (rect[1] - rect[0]) / max(w, 1e-9)
    v = (rect[2] - rect[1]) / max(h, 1e-9)
    hw, hh = w / 2 + distance, h / 2 + distance
    return np.array([centre + sx * hw * u + sy * hh * v for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


def _inside_quad(quad: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which points lie inside a convex quadrilateral (either winding)."""
    inside_pos = np.ones(xs.shape, dtype=bool)
    inside_neg = np.ones(xs.shape, dtype=bool)
    for i in range(4):
        (x0, y0), (x1, y1) = quad[i], quad[(i + 1) % 4]
        cross = (x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)
        inside_pos &= cross >= 0
        inside_neg &= cross <= 0
    return inside_pos | inside_neg


def _mean_inside(prob: np.ndarray, rect: np.ndarray) -> float:
    """DB's box score ("fast" mode): the mean probability over the pixels inside the box."""
    h, w = prob.shape
    x0, y0 = np.clip(np.floor(rect.min(0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(rect.max(0)).astype(int), 0, [w - 1, h - 1])
    ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    inside = _inside_quad(rect, xs, ys)
    if not inside.any():
        return 0.0
    return float(prob[y0 : y1 + 1, x0 : x1 + 1][inside].mean())


def _order_corners(box: np.ndarray) -> np.ndarray:
    """PaddleOCR's corner order: of the two leftmost corners the upper is first (top-left), the
    lower last; of the two rightmost the upper is second, the lower third."""
    pts = box[np.argsort(box[:, 0], kind="stable")]
    left, right = pts[:2], pts[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl])


def _reading_order(boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Top to bottom; boxes whose vertical centres are within half a line height of each other
    count as one row, read left to right."""
    if not boxes:
        return []
    centres = np.array([b[:, 1].mean() for b in boxes])
    heights = np.array([max(np.ptp(b[:, 1]), 1.0) for b in boxes])
    order = list(np.argsort(centres, kind="stable"))
    rows: list[list[int]] = []
    for i in order:
        if rows and abs(centres[i] - np.mean([centres[j] for j in rows[-1]])) < 0.5 * min(
            heights[i], np.median([heights[j] for j in rows[-1]])
        ):
            rows[-1].append(i)
        else:
            rows.append([i])
    return [boxes[i] for row in rows for i in sorted(row, key=lambda j: boxes[j][:, 0].min())]


# ------------------------------------------------------------------------------ crops, direction
def _upright(bgr: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line cut out along its box and laid horizontal; the box's corners reordered so that
    they follow the crop's (top-left, top-right, bottom-right, bottom-left)."""
    tl, tr, br, bl = quad
    w = max(1, round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    h = max(1, round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    # Pillow's QUAD data: the source's upper-left, lower-left, lower-right, upper-right corners.
    data = (*tl, *bl, *br, *tr)
    crop = np.asarray(Image.fromarray(bgr).transform((w, h), Image.Transform.QUAD, data, Image.BICUBIC))
    if h >= 1.5 * w:
        # A tall box is a vertical line of text: turn it a quarter (np.rot90 turns counter-clockwise,
        # so the crop's top-left is the box's top-right). The direction classifier settles which
        # way round it reads.
        crop = np.rot90(crop)
        quad = np.roll(quad, -1, axis=0)
    return np.ascontiguousarray(crop), quad


def _resize_normalized(crop: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """A crop resized to ``height`` keeping its aspect (at most ``max_width``), scaled to -1..1,
    as 3 x height x width; the caller pads to the batch width."""
    h, w = crop.shape[:2]
    new_w = max(1, min(max_width, math.ceil(height * w / h)))
    resized = np.asarray(Image.fromarray(crop).resize((new_w, height), Image.BILINEAR), dtype=np.float32)
    return ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)


def _fix_upside_down(crops: list[np.ndarray], quads: list[np.ndarray]) -> tuple[list, list]:
    session = get_session(CLS_MODEL)
    name = session.get_inputs()[0].name
    height, width = CLS_SHAPE
    for i in range(0, len(crops), BATCH):
        chunk = crops[i : i + BATCH]
        batch = np.zeros((len(chunk), 3, height, width), dtype=np.float32)
        for j, crop in enumerate(chunk):
            x = _resize_normalized(crop, height, width)
            batch[j, :, :, : x.shape[2]] = x
        probs = session.run(None, {name: batch})[0]
        for j, (_, upside_down) in enumerate(probs):
            if upside_down > CLS_THRESHOLD and upside_down > probs[j][0]:
                crops[i + j] = np.ascontiguousarray(crops[i + j][::-1, ::-1])
                quads[i + j] = np.roll(quads[i + j], 2, axis=0)
    return crops, quads


# ------------------------------------------------------------------------------------ recognition
@cache
def _charset() -> tuple[tuple[str, ...], np.ndarray]:
    """The recognizer's classes (blank, its character list, space), NFKC-normalized, and which of
    them decoding may choose: blank, space and Latin-script characters."""
    meta = get_session(REC_MODEL).get_modelmeta().custom_metadata_map
    if "character" not in meta:
        raise RuntimeError(f"{REC_MODEL}: the character list is missing from the model's metadata")
    chars = ("", *(unicodedata.normalize("NFKC", c) for c in meta["character"].splitlines()), " ")
    allowed = np.array([i == 0 or _is_latin(c) for i, c in enumerate(chars)])
    return chars, allowed


def _is_latin(text: str) -> bool:
    if not text:
        return False
    for ch in text:
        code = ord(ch)
        if code == 0x20 or 0x21 <= code <= 0x7E:
            continue
        if 0xA0 <= code <= 0x17F and unicodedata.category(ch)[0] in "LNSP":  # Latin-1, Latin Ext-A
            continue
        if ch in "‘’“”–—…•™€":
            continue
        return False
    return True


def _recognize(crops: list[np.ndarray]) -> list[tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """CTC-decode each crop: its characters, where each lies along the crop (start and end as
    fractions of its width, N x 2), each one's probability, and which are spaces."""
    session = get_session(REC_MODEL)
    name = session.get_inputs()[0].name
    chars, allowed = _charset()
    ratios = [c.shape[1] / c.shape[0] for c in crops]
    order = np.argsort(ratios, kind="stable")  # similar widths batch with little padding
    results: list = [None] * len(crops)
    for i in range(0, len(crops), BATCH):
        idx = order[i : i + BATCH]
        max_ratio = max(REC_MIN_WIDTH / REC_HEIGHT, *(ratios[k] for k in idx))
        width = int(REC_HEIGHT * max_ratio)
        batch = np.zeros((len(idx), 3, REC_HEIGHT, width), dtype=np.float32)
        widths = []
        for j, k in enumerate(idx):
            x = _resize_normalized(crops[k], REC_HEIGHT, width)
            batch[j, :, :, : x.shape[2]] = x
            widths.append(x.shape[2])
        probs = session.run(None, {name: batch})[0]
        steps = probs.shape[1]
        probs = np.where(allowed, probs, 0.0)
        best = probs.argmax(axis=2)
        best_p = probs.max(axis=2)
        for j, k in enumerate(idx):
            seq, p = best[j], best_p[j]
            # Characters: runs of one non-blank class; a repeat needs a blank in between.
            change = np.concatenate([[True], seq[1:] != seq[:-1]])
            run_starts = np.nonzero(change)[0]
            run_ends = np.concatenate([run_starts[1:], [steps]]) - 1
            keep = seq[run_starts] != 0
            starts, ends = run_starts[keep], run_ends[keep]
            classes = seq[starts]
            char_p = np.array([p[s : e + 1].max() for s, e in zip(starts, ends, strict=True)])
            span = np.stack([starts, ends], axis=1) * (width / steps) / widths[j]  # fractions of crop
            span[:, 1] += (width / steps) / widths[j]
            results[k] = ([chars[c] for c in classes], np.clip(span, 0, 1), char_p, classes == len(chars) - 1)
    return results


# ------------------------------------------------------------------------------------------ words
def _line(
    quad: np.ndarray, crop: np.ndarray, pieces: list[str], spans: np.ndarray, probs: np.ndarray, is_space: np.ndarray
) -> TextLine | None:
    """A recognized line split into words; None when nothing legible is left."""
    if len(probs) == 0:
        return None
    gaps = _ink_gaps(crop)
    words: list[TextWord] = []
    current: list[int] = []

    def flush() -> None:
        if current:
            word = "".join(pieces[i] for i in current).strip()
            if word:
                words.append(
                    TextWord(
                        text=word,
                        confidence=float(np.mean(probs[current])),
                        start=float(spans[current[0], 0]),
                        end=float(spans[current[-1], 1]),
                    )
                )
        current.clear()

    for i in range(len(probs)):
        if is_space[i]:
            flush()
            continue
        if current and _gap_between(gaps, spans[current[-1], 1], spans[i, 0]):
            flush()
        current.append(i)
    flush()
    if not words:
        return None
    confidence = float(np.mean(probs[~is_space])) if (~is_space).any() else 0.0
    if confidence < MIN_LINE_SCORE:
        return None
    words = [_tighten(w, crop) for w in words]
    return TextLine(quad=quad, text=" ".join(w.text for w in words), confidence=confidence, words=tuple(words))


def _ink_profile(crop: np.ndarray) -> np.ndarray:
    """Per column of a line crop, whether it holds ink: text darker or lighter than the
    background, whichever the line's border says the background is."""
    grey = crop.astype(np.float32).mean(axis=2)
    border = np.concatenate([grey[0], grey[-1]])
    background = np.median(border)
    contrast = np.abs(grey - background)
    threshold = max(24.0, 0.35 * float(np.percentile(contrast, 99)))
    return (contrast > threshold).any(axis=0)


def _ink_gaps(crop: np.ndarray) -> list[tuple[float, float]]:
    """Runs of inkless columns wide enough to part two words, as fractions of the crop width."""
    ink = _ink_profile(crop)
    height, width = crop.shape[:2]
    padded = np.concatenate([[1], ink.astype(np.int8), [1]])
    edges = np.diff(padded)
    starts, ends = np.nonzero(edges == -1)[0], np.nonzero(edges == 1)[0]
    interior = (starts > 0) & (ends < width)
    starts, ends = starts[interior], ends[interior]
    if len(starts) == 0:
        return []
    lengths = ends - starts
    typical = float(np.median(lengths))
    wide = (lengths >= WORD_GAP_HEIGHT_RATIO * height) & (lengths >= WORD_GAP_MEDIAN_RATIO * typical)
    return [(s / width, e / width) for s, e in zip(starts[wide], ends[wide], strict=True)]


def _gap_between(gaps: list[tuple[float, float]], left: float, right: float) -> bool:
    """Whether a wide inkless gap lies between two characters' spans (allowing for CTC's slack)."""
    for g0, g1 in gaps:
        middle = (g0 + g1) / 2
        if left - 0.01 <= middle <= right + 0.01 or (g0 <= left <= g1 and g0 <= right <= g1):
            return True
    return False


def _tighten(word: TextWord, crop: np.ndarray) -> TextWord:
    """Snap a word's span to the ink it covers: CTC places characters within a time step or two,
    the ink says where the glyphs begin and end."""
    ink = _ink_profile(crop)
    width = len(ink)
    step = REC_STRIDE * crop.shape[0] / REC_HEIGHT / width  # one time step, as a fraction of the crop
    lo = max(0, int((word.start - 1.5 * step) * width))
    hi = min(width, int(math.ceil((word.end + 1.5 * step) * width)))
    cols = np.nonzero(ink[lo:hi])[0]
    if len(cols) == 0:
        return word
    start = (lo + cols[0]) / width
    end = (lo + cols[-1] + 1) / width
    # Keep the snap only where it stays near what CTC said (a neighbour's ink must not pull it).
    start = start if abs(start - word.start) <= 2 * step else word.start
    end = end if abs(end - word.end) <= 2 * step else word.end
    return TextWord(word.text, word.confidence, start, max(end, start + 1e-6))
