"""Face attributes beyond the detector's: a dense mesh, irises, expression, age and gender.

Models (all run batched over the faces of one image; each only when an attribute needs it):

- ``facemesh`` (MediaPipe FaceMesh, Apache-2.0): 468 points (x, y, relative depth z) from a
  192x192 crop of the face, rotated so that the detector's eyes are level. Landmarks, eye and
  mouth openness, head pose and the regions that the trait measurements below read come from it.
- ``iris`` (MediaPipe Iris, Apache-2.0): 71 eyelid/brow points and 5 iris points from a 64x64
  crop of each eye (2.3x the eye's corner-to-corner width, the image-right eye mirrored, as
  MediaPipe does). Pupils, eye openness (its eyelids are finer than the mesh's) and gaze.
- ``emotion`` (oarriaga/face_classification, MIT, FER2013): 7 expressions from a 64x64 grey crop
  of the detector's box.
- ``age-gender`` (face-api.js AgeGenderNet, MIT): age in years and P(male) from a 112x112 crop of
  the detector's box.
- ``face-mask`` (the mask / no-mask MobileNetV2 DetectProtectiveEquipment uses): P(face cover)
  from a 224x224 crop of the detector's box, one of FaceOccluded's signals.

Measurements (no model exists in a package for these; see ``trait_features``): eyeglasses,
sunglasses, beard and mustache come from a logistic regression on a few contrast and edge
measurements of mesh regions of a small, eye-aligned grey face, trained on hand-labelled faces
of scikit-image's LFW subset (bench/face_traits.py refits it and reports its cross-validated
accuracy).

Coordinates are the input image's pixels throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from recognito_inference.face_geometry import fit_pose
from recognito_inference.sessions import get_session

MESH_SIZE = 192
MESH_CROP = 1.4  # crop side / the detector box's longer side
IRIS_SIZE = 64
IRIS_CROP = 2.3  # crop side / eye corner-to-corner width (MediaPipe's)
EMOTION_SIZE = 64
EMOTION_CROP = 1.0  # crop side / the detector box's longer side
AGE_SIZE = 112
MASK_CROP = 1.1  # crop side / the detector box's longer side (ppe.face_crop's 5% each side)

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# Mesh indices (MediaPipe's canonical numbering). "Image-left" is the subject's right.
EYE_CORNERS = np.array([[33, 133], [362, 263]])  # [image-left eye, image-right eye] x [left, right] corner
LIPS = {"left": 61, "right": 291, "upper_outer": 0, "lower_outer": 17, "upper_inner": 13, "lower_inner": 14}
# The iris model's contour: points 0-8 run along the lower lid from the outer corner to the inner
# one, 9-15 along the upper lid; each upper point faces lower point 1-7.
IRIS_UPPER = np.arange(9, 16)
IRIS_LOWER = np.arange(1, 8)
IRIS_CENTER = 71
# Where the iris centre of an eye looking straight ahead sits above its corners' line, in eye
# widths: frontal faces looking into the camera (astronaut, Obama, Biden, four face-api demo
# faces) read a pitch of 8-12 degrees without it, 10 on average; 0.42 sin(10 deg) = 0.073.
GAZE_PITCH_BIAS = 0.073


@dataclass
class FaceAnalysis:
    """What the models said of n faces; fields are filled on demand (None until computed)."""

    mesh: np.ndarray | None = None  # (n, 468, 3) x, y px; z in px units, smaller = nearer
    mesh_score: np.ndarray | None = None  # (n,) the mesh model's face probability
    eye_contours: np.ndarray | None = None  # (n, 2, 71, 2): [image-left, image-right] eye
    irises: np.ndarray | None = None  # (n, 2, 5, 2): centre first
    emotions: np.ndarray | None = None  # (n, 7) probabilities in EMOTIONS order
    ages: np.ndarray | None = None  # (n,) years
    male: np.ndarray | None = None  # (n,) P(male)
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------- cropping
def _affine_crops(
    image: Image.Image,
    centers: np.ndarray,
    sides: np.ndarray,
    angles: np.ndarray,
    size: int,
    flip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Square crops (n, size, size, C) uint8 of ``image``, each centred at ``centers`` (n, 2),
    ``sides`` px wide, rotated by ``angles`` (radians, the crop's x axis along that direction),
    optionally mirrored. Returns the crops and, per crop, the 2x2 matrix A and offset t mapping a
    crop pixel (u, v) to the image: (x, y) = A @ (u, v) + t. Outside the image is black."""
    n = len(centers)
    scale = sides / size
    cos, sin = np.cos(angles) * scale, np.sin(angles) * scale
    mats = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)  # (n, 2, 2)
    if flip is not None:
        mats[flip, :, 0] *= -1.0
    offsets = centers - mats @ np.array([size / 2.0, size / 2.0])
    crops = np.empty((n, size, size, len(image.getbands())), dtype=np.uint8)
    for i in range(n):
        a, t = mats[i], offsets[i]
        coeffs = (a[0, 0], a[0, 1], t[0], a[1, 0], a[1, 1], t[1])
        crop = image.transform((size, size), Image.AFFINE, coeffs, resample=Image.BILINEAR)
        crops[i] = np.asarray(crop).reshape(size, size, -1)
    return crops, mats, offsets


