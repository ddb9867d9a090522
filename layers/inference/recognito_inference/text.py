"""Text in images with PP-OCRv4: lines found, turned upright, read, and split into words.

Three ONNX models from PaddleOCR (as RapidOCR ships them), with everything around them here in
numpy and Pillow, so the layer needs neither OpenCV nor PaddleOCR:

1. **Detection** (``ppocrv4-det``, DB): a text probability map. It is binarized; its connected
   components (8-connected, labelled on row runs), scored by their mean probability, become
   minimum-area rotated rectangles grown by DB's "unclip" offset (for a rectangle, exactly
   ``area * ratio / perimeter`` on every side). A near-horizontal line whose rectangle is much
   thicker than the line itself (a page's curl bends it) is followed along its centre line.
2. **Direction** (``ppocr-cls``): each line is cut out along its rotated box (a Pillow QUAD
   transform) or its centre line, laid horizontal, and turned over where the classifier is sure
   it reads upside down; a line turned over is read both ways and the more legible reading wins
   (strings of digits look alike either way up).
3. **Recognition** (``ppocrv4-rec``, CTC over 6,623 characters): greedy CTC decoding, restricted to
   Latin script (ASCII, Latin-1 and Latin Extended-A letters, common punctuation): Rekognition
   reads Latin text, and the model's Chinese characters would otherwise stand in for smudges.

Words: the recognizer's time steps say where each character sits along the line, so each word (a
run of characters between spaces, or across a wide gap in the ink that the model read without a
space) gets its own part of the line's box, its ends snapped to the ink. Boxes are quadrilaterals
in image pixels, corners in reading order: top-left, top-right, bottom-right, bottom-left of the
text as read, so rotated and upside-down text keep their direction.
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

# The map is computed at the image's own resolution, small images enlarged to this short side
# (RapidOCR enlarges to 736; scikit-image's page and drawn text read as well from 544 at half the
# cost), large ones reduced to this long side (bounds time and memory).
DET_MIN_SHORT_SIDE = 544
DET_MAX_SIDE = 1280
# DB's post-processing, as PaddleOCR / RapidOCR tune it for PP-OCRv4.
BINARY_THRESHOLD = 0.3
BOX_THRESHOLD = 0.5  # mean probability over a component
UNCLIP_RATIO = 1.6
MIN_BOX_SIDE = 3  # px on the map, before unclip (+2 after)
MAX_CANDIDATES = 1000
# A near-horizontal line (within this many degrees) whose box is this much thicker than the line
# itself is bent, and is read along its centre line.
BEND_MAX_ANGLE = 20
BEND_THICKNESS_RATIO = 2.1
BEND_MARGIN = 1.3  # its crop's half height, over DB's unclip: the recognizer wants some margin

# Direction and recognition inputs.
CLS_SHAPE = (48, 192)
CLS_THRESHOLD = 0.9  # turn a line over only when the classifier is this sure
REC_HEIGHT = 48
REC_MIN_WIDTH = 320
REC_STRIDE = 8  # input columns per CTC time step
BATCH = 6
MIN_LINE_SCORE = 0.5  # mean character probability; below it a "line" is mostly noise

# A gap in the ink at least this fraction of the height of the line's ink (about an em: a space
# is a quarter to a third of one, letters are about a tenth apart), and wider than the line's
# median gap by this much, separates two words even where the recognizer emitted no space.
WORD_GAP_HEIGHT_RATIO = 0.3
INK_BAND = (0.15, 0.85)  # rows of a line crop that hold its letters (not its neighbours' tails)
WORD_GAP_MEDIAN_RATIO = 2.0


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
    probability (0..1) and words.

    A line bent by a page's curl also has a ``curve``: its centre line (x and y, pixels, in
    increasing x) and half its height, along which it was read; ``flipped`` says it reads right to
    left along that curve (text upside down)."""

    quad: np.ndarray
    text: str
    confidence: float
    words: tuple[TextWord, ...]
    curve: tuple[np.ndarray, np.ndarray, float] | None = None
    flipped: bool = False

    def span_quad(self, start: float, end: float) -> np.ndarray:
        """The box of the part of the line from ``start`` to ``end`` (fractions of its length in
        reading direction), corners in reading order."""
        if self.curve is None:
            return sub_quad(self.quad, start, end)
        if self.flipped:
            return np.roll(_curve_quad(self.curve, 1 - end, 1 - start), 2, axis=0)
        return _curve_quad(self.curve, start, end)

    def word_quad(self, word: TextWord) -> np.ndarray:
        return self.span_quad(word.start, word.end)


