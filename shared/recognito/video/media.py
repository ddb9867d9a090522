"""Probe and decode stored video with PyAV (FFmpeg): only the VideoDecode function imports this.

Rekognition Video takes MPEG-4 and MOV containers with H.264 video; what the file itself says
(not its name) decides. Frames come out in presentation order with their frame number (the
timestamp times the average frame rate, rounded: stored video is constant-rate).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO

import av
import numpy as np
from PIL import Image

from recognito.errors import InvalidParameterException
from recognito.video.jobs import UNSUPPORTED_MESSAGE

Source = str | BinaryIO
"""A path, or a seekable binary file (the worker's ranged reader of the S3 object)."""
SUPPORTED_FORMATS = frozenset({"mov", "mp4"})  # FFmpeg's demuxer "mov,mp4,m4a,3gp,3g2,mj2"
SUPPORTED_CODECS = frozenset({"h264"})
MAX_DURATION_MILLIS = 6 * 3600 * 1000


@dataclass(frozen=True)
class Probe:
    """What the file says about itself: Rekognition's VideoMetadata and AudioMetadata."""

    video: dict[str, Any]
    audio: list[dict[str, Any]]
    frame_rate: Fraction

    @property
    def duration_millis(self) -> int:
        return int(self.video["DurationMillis"])

    @property
    def frame_count(self) -> int:
        return int(round(self.duration_millis * self.frame_rate / 1000))


def probe(source: Source) -> Probe:
    """The file's metadata; ``InvalidParameterException`` unless it is MP4/MOV with H.264 video."""
    try:
        container = av.open(source)
    except av.FFmpegError:
        raise InvalidParameterException(UNSUPPORTED_MESSAGE) from None
    with container:
        demuxers = set(container.format.name.split(","))
        if not demuxers & SUPPORTED_FORMATS or not container.streams.video:
            raise InvalidParameterException(UNSUPPORTED_MESSAGE)
        stream = container.streams.video[0]
        context = stream.codec_context
        if context.name not in SUPPORTED_CODECS:
            raise InvalidParameterException(UNSUPPORTED_MESSAGE)
        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        video = {
            "Codec": context.name,
            "DurationMillis": _duration_millis(container, stream),
            "Format": container.format.long_name,
            "FrameRate": float(rate),
            "FrameHeight": int(context.height),
            "FrameWidth": int(context.width),
            # AVCOL_RANGE_JPEG (2) is full range; unspecified is limited, as H.264 defaults to.
            "ColorRange": "FULL" if int(stream.codec_context.color_range or 0) == 2 else "LIMITED",
        }
        audio = [
            {
                "Codec": a.codec_context.name,
                "DurationMillis": _duration_millis(container, a),
                "SampleRate": int(a.codec_context.sample_rate or 0),
                "NumberOfChannels": int(a.codec_context.channels or 0),
            }
            for a in container.streams.audio
        ]
    return Probe(video, audio, rate)


def _duration_millis(container: Any, stream: Any) -> int:
    if stream.duration is not None and stream.time_base is not None:
        return int(stream.duration * stream.time_base * 1000)
    return int((container.duration or 0) / 1000)  # AV_TIME_BASE is microseconds


@dataclass(frozen=True)
class Frame:
    number: int
    timestamp_millis: int
    frame: Any  # av.VideoFrame

    def luma(self) -> np.ndarray:
        """The Y plane as stored (no range conversion): what black-frame thresholds are defined on."""
        plane = self.frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return rows[:, : plane.width]

    def thumbnail(self, block: int) -> np.ndarray:
        """The picture's brightness averaged over ``block`` x ``block`` squares (FFmpeg's area
        scaler to grey, full range: a fraction of a millisecond for a 1080p frame)."""
        width, height = max(1, self.frame.width // block), max(1, self.frame.height // block)
        return self.frame.reformat(width=width, height=height, format="gray", interpolation="AREA").to_ndarray()

    def rgb_thumbnail(self, block: int) -> np.ndarray:
        """The picture's colour averaged over ``block`` x ``block`` squares (HxWx3, full range)."""
        width, height = max(1, self.frame.width // block), max(1, self.frame.height // block)
        return self.frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()

    def sample_image(self, max_side: int) -> Image.Image:
        """The frame as RGB, scaled down (FFmpeg's area scaler) so its long side is at most ``max_side``."""
        scale = min(1.0, max_side / max(self.frame.width, self.frame.height))
        if scale >= 1.0:
            return self.frame.to_image()
        width, height = round(self.frame.width * scale), round(self.frame.height * scale)
        return self.frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_image()


def frames(source: Source, rate: Fraction, first: int, end: int, *, warmup: int = 0) -> Iterator[Frame]:
    """Frames ``first - warmup`` .. ``end - 1`` (numbers at ``rate``), decoded from the keyframe
    before them. ``warmup`` frames let a caller see the frame before its range (a cut on the border)."""
    start = max(0, first - warmup)
    with av.open(source) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            # Seek lands on the keyframe at or before the time; frames before `start` are skipped.
            container.seek(int(Fraction(start, 1) / rate / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            seconds = frame.pts * stream.time_base - (stream.start_time or 0) * stream.time_base
            number = int(round(seconds * rate))
            if number < start:
                continue
            if number >= end:
                break
            yield Frame(number, int(round(seconds * 1000)), frame)


def sample_numbers(rate: Fraction, first: int, end: int, per_second: float) -> set[int]:
    """The frame numbers in ``first`` .. ``end - 1`` nearest to every 1/``per_second`` s from 0:
    the same grid whatever the range, so ranges never sample twice or skip."""
    step = float(rate) / per_second
    k0 = int(np.ceil((first - 0.5) / step)) if first else 0
    numbers = set()
    k = max(k0, 0)
    while True:
        number = int(np.floor(k * step + 0.5))  # halves up, not to even: an even grid
        if number >= end:
            return numbers
        if number >= first:
            numbers.add(number)
        k += 1
