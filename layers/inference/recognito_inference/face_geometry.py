"""Head pose from five landmarks, and brightness and sharpness from a face's pixels.

Pose: the five points (eyes, nose tip, mouth corners) are fitted, by least squares under a
scaled-orthographic camera, to a 3D mean face; the fitted rotation is split into roll, yaw and
pitch. The nose tip, the only point well out of the eye-mouth plane, carries yaw and pitch, so
those are estimates good to roughly 10 degrees on frontal-ish faces; roll (the eye line) is exact
to the landmarks' precision.

Sign conventions, Rekognition's as AWS describes them (camera as the reference), in degrees:
- Roll > 0: the face is turned clockwise in the image (the eye on the image's right is lower).
- Yaw > 0: the face turns towards the image's right (the person looks to their own left).
- Pitch > 0: the face tilts down (chin towards the chest); < 0, up.

Quality: each face box is cut out and resized to ``CANON`` px square, so that both numbers
describe the face as a recognizer would see it rather than the photo's resolution: Brightness is
the mean luma of the face's centre (0..100 for black..white); Sharpness maps the Laplacian's
energy relative to the face's contrast to 0..100 (a well-focused face ~80-95, a face blurred
to about a tenth of its width ~10).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# 3D mean face: x to the image's right, y down, z away from the camera, in units of the ArcFace
# 112 px alignment template (interocular ~35 units ~ 63 mm). x and y are where CenterFace itself
# puts its five points on frontal faces (the mean over scikit-image's LFW subset after aligning
# the eyes, made left-right symmetric): its mouth corners sit higher than ArcFace's. Depths from
# anthropometric averages: the nose tip ~20 mm in front of the eyes, mouth corners ~4 mm.
_TEMPLATE = np.array(
    [
        [38.29, 51.6, 0.0],  # eyeLeft (image left)
        [73.53, 51.6, 0.0],  # eyeRight
        [55.91, 71.0, -11.5],  # nose tip
        [41.91, 88.1, -2.5],  # mouthLeft
        [69.91, 88.1, -2.5],  # mouthRight
    ]
)

CANON = 64  # px: side of the resized face for quality
# Laplacian energy relative to contrast: what even a heavily blurred face keeps (noise, the box's
# edges), and the excess over it at which Sharpness reaches ~63.
_SHARPNESS_FLOOR = 0.035
_SHARPNESS_SCALE = 0.1


def head_pose(landmarks: np.ndarray) -> np.ndarray:
    """(n, 3) roll, yaw, pitch in degrees for (n, 5, 2) landmarks (x, y px)."""
    return fit_pose(np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2), _TEMPLATE)


def fit_pose(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """(n, 3) roll, yaw, pitch in degrees of the rotations that best map ``template`` (k, 3 mean-face
    points) onto each face's (n, k, 2) image points, under a scaled-orthographic camera."""
    if not len(points):
        return np.zeros((0, 3))
    pinv = np.linalg.pinv((template - template.mean(axis=0)).T)  # (k, 3): solves A @ P.T = p.T for A
    centered = points - points.mean(axis=1, keepdims=True)  # (n, k, 2)
    affine = np.einsum("nkd,kc->ndc", centered, pinv)  # (n, 2, 3): rows of s * R[:2]
    # Nearest matrix with orthonormal rows (polar decomposition): the rotation's first two rows.
    u, _, vt = np.linalg.svd(affine, full_matrices=False)
    return pose_angles(u @ vt)


def pose_angles(rows: np.ndarray) -> np.ndarray:
    """(n, 3) roll, yaw, pitch in degrees of rotations given by their first two rows (n, 2, 3),
    which map the mean face's axes (x right, y down, z away from the camera) into the camera's."""
    r1, r2 = rows[:, 0], rows[:, 1]
    r3 = np.cross(r1, r2)
    # R = Rz(roll) @ Ry(b) @ Rx(a) in x-right, y-down, z-forward camera axes.
    roll = np.degrees(np.arctan2(r2[:, 0], r1[:, 0]))
    b = np.degrees(np.arcsin(np.clip(-r3[:, 0], -1.0, 1.0)))
    a = np.degrees(np.arctan2(r3[:, 1], r3[:, 2]))
    # Ry(b > 0) swings the nose tip (in front of the face) to the image's left, Rx(a > 0) down.
    return np.stack([roll, -b, a], axis=1)


def _face_crops(rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(n, CANON, CANON) float32 luma 0..255 of each box, resized with antialiasing."""
    image = Image.fromarray(rgb).convert("L")
    crops = np.empty((len(boxes), CANON, CANON), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, dtype=np.float64)):
        # Boxes may extend past the image (faces at its edge); the part outside is not face.
        x1, y1 = max(0.0, x1), max(0.0, y1)
        x2, y2 = min(float(image.width), max(x2, x1 + 1)), min(float(image.height), max(y2, y1 + 1))
        crops[i] = np.asarray(image.resize((CANON, CANON), Image.BILINEAR, box=(x1, y1, x2, y2)))
    return crops


def face_quality(rgb: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(n, 2) Brightness and Sharpness, 0..100, of the faces at ``boxes`` (n, 4 px) in ``rgb``."""
    if not len(boxes):
        return np.zeros((0, 2))
    crops = _face_crops(rgb, boxes)
    # The box's centre holds skin, eyes, nose and mouth; its rim holds hair and background.
    m = CANON // 6
    center = crops[:, m:-m, m:-m]
    brightness = center.mean(axis=(1, 2)) / 255.0 * 100.0
    laplacian = (
        crops[:, :-2, 1:-1] + crops[:, 2:, 1:-1] + crops[:, 1:-1, :-2] + crops[:, 1:-1, 2:] - 4.0 * crops[:, 1:-1, 1:-1]
    )
    energy = laplacian.std(axis=(1, 2)) / (crops.std(axis=(1, 2)) + 8.0)
    excess = np.clip(energy - _SHARPNESS_FLOOR, 0.0, None)
    sharpness = 100.0 * (1.0 - np.exp(-excess / _SHARPNESS_SCALE))
    return np.stack([brightness, sharpness], axis=1)