def sub_quad(quad: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of a reading-order box between ``start`` and ``end`` (fractions of its length)."""
    tl, tr, br, bl = np.asarray(quad, dtype=np.float64)
    return np.array([tl + (tr - tl) * start, tl + (tr - tl) * end, bl + (br - bl) * end, bl + (br - bl) * start])


def _curve_quad(curve: tuple[np.ndarray, np.ndarray, float], start: float, end: float) -> np.ndarray:
    """The box of a bent line between two fractions of its width: the chord of its centre line
    there, half its height above and below."""
    xs, ys, half = curve
    x0 = xs[0] + (xs[-1] - xs[0]) * start
    x1 = xs[0] + (xs[-1] - xs[0]) * end
    y0, y1 = np.interp([x0, x1], xs, ys)
    return np.array([[x0, y0 - half], [x1, y1 - half], [x1, y1 + half], [x0, y0 + half]])


@dataclass
class _Region:
    """A detected line on its way through direction and recognition."""

    quad: np.ndarray  # corners in the crop's order
    curve: tuple[np.ndarray, np.ndarray, float] | None = None
    flipped: bool = False
    crop: np.ndarray | None = None


def read_text(rgb: np.ndarray) -> list[TextLine]:
    """Every line of text in an H x W x 3 uint8 RGB image, in reading order (top to bottom, then
    left to right)."""
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # PaddleOCR trained on OpenCV's BGR
    regions = detect_lines(bgr)
    if not regions:
        return []
    for region in regions:
        _cut_out(bgr, region)
    _fix_upside_down(regions)
    decoded = _recognize([r.crop for r in regions])
    # The direction classifier can take symmetric strings (digits, "w" and "m") for upside down:
    # a line it turned over is read both ways, and the more legible reading wins.
    turned = [i for i, r in enumerate(regions) if r.flipped]
    if turned:
        again = _recognize([np.ascontiguousarray(regions[i].crop[::-1, ::-1]) for i in turned])
        for i, other in zip(turned, again, strict=True):
            if _legibility(other) > _legibility(decoded[i]):
                region = regions[i]
                region.crop = np.ascontiguousarray(region.crop[::-1, ::-1])
                region.quad = np.roll(region.quad, 2, axis=0)
                region.flipped = False
                decoded[i] = other
    lines = []
    for region, reading in zip(regions, decoded, strict=True):
        line = _line(region, *reading)
        if line is not None:
            lines.append(line)
    return lines


def _legibility(reading: tuple) -> float:
    """How much of a line a reading makes out: the summed probability of its characters."""
    return float(np.sum(reading[2]))


# ------------------------------------------------------------------------------------- detection
def detect_lines(bgr: np.ndarray) -> list[_Region]:
    """The lines of text in ``bgr``, in reading order: rotated boxes (4 x 2 float pixels), and for
    bent lines their centre lines."""
    height, width = bgr.shape[:2]
    scale = max(1.0, DET_MIN_SHORT_SIDE / min(height, width))
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

    scale_xy = np.array([width / in_w, height / in_h])
    regions = []
    for runs, score in _components(grown, prob)[:MAX_CANDIDATES]:
        # Scored over the component itself (DB's "slow" mode), not its box: a line bent by a page's
        # curl has a box that is mostly background.
        if score < BOX_THRESHOLD:
            continue
        rect = _min_area_rect(_row_extremes(*runs))
        if rect is None or min(_sides(rect)) < MIN_BOX_SIDE:
            continue
        curve = _bend(*runs, rect)
        rect = _unclip(rect, UNCLIP_RATIO)
        if min(_sides(rect)) < MIN_BOX_SIDE + 2:
            continue
        box = rect * scale_xy
        box[:, 0] = np.clip(box[:, 0], 0, width)
        box[:, 1] = np.clip(box[:, 1], 0, height)
        if curve is not None:
            xs, ys, half = curve
            curve = (xs * scale_xy[0], ys * scale_xy[1], half * scale_xy[1])
        regions.append(_Region(_order_corners(box), curve))
    return _reading_order(regions)


def _components(mask: np.ndarray, prob: np.ndarray) -> list[tuple[tuple[np.ndarray, ...], float]]:
    """The 8-connected components of a binary image, largest first, each as its runs (row, first
    column, end column) and the mean of ``prob`` over its pixels.

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

    cumulative = np.zeros((height, width + 1))
    np.cumsum(prob, axis=1, out=cumulative[:, 1:])
    run_sums = cumulative[row, x1] - cumulative[row, x0]
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.nonzero(np.diff(labels[order]))[0] + 1)
    found = [((row[r], x0[r], x1[r]), float(run_sums[r].sum() / (x1[r] - x0[r]).sum())) for r in groups]
    found.sort(key=lambda item: len(item[0][0]), reverse=True)
    return found