def _to_image(points: np.ndarray, mats: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Crop pixels (n, k, 2) -> image pixels, with each crop's mapping."""
    return np.einsum("nij,nkj->nki", mats, points) + offsets[:, None, :]


# ---------------------------------------------------------------------------------------- models
def run_mesh(image: Image.Image, boxes: np.ndarray, eyes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 468, 3) mesh points in image pixels and (n,) face scores, for faces at ``boxes`` (n, 4)
    whose eyes (n, 2, 2: image-left, image-right) set the crop's rotation."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * MESH_CROP
    delta = eyes[:, 1] - eyes[:, 0]
    angles = np.arctan2(delta[:, 1], delta[:, 0])
    crops, mats, offsets = _affine_crops(image, centers, sides, angles, MESH_SIZE)
    session = get_session("facemesh")
    mesh, score = session.run(["output_mesh", "output_faceflag"], {"input": crops.astype(np.float32) / 255.0})
    mesh = mesh.reshape(len(boxes), -1, 3).astype(np.float64)
    points = _to_image(mesh[:, :, :2], mats, offsets)
    depth = mesh[:, :, 2:] * (sides / MESH_SIZE)[:, None, None]
    return np.concatenate([points, depth], axis=2), score[:, 0].astype(np.float64)


def run_iris(image: Image.Image, mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, 71, 2) eye contours and (n, 2, 5, 2) iris points (centre first) of both eyes."""
    n = len(mesh)
    corners = mesh[:, EYE_CORNERS, :2]  # (n, 2 eyes, 2 corners, 2)
    centers = corners.mean(axis=2).reshape(-1, 2)
    delta = (corners[:, :, 1] - corners[:, :, 0]).reshape(-1, 2)
    sides = np.maximum(np.hypot(delta[:, 0], delta[:, 1]), 1.0) * IRIS_CROP
    angles = np.arctan2(delta[:, 1], delta[:, 0])
    # MediaPipe's model sees the subject's right eye (the image-left one); the other is mirrored.
    flip = np.tile([False, True], n)
    crops, mats, offsets = _affine_crops(image, centers, sides, angles, IRIS_SIZE, flip)
    (points,) = get_session("iris").run(["points"], {"input": crops.astype(np.float32) / 255.0})
    points = points.reshape(2 * n, 76, 3)[:, :, :2].astype(np.float64)
    points = _to_image(points, mats, offsets).reshape(n, 2, 76, 2)
    return points[:, :, :IRIS_CENTER], points[:, :, IRIS_CENTER:]


def run_emotion(image: Image.Image, boxes: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """(n, 7) expression probabilities (EMOTIONS order) from a grey square of each detector box
    (``EMOTION_CROP`` times its longer side), levelled by the detector's eyes (n, 2, 2).

    FER2013's faces are face-detector crops, and the detector's box holds on small faces where
    the mesh drifts: on the faces of bench/data/face_attributes_by_eye.csv shrunk to 24 / 32 px
    high, smiles read right 0.71 / 0.86 of the time from the box against 0.65 / 0.82 from the
    mesh's frame (full size: 0.915 against 0.908)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * EMOTION_CROP
    delta = eyes[:, 1] - eyes[:, 0]
    angles = np.arctan2(delta[:, 1], delta[:, 0])
    crops, _, _ = _affine_crops(image.convert("L"), centers, sides, angles, EMOTION_SIZE)
    x = (crops.astype(np.float32) / 255.0 - 0.5) * 2.0
    (probs,) = get_session("emotion").run(["emotion"], {"input": x})
    return probs.astype(np.float64)


def run_age_gender(image: Image.Image, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,) ages and (n,) P(male) from a square crop of each detector box."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    crops, _, _ = _affine_crops(image, centers, sides, np.zeros(len(boxes)), AGE_SIZE)
    age, gender = get_session("age-gender").run(["age", "gender"], {"input": crops.astype(np.float32)})
    return age.astype(np.float64), gender[:, 0].astype(np.float64)


def run_mask(image: Image.Image, boxes: np.ndarray) -> np.ndarray:
    """(n,) P(face cover) from the mask / no-mask classifier (``ppe.mask_probabilities``) on a square
    of each detector box with 5% around it, level, as DetectProtectiveEquipment crops a face."""
    from recognito_inference.ppe import MASK_SIZE, mask_probabilities

    boxes = np.asarray(boxes, dtype=np.float64)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * MASK_CROP
    crops, _, _ = _affine_crops(image.convert("RGB"), centers, sides, np.zeros(len(boxes)), MASK_SIZE)
    return mask_probabilities(list(crops)).astype(np.float64)


# ------------------------------------------------------------------------------------ geometry
def eye_openness(eye_contours: np.ndarray) -> np.ndarray:
    """(n, 2) eyelid gap / eye width of each eye (open eyes ~0.25-0.4, closed under ~0.12)."""
    gap = np.linalg.norm(eye_contours[:, :, IRIS_UPPER] - eye_contours[:, :, IRIS_LOWER], axis=3).mean(axis=2)
    width = np.linalg.norm(eye_contours[:, :, 0] - eye_contours[:, :, 8], axis=2)
    return gap / np.maximum(width, 1e-6)


def mouth_openness(mesh: np.ndarray) -> np.ndarray:
    """(n,) gap between the inner lips / mouth width."""
    gap = np.linalg.norm(mesh[:, LIPS["upper_inner"], :2] - mesh[:, LIPS["lower_inner"], :2], axis=1)
    width = np.linalg.norm(mesh[:, LIPS["left"], :2] - mesh[:, LIPS["right"], :2], axis=1)
    return gap / np.maximum(width, 1e-6)


def eye_direction(eye_contours: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(n, 2) gaze yaw and pitch in degrees relative to the head, from where each iris centre sits
    between its eye's corners, averaged over both eyes.

    The eyeball is taken as a sphere of radius ``0.42 x`` the corner-to-corner width (an eye ~24 mm
    across shows a ~28 mm wide opening); the iris centre's offset from the corners' midpoint,
    along and across the corner line, is that radius times the sine of the gaze angle. The iris
    centre of an eye looking straight ahead sits ``GAZE_PITCH_BIAS`` eye widths above the corner
    line. Signs as the head pose's: yaw > 0 looking towards the image's right, pitch > 0 up."""
    outer_inner = eye_contours[:, :, [0, 8]]  # (n, 2, 2, 2)
    # The corners in image-left-to-right order, whichever is outer (the mirrored eye is too).
    first_left = (outer_inner[:, :, 0, 0] <= outer_inner[:, :, 1, 0])[..., None]
    left = np.where(first_left, outer_inner[:, :, 0], outer_inner[:, :, 1])
    right = np.where(first_left, outer_inner[:, :, 1], outer_inner[:, :, 0])
    axis = right - left
    width = np.maximum(np.linalg.norm(axis, axis=2), 1e-6)
    ux = axis / width[..., None]
    uy = np.stack([-ux[..., 1], ux[..., 0]], axis=-1)  # image down
    offset = irises[:, :, 0] - (left + right) / 2
    radius = 0.42 * width
    sx = np.clip(np.sum(offset * ux, axis=-1) / radius, -1, 1)
    sy = np.clip(np.sum(offset * uy, axis=-1) / radius + GAZE_PITCH_BIAS / 0.42, -1, 1)
    yaw = np.degrees(np.arcsin(sx)).mean(axis=1)
    # An iris below its corners' line looks down: Rekognition's pitch is positive looking up.
    pitch = -np.degrees(np.arcsin(sy)).mean(axis=1)
    return np.stack([yaw, pitch], axis=1)


def outside_share(mesh: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n,) the share of each face's mesh points that fall outside the image: a face the frame cuts."""
    xy = mesh[:, :, :2]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < width) & (xy[..., 1] >= 0) & (xy[..., 1] < height)
    return 1.0 - inside.mean(axis=1)


# Head pose from the mesh's 3-D points: the rotation that best maps this mean face onto them
# (Kabsch). Points that expressions barely move: eye corners, nose, cheekbones by the ears,
# forehead. The mean face is the FaceMesh points of scikit-image's 100 LFW faces, aligned by
# Procrustes, rotated to their average pose and made left-right symmetric, in face_geometry's
# mean-face units and axes (x right, y down, z away from the camera; interocular 35.24). Its
# depths are the model's times 0.6: the model's relative depths are deeper than face_geometry's
# anthropometric ones, and so scaled the yaw of 28 real faces agrees with the DEFAULT pose's
# (mean abs difference: roll 4, yaw 5, pitch 9 degrees; pitch is the least certain of both).
MESH_POSE_POINTS = [33, 133, 362, 263, 168, 6, 1, 2, 98, 327, 234, 454, 10]
MESH_POSE_TEMPLATE = np.array(
    [
        [-25.27, -6.68, 1.7],
        [-9.87, -6.07, 0.04],
        [9.87, -6.07, 0.04],
        [25.27, -6.68, 1.7],
        [0.0, -8.43, -5.51],
        [0.0, -4.06, -6.82],
        [0.0, 16.32, -11.53],
        [0.0, 19.29, -6.36],
        [-10.0, 17.62, -3.76],
        [10.0, 17.62, -3.76],
        [-38.95, 1.51, 19.4],
        [38.95, 1.51, 19.4],
        [0.0, -35.05, -4.62],
    ]
)


def mesh_pose(mesh: np.ndarray) -> np.ndarray:
    """(n, 3) roll, yaw, pitch in degrees (face_geometry's conventions) from (n, 468, 3) meshes.

    Fitted like face_geometry.head_pose, under a scaled-orthographic camera to the points' x and y
    only: the mesh's own depths flatten as a face turns (they gave ~40% less yaw)."""
    return fit_pose(mesh[:, MESH_POSE_POINTS, :2], MESH_POSE_TEMPLATE)


# ------------------------------------------------------------------------------ trait features
# Every trait measurement reads a small grey face, rotated level and scaled so that the eye
# centres sit TRAIT_EYES apart, TRAIT_EYE_Y from the top of a TRAIT_SIZE square: about how the
# training faces (scikit-image's 25x25 LFW subset) are framed, at the same coarse resolution.
TRAIT_SIZE = 32
TRAIT_EYES = 12.0
TRAIT_EYE_Y = 12.0

# Mesh regions, as point lists whose bounding polygon (convex hull) is the region.
REGIONS = {
    "bridge": [168, 6, 122, 351, 193, 417, 245, 465],  # between the eyes: a glasses bridge
    "eye_l": [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7],
    "eye_r": [362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382],
    "cheek_l": [116, 123, 147, 187, 205, 50, 117, 118],
    "cheek_r": [345, 352, 376, 411, 425, 280, 346, 347],
    "nose": [5, 4, 1, 45, 275, 51, 281, 195],
    "upper_lip": [2, 97, 326, 164, 167, 393, 165, 391, 92, 322, 40, 270, 37, 267, 0, 39, 269, 186, 410],
    "chin": [17, 84, 314, 181, 405, 200, 199, 175, 152, 148, 377, 176, 400, 149, 378, 150, 379, 136, 365, 83, 313],
}
TRAIT_FEATURES = ("bridge_dark", "eye_dark", "eye_flat", "upper_lip_dark", "chin_dark")
# attribute -> (bias, {feature: weight}) of a logistic regression: P = sigmoid(bias + sum w * f).
# Eyeglasses: fitted by bench/face_attribute_heads.py on the 147 faces of ../shared/datasets/faces
# labelled by eye in bench/data/face_attributes_by_eye.csv (leave-one-person-out accuracy 0.871,
# base rate 0.782; the previous LFW fit read 0.863 on all 175 labelled faces). Mustache and beard:
# bench/face_traits.py on hand-labelled LFW faces (the labelled set has 9 bearded faces of 3 people,
# too few to refit them). Both scripts print these numbers again.
TRAIT_MODELS: dict[str, tuple[float, dict[str, float]]] = {
    "eyeglasses": (
        -3.783,
        {"bridge_dark": 3.188, "eye_dark": 0.354, "eye_flat": -0.601, "upper_lip_dark": -1.260, "chin_dark": -0.345},
    ),
    "mustache": (-5.418, {"upper_lip_dark": 3.157}),
    "beard": (-4.286, {"upper_lip_dark": 1.042, "chin_dark": 0.853}),
}
TRAIT_OVERSAMPLE = 4  # the crop is cut at 4x and averaged down: antialiased like the training faces


def _trait_frames(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each face: the crop centre, side and angle that put its eyes where TRAIT_* say."""
    eyes = mesh[:, EYE_CORNERS, :2].mean(axis=2)  # (n, 2, 2)
    delta = eyes[:, 1] - eyes[:, 0]
    dist = np.maximum(np.hypot(delta[:, 0], delta[:, 1]), 1e-6)
    angles = np.arctan2(delta[:, 1], delta[:, 0])
    sides = dist * TRAIT_SIZE / TRAIT_EYES
    mid = eyes.mean(axis=1)
    # The crop centre lies (TRAIT_SIZE/2 - TRAIT_EYE_Y) crop px below the eyes' midpoint.
    down = np.stack([-np.sin(angles), np.cos(angles)], axis=1)
    centers = mid + down * ((TRAIT_SIZE / 2 - TRAIT_EYE_Y) * sides / TRAIT_SIZE)[:, None]
    return centers, sides, angles


def _polygon_masks(points: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size) bool: pixel centres inside the convex hull of each point set (n, k, 2)."""
    n = len(points)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    masks = np.empty((n, size * size), dtype=bool)
    for i in range(n):
        hull = _convex_hull(points[i])
        edges = np.roll(hull, -1, axis=0) - hull
        rel = grid[:, None, :] - hull[None, :, :]
        cross = edges[None, :, 0] * rel[:, :, 1] - edges[None, :, 1] * rel[:, :, 0]
        masks[i] = (cross >= 0).all(axis=1)
    return masks.reshape(n, size, size)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Monotone-chain convex hull of (k, 2) points, counter-clockwise in x-right, y-up terms."""
    pts = sorted(map(tuple, np.asarray(points, dtype=np.float64)))

    def half(seq: list) -> list:
        out: list = []
        for p in seq:
            while (
                len(out) >= 2
                and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1]) - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0]))
                <= 0
            ):
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def trait_features(image: Image.Image, mesh: np.ndarray) -> np.ndarray:
    """(n, len(TRAIT_FEATURES)) brightness and texture of mesh regions, relative to the face's own
    skin (nose and cheeks) and contrast, so that lighting and skin tone cancel to first order:

    - bridge_dark: the nose bridge between the eyes, darker than the nose (a frame's bridge);
    - eye_dark, eye_flat: the eye regions darker than the skin, and their texture over the
      skin's (dark lenses are dark and flat; bare eyes show sclera, iris and lashes);
    - upper_lip_dark, chin_dark: the upper lip and the chin darker than the skin (hair).
    """
    n = len(mesh)
    if not n:
        return np.zeros((0, len(TRAIT_FEATURES)))
    centers, sides, angles = _trait_frames(mesh)
    big = TRAIT_SIZE * TRAIT_OVERSAMPLE
    grey, mats, offsets = _affine_crops(image.convert("L"), centers, sides, angles, big)
    k = TRAIT_OVERSAMPLE
    g = grey[..., 0].astype(np.float64).reshape(n, TRAIT_SIZE, k, TRAIT_SIZE, k).mean(axis=(2, 4))
    local = np.einsum("nij,nkj->nki", np.linalg.inv(mats), mesh[:, :, :2] - offsets[:, None, :]) / k
    masks = {name: _polygon_masks(local[:, idx], TRAIT_SIZE) for name, idx in REGIONS.items()}

    def mean(values: np.ndarray, *names: str) -> np.ndarray:
        m = np.zeros_like(masks[names[0]])
        for name in names:
            m |= masks[name]
        return (values * m).sum(axis=(1, 2)) / np.maximum(m.sum(axis=(1, 2)), 1)

    def std(*names: str) -> np.ndarray:
        mu = mean(g, *names)
        return np.sqrt(np.maximum(mean(g**2, *names) - mu**2, 0.0))

    skin = mean(g, "nose", "cheek_l", "cheek_r")
    scale = np.maximum(std("nose", "cheek_l", "cheek_r", "chin", "eye_l", "eye_r"), 4.0)
    return np.stack(
        [
            (mean(g, "nose") - mean(g, "bridge")) / scale,
            (skin - mean(g, "eye_l", "eye_r")) / scale,
            std("eye_l", "eye_r") / np.maximum(std("cheek_l", "cheek_r", "nose"), 2.0),
            (skin - mean(g, "upper_lip")) / scale,
            (skin - mean(g, "chin")) / scale,
        ],
        axis=1,
    )


# ------------------------------------------------------------------------------------- analyze
def analyze(rgb: np.ndarray, boxes: np.ndarray, points: np.ndarray, needs: set[str]) -> FaceAnalysis:
    """Run what ``needs`` asks for ("mesh", "iris", "emotion", "age_gender", "traits", "occlusion") on the
    faces at ``boxes`` (n, 4 px) with detector landmarks ``points`` (n, 5, 2); what the asked
    steps depend on (the mesh, for all but age/gender) runs too."""
    result = FaceAnalysis()
    if not len(boxes):
        return result
    image = Image.fromarray(rgb)
    boxes = np.asarray(boxes, dtype=np.float64)
    if needs & {"mesh", "iris", "emotion", "traits", "occlusion"}:
        result.mesh, result.mesh_score = run_mesh(image, boxes, np.asarray(points, dtype=np.float64)[:, :2])
    if "iris" in needs:
        result.eye_contours, result.irises = run_iris(image, result.mesh)
    if "emotion" in needs:
        result.emotions = run_emotion(image, boxes, np.asarray(points, dtype=np.float64)[:, :2])
    if "age_gender" in needs:
        result.ages, result.male = run_age_gender(image, boxes)
    if "traits" in needs:
        result.extra["traits"] = trait_features(image, result.mesh)
    if "occlusion" in needs:
        result.extra["mask"] = run_mask(image, boxes)
        result.extra["outside"] = outside_share(result.mesh, image.width, image.height)
    return result
