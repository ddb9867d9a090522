"""Face embeddings: FaceNet (face model version 1.0) and SFace (2.0), each through its own crop.

FaceNet 20180408-102900 (Inception-ResNet-v1 trained on CASIA-WebFace) maps a 160x160 RGB face to a
512-d L2-normalized vector; the cosine of two vectors says how alike the faces are. The network
was trained on MTCNN detector boxes plus a margin, resized to a square, not on faces warped to
five-point templates, so the crop here is made the same way: the detector's box, enlarged by
``MARGIN`` of its size on each side and resized to 160x160 (stretching it, as FaceNet's own
alignment script does), after turning the image about the box's centre so that the eyes are
level (a rotation only: no shear, no landmark warping). Each crop is then "prewhitened" to zero
mean and unit variance, as in training. All the faces of one image run as one batch.

The shared layer's ``recognito.faces.similarity`` maps the cosine to Rekognition's 0-100
``Similarity``; it holds each version's embedding size too, which must equal this module's
(tests/test_face_model_versions.py checks both against the models' output).

Face model version "2.0" is SFace (OpenCV Zoo's MobileFaceNet, 128-d, blockwise int8 weights):
chosen over FaceNet, dlib's ResNet and LightCNN by bench/face_models.py. It was trained on faces
warped onto ArcFace's five-point template at 112x112, so its crop is that similarity warp of the
detector's five landmarks (``aligned_crops``), fed as BGR 0..255 without normalization.
``embed_faces(rgb, detections, model)`` runs a model file through its own crop (``EMBEDDERS``);
which file a face model version uses is the shared layer's registry
(``recognito.faces.similarity.FACE_MODELS``).

This module imports no ONNX Runtime until a face is embedded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from recognito_inference.face_detector import FaceDetection

EMBEDDING_SIZE = 512

# The variant that ships: FaceNet with int8 weights (onnxruntime dynamic quantization): 24 MB
# instead of 94 MB (fp16: 47 MB), ~30-40 ms a face on one core instead of ~50, and the same
# genuine and impostor cosines as float32 to +-0.01 (bench/compare_faces.py). Its activations are
# scaled per batch, so a face's embedding moves with its batch-mates, by a cosine of ~1e-3.
# RECOGNITO_FACE_MODEL picks another (facenet, facenet-fp16) where no model is named: benches
# comparing the variants (the service always names the file its face model version uses).
DEFAULT_MODEL = "facenet-int8"
INPUT = "input"
OUTPUT = "embeddings"
SIZE = 160

# Crop: the detector's box grown by this fraction of its width and height on each side. CenterFace
# boxes run from the brow to the chin; MTCNN's, which FaceNet saw in training plus a 32 px margin
# on ~110 px faces, are a little looser. Chosen on the verification pairs (bench/compare_faces.py).
MARGIN = 0.10


def model_name() -> str:
    """The embedding model file in use (``<model dir>/<name>.onnx``)."""
    return os.environ.get("RECOGNITO_FACE_MODEL", DEFAULT_MODEL)


def _crop_transform(box: np.ndarray, landmarks: np.ndarray, margin: float) -> tuple[float, ...]:
    """Pillow AFFINE coefficients taking the SIZE x SIZE crop's pixels to the image's.

    The crop is the box grown by ``margin`` per side, turned by the eye line's angle about the
    box's centre: output (u, v) -> centre + R(angle) @ ((u, v) - SIZE / 2) * scale, with the
    box's width and height each scaled to SIZE (FaceNet's crops were stretched to a square).
    Coordinates are continuous (pixel i spans [i, i + 1]); Pillow samples output pixel centres.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    sx = (x2 - x1) * (1.0 + 2.0 * margin) / SIZE
    sy = (y2 - y1) * (1.0 + 2.0 * margin) / SIZE
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    angle = np.arctan2(float(ry - ly), float(rx - lx))
    cos, sin = float(np.cos(angle)), float(np.sin(angle))
    # [x; y] = [[cos, -sin], [sin, cos]] @ [sx * (u - SIZE/2); sy * (v - SIZE/2)] + [cx; cy]
    a, b = cos * sx, -sin * sy
    d, e = sin * sx, cos * sy
    half = -SIZE / 2.0
    c = cx + a * half + b * half
    f = cy + d * half + e * half
    return (a, b, c, d, e, f)