def _row_extremes(rows: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """The first and last pixel of each row of a component (centres, as OpenCV's contours give
    them): all a convex hull needs."""
    ys, inverse = np.unique(rows, return_inverse=True)
    left = np.full(len(ys), np.iinfo(np.int64).max)
    right = np.full(len(ys), -1)
    np.minimum.at(left, inverse, x0)
    np.maximum.at(right, inverse, x1 - 1)
    return np.concatenate([np.stack([left, ys], 1), np.stack([right, ys], 1)]).astype(np.float64)


def _bend(rows: np.ndarray, x0: np.ndarray, x1: np.ndarray, rect: np.ndarray) -> tuple | None:
    """The centre line and half height of a near-horizontal line whose box is much thicker than
    the line itself (a page's curl bends it); None for a straight line.

    Read along its box, a bent line would share the crop with pieces of its neighbours; read along
    its centre line it comes out straight. Half height and ends are grown like DB's unclip.
    """
    u = rect[1] - rect[0] if _sides(rect)[0] >= _sides(rect)[1] else rect[2] - rect[1]
    if abs(u[1]) > abs(u[0]) * math.tan(math.radians(BEND_MAX_ANGLE)):
        return None
    lengths = x1 - x0
    cols = np.repeat(x0 - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    pixel_rows = np.repeat(rows, lengths)
    first = int(x0.min())
    span = int(x1.max()) - first
    top = np.full(span, np.iinfo(np.int64).max)
    bottom = np.full(span, -1)
    np.minimum.at(top, cols - first, pixel_rows)
    np.maximum.at(bottom, cols - first, pixel_rows)
    thickness = float(np.median(bottom - top + 1))
    if min(_sides(rect)) < BEND_THICKNESS_RATIO * thickness:
        return None
    window = max(3, int(thickness)) | 1
    centre = (top + bottom) / 2.0
    padded = np.pad(centre, window // 2, mode="edge")
    centre = np.convolve(padded, np.ones(window) / window, mode="valid")
    distance = span * thickness * UNCLIP_RATIO / (2 * (span + thickness))
    samples = np.linspace(0, span - 1, min(span, 32))
    xs = first + samples
    ys = np.interp(samples, np.arange(span), centre)
    xs[0] -= distance
    xs[-1] += distance
    return xs, ys, BEND_MARGIN * (thickness / 2 + distance)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise (in y-up terms), no repeated points."""
    pts = np.unique(points, axis=0)
    if len(pts) < 3:
        return pts

    def half(seq: list) -> list:
        out: list = []
        for x, y in seq:
            while len(out) >= 2:
                (ax, ay), (bx, by) = out[-2], out[-1]
                if (bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0:
                    break
                out.pop()
            out.append((x, y))
        return out

    points_list = pts.tolist()
    lower, upper = half(points_list), half(points_list[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


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


def _order_corners(box: np.ndarray) -> np.ndarray:
    """PaddleOCR's corner order: of the two leftmost corners the upper is first (top-left), the
    lower last; of the two rightmost the upper is second, the lower third."""
    pts = box[np.argsort(box[:, 0], kind="stable")]
    left, right = pts[:2], pts[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl])


def _reading_order(regions: list[_Region]) -> list[_Region]:
    """Top to bottom; lines whose vertical centres are within half a line height of each other
    count as one row, read left to right."""
    if not regions:
        return []
    centres = np.array([r.quad[:, 1].mean() for r in regions])
    heights = np.array([max(np.ptp(r.quad[:, 1]), 1.0) for r in regions])
    rows: list[list[int]] = []
    for i in np.argsort(centres, kind="stable"):
        if rows and abs(centres[i] - np.mean(centres[rows[-1]])) < 0.5 * min(heights[i], np.median(heights[rows[-1]])):
            rows[-1].append(int(i))
        else:
            rows.append([int(i)])
    return [regions[i] for row in rows for i in sorted(row, key=lambda j: regions[j].quad[:, 0].min())]


# ------------------------------------------------------------------------------ crops, direction
def _cut_out(bgr: np.ndarray, region: _Region) -> None:
    """Cut the line out and lay it horizontal: along its box (corners then reordered to follow
    the crop's top-left, top-right, bottom-right, bottom-left), or along its centre line."""
    if region.curve is not None:
        region.crop = _along_curve(bgr, region.curve)
        return
    tl, tr, br, bl = region.quad
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
        region.quad = np.roll(region.quad, -1, axis=0)
    region.crop = np.ascontiguousarray(crop)


def _along_curve(bgr: np.ndarray, curve: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray:
    """A bent line resampled straight: column by column, the pixels within half its height of its
    centre line (bilinear)."""
    xs, ys, half = curve
    height, width = bgr.shape[:2]
    out_w = max(1, round(xs[-1] - xs[0]))
    out_h = max(1, round(2 * half))
    x = xs[0] + (np.arange(out_w) + 0.5) * (xs[-1] - xs[0]) / out_w
    y = np.interp(x, xs, ys)[None, :] - half + (np.arange(out_h)[:, None] + 0.5) * (2 * half / out_h)
    x = np.broadcast_to(x[None, :], y.shape)
    x = np.clip(x - 0.5, 0, width - 1)
    y = np.clip(y - 0.5, 0, height - 1)
    x0 = np.minimum(np.floor(x).astype(int), width - 2 if width > 1 else 0)
    y0 = np.minimum(np.floor(y).astype(int), height - 2 if height > 1 else 0)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    img = bgr.astype(np.float32)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return np.clip(top * (1 - fy) + bottom * fy + 0.5, 0, 255).astype(np.uint8)


def _resize_normalized(crop: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """A crop resized to ``height`` keeping its aspect (at most ``max_width``), scaled to -1..1,
    as 3 x height x width; the caller pads to the batch width."""
    h, w = crop.shape[:2]
    new_w = max(1, min(max_width, math.ceil(height * w / h)))
    resized = np.asarray(Image.fromarray(crop).resize((new_w, height), Image.BILINEAR), dtype=np.float32)
    return ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)


def _fix_upside_down(regions: list[_Region]) -> None:
    """Turn over the lines the direction classifier is sure read upside down."""
    session = get_session(CLS_MODEL)
    name = session.get_inputs()[0].name
    height, width = CLS_SHAPE
    for i in range(0, len(regions), BATCH):
        chunk = regions[i : i + BATCH]
        batch = np.zeros((len(chunk), 3, height, width), dtype=np.float32)
        for j, region in enumerate(chunk):
            x = _resize_normalized(region.crop, height, width)
            batch[j, :, :, : x.shape[2]] = x
        probs = session.run(None, {name: batch})[0]
        for region, (upright, upside_down) in zip(chunk, probs, strict=True):
            if upside_down > CLS_THRESHOLD and upside_down > upright:
                region.crop = np.ascontiguousarray(region.crop[::-1, ::-1])
                region.quad = np.roll(region.quad, 2, axis=0)
                region.flipped = not region.flipped


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
    region: _Region, pieces: list[str], spans: np.ndarray, probs: np.ndarray, is_space: np.ndarray
) -> TextLine | None:
    """A recognized line split into words; None when nothing legible is left."""
    if len(probs) == 0:
        return None
    crop = region.crop
    ink, text_height = _ink_profile(crop)
    step = REC_STRIDE * crop.shape[0] / REC_HEIGHT / crop.shape[1]  # one time step, as a fraction of the crop
    gaps = _ink_gaps(ink, text_height)
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
        if current and _gap_between(gaps, spans[current[-1], 1], spans[i, 0], step):
            flush()
        current.append(i)
    flush()
    if not words:
        return None
    confidence = float(np.mean(probs[~is_space])) if (~is_space).any() else 0.0
    if confidence < MIN_LINE_SCORE:
        return None
    words = [_tighten(w, ink, step) for w in words]
    return TextLine(
        quad=region.quad,
        text=" ".join(w.text for w in words),
        confidence=confidence,
        words=tuple(words),
        curve=region.curve,
        flipped=region.flipped,
    )


def _ink_profile(crop: np.ndarray) -> tuple[np.ndarray, int]:
    """Per column of a line crop, whether it holds ink; and the height of the line's ink (rows
    with a tenth of the busiest row's ink or more: ascenders to descenders, about one em).

    Ink is what differs from the local background, relatively: each column's background is its
    brightest (for dark text; darkest for light text) pixels, smoothed over a line height, so
    shading across a photographed page neither passes for ink nor hides it. Only the crop's middle
    band counts (INK_BAND), which holds the line's letters but not its neighbours' ascenders and
    descenders.
    """
    grey = crop.astype(np.float32).mean(axis=2)
    height = len(grey)
    top = int(height * INK_BAND[0])
    bottom = max(int(height * INK_BAND[1]), top + 1)
    # Dark text when the middle band is darker than the crop's top and bottom rows, column by
    # column (a page lit from one side is brighter at one end than the other).
    if np.mean(grey[top:bottom].mean(axis=0) - (grey[0] + grey[-1]) / 2) > 0:
        grey = 255.0 - grey
    window = max(1, height) | 1
    background = np.pad(np.percentile(grey, 90, axis=0), window // 2, mode="edge")
    background = np.convolve(background, np.ones(window) / window, mode="valid")
    # Relative to the background: a shadowed stretch of page has less contrast, not less ink.
    strength = (background[None, :] - grey) / np.maximum(background[None, :], 16.0)
    threshold = max(0.1, 0.35 * float(np.percentile(strength, 99)))
    ink = strength > threshold
    per_row = ink.sum(axis=1)
    return ink[top:bottom].any(axis=0), int(np.count_nonzero(per_row >= 0.1 * max(1, per_row.max())))


def _ink_gaps(ink: np.ndarray, text_height: int) -> list[tuple[float, float]]:
    """Runs of inkless columns wide enough to part two words, as fractions of the crop width."""
    width = len(ink)
    padded = np.concatenate([[1], ink.astype(np.int8), [1]])
    edges = np.diff(padded)
    starts, ends = np.nonzero(edges == -1)[0], np.nonzero(edges == 1)[0]
    interior = (starts > 0) & (ends < width)
    starts, ends = starts[interior], ends[interior]
    if len(starts) == 0:
        return []
    lengths = ends - starts
    typical = float(np.median(lengths))
    wide = (lengths >= WORD_GAP_HEIGHT_RATIO * text_height) & (lengths >= WORD_GAP_MEDIAN_RATIO * typical)
    return [(s / width, e / width) for s, e in zip(starts[wide], ends[wide], strict=True)]


def _gap_between(gaps: list[tuple[float, float]], left: float, right: float, step: float) -> bool:
    """Whether a wide inkless gap lies between two characters' spans, allowing half a time step
    of CTC's slack either way."""
    for g0, g1 in gaps:
        middle = (g0 + g1) / 2
        if left - step / 2 <= middle <= right + step / 2 or (g0 <= left <= g1 and g0 <= right <= g1):
            return True
    return False


def _tighten(word: TextWord, ink: np.ndarray, step: float) -> TextWord:
    """Snap a word's span to the ink it covers: CTC places characters within a time step or two,
    the ink says where the glyphs begin and end."""
    width = len(ink)
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
