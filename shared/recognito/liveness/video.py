"""The selfie video a liveness client streams: decoded to timed RGB frames.

Browsers record WebM (VP8/VP9, or H.264 in Safari's MP4) with MediaRecorder and send it in chunks;
the chunks joined are one file. PyAV decodes it; frames are kept at most ``MAX_FPS`` a second
(3-4 frames for each colour) and ``MAX_SIDE`` px long, which is all the decision needs (colours
last ~475 ms, the movement seconds). Deployed, decoding (PyAV) and the models (ONNX Runtime) cannot share a function's
250 MB, so the frames travel between them as one ``.npz`` in S3 (``pack``/``unpack``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from recognito.errors import ValidationException

MAX_VIDEO_BYTES = 10 * 1024 * 1024  # "The maximum video size for Face Liveness is 10 MB."
MAX_FPS = 10.0
MAX_SIDE = 480
MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Frames:
    times_ms: np.ndarray  # (n,) float64, from the video's first frame
    rgb: np.ndarray  # (n, h, w, 3) uint8
    scale: float  # decoded pixels per video pixel (for the oval, given in video pixels)


def decode(video: bytes) -> Frames:
    """The frames of a recorded video; ``ValidationException`` if it does not decode."""
    import av

    times: list[float] = []
    images: list[np.ndarray] = []
    scale = 1.0
    try:
        with av.open(io.BytesIO(video), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            first: float | None = None
            for frame in container.decode(stream):
                at = float(frame.time if frame.time is not None else len(times) / MAX_FPS)
                first = at if first is None else first
                t = (at - first) * 1000.0
                if t > MAX_SECONDS * 1000:
                    break
                if times and t - times[-1] < 0.8 * 1000.0 / MAX_FPS:  # container timestamps are rounded
                    continue
                scale = min(1.0, MAX_SIDE / max(frame.width, frame.height))
                if scale < 1.0:
                    frame = frame.reformat(width=round(frame.width * scale), height=round(frame.height * scale))
                times.append(t)
                images.append(frame.to_ndarray(format="rgb24"))
    except (av.FFmpegError, IndexError, ValueError) as error:
        raise ValidationException(f"The video could not be decoded: {error}") from None
    if not images:
        raise ValidationException("The video has no frames.")
    return Frames(np.asarray(times), np.stack(images), scale)


def pack(frames: Frames) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, times=frames.times_ms, rgb=frames.rgb, scale=np.float64(frames.scale))
    return out.getvalue()


def unpack(data: bytes) -> Frames:
    with np.load(io.BytesIO(data)) as stored:
        return Frames(stored["times"], stored["rgb"], float(stored["scale"]))