def face_crops(rgb: np.ndarray, detections: Sequence[FaceDetection], margin: float = MARGIN) -> np.ndarray:
    """(n, SIZE, SIZE, 3) uint8 crops of the faces, eyes level, as FaceNet takes them.

    A face over twice SIZE is first shrunk by a whole factor with a box filter (``Image.reduce``):
    the affine step samples bilinearly, which aliases when it shrinks by 2x or more.
    """
    image = Image.fromarray(np.ascontiguousarray(rgb))
    crops = np.empty((len(detections), SIZE, SIZE, 3), dtype=np.uint8)
    for i, detection in enumerate(detections):
        box = np.asarray(detection.box, dtype=np.float64)
        points = np.asarray(detection.landmarks, dtype=np.float64)
        side = max(box[2] - box[0], box[3] - box[1]) * (1.0 + 2.0 * margin)
        factor = int(side // SIZE)  # the bilinear step then shrinks by less than 2x
        source = image
        if factor >= 2:
            # Reduce only the region the crop can reach (its rotated square's bounding box).
            cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
            reach = side * 0.75  # > half the diagonal of the crop
            left = max(0, int(cx - reach) // factor * factor)
            top = max(0, int(cy - reach) // factor * factor)
            right = min(image.width, int(cx + reach) + factor)
            bottom = min(image.height, int(cy + reach) + factor)
            source = image.crop((left, top, right, bottom)).reduce(factor)
            offset = np.array([left, top, left, top], dtype=np.float64)
            box = (box - offset) / factor
            points = (points - offset[:2]) / factor
        coefficients = _crop_transform(box, points, margin)
        crop = source.transform((SIZE, SIZE), Image.AFFINE, coefficients, resample=Image.BILINEAR)
        crops[i] = np.asarray(crop)
    return crops


def prewhiten(crops: np.ndarray) -> np.ndarray:
    """Each crop to zero mean and unit variance (FaceNet's training normalization), float32."""
    x = crops.astype(np.float32)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    floor = np.float32(1.0 / np.sqrt(x[0].size)) if len(x) else np.float32(1.0)
    return ((x - mean) / np.maximum(std, floor)).astype(np.float32, copy=False)


def embed_crops(crops: np.ndarray, model: str | None = None) -> np.ndarray:
    """(n, 512) float32 L2-normalized embeddings of (n, SIZE, SIZE, 3) uint8 face crops, one run."""
    if not len(crops):
        return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
    from recognito_inference.sessions import get_session  # onnxruntime only when a face is embedded

    session = get_session(model or model_name())
    (embeddings,) = session.run([OUTPUT], {INPUT: prewhiten(crops)})
    embeddings = embeddings.astype(np.float32)
    # The graph ends in an L2 normalization; reduced-precision variants drift from unit length.
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    return embeddings


# SFace ("2.0"): ArcFace's five-point template of a 112x112 crop (insightface), which SFace's
# training faces were warped onto; eyes, nose tip, mouth corners in image order (left first).
SFACE_MODEL = "sface"
SFACE_SIZE = 112
SFACE_EMBEDDING_SIZE = 128
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)


def _similarity_warp(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """3x3 least-squares similarity transform (Umeyama) taking ``points`` onto ``template``."""
    src, dst = np.asarray(points, np.float64), np.asarray(template, np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])  # a rotation, never a reflection
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(s) @ d) / src_c.var(0).sum())
    translation = dst_mean - scale * rotation @ src_mean
    return np.vstack([np.hstack([scale * rotation, translation[:, None]]), [0.0, 0.0, 1.0]])


def aligned_crops(rgb: np.ndarray, detections: Sequence[FaceDetection], size: int = SFACE_SIZE) -> np.ndarray:
    """(n, size, size, 3) uint8 RGB crops: each face's five landmarks warped onto ArcFace's template."""
    image = Image.fromarray(np.ascontiguousarray(rgb))
    crops = np.empty((len(detections), size, size, 3), dtype=np.uint8)
    for i, detection in enumerate(detections):
        forward = _similarity_warp(detection.landmarks, ARCFACE_TEMPLATE * (size / 112.0))
        inverse = tuple(np.linalg.inv(forward)[:2].ravel())  # Pillow maps output pixels to input ones
        crops[i] = np.asarray(image.transform((size, size), Image.AFFINE, inverse, resample=Image.BILINEAR))
    return crops


def embed_aligned(crops: np.ndarray, model: str = SFACE_MODEL) -> np.ndarray:
    """(n, 128) float32 L2-normalized SFace embeddings of (n, 112, 112, 3) uint8 aligned RGB crops."""
    embeddings = np.zeros((len(crops), SFACE_EMBEDDING_SIZE), dtype=np.float32)
    if not len(crops):
        return embeddings
    from recognito_inference.sessions import get_session

    session = get_session(model)
    # BGR 0..255, NCHW, as OpenCV's blobFromImage fed it; the export takes one face a run.
    batch = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
    for i in range(len(batch)):
        (embeddings[i],) = session.run(None, {"data": batch[i : i + 1]})[0]
    embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    return embeddings


@dataclass(frozen=True)
class Embedder:
    """A face network with the crop it was trained on: detections in, L2-normalized embeddings out."""

    crops: Callable[[np.ndarray, Sequence[FaceDetection]], np.ndarray]
    embed: Callable[[np.ndarray, str], np.ndarray]  # (crops, model file stem) -> (n, size)
    size: int


_FACENET = Embedder(face_crops, embed_crops, EMBEDDING_SIZE)
_SFACE = Embedder(aligned_crops, embed_aligned, SFACE_EMBEDDING_SIZE)
# Keyed by model file: the face model versions (recognito.faces.similarity.FACE_MODELS) name the
# file, this says how it takes faces; FaceNet's variants share its crop.
EMBEDDERS: dict[str, Embedder] = {
    "facenet": _FACENET,
    "facenet-fp16": _FACENET,
    DEFAULT_MODEL: _FACENET,
    SFACE_MODEL: _SFACE,
}


def embed_faces(rgb: np.ndarray, detections: Sequence[FaceDetection], model: str) -> np.ndarray:
    """(n, d) float32 L2-normalized embeddings of the detected faces of an RGB image, in order, by
    the model file ``model`` (a key of ``EMBEDDERS``) through the crop it was trained on."""
    chosen = EMBEDDERS[model]
    return chosen.embed(chosen.crops(rgb, detections), model)
