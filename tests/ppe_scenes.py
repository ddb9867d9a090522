"""Protective equipment drawn onto real photographs of people, for DetectProtectiveEquipment.

No photograph of a person in a hard hat, a surgical mask or gloves ships in any package we can
use (see layers/inference/build/README.md), so equipment is painted onto real people where it
would be worn, placed from a face detector independent of the pipeline under test:

- ``add_mask``: a surgical-style mask (pleated, shaded, in one of several colours) from just below
  the eyes to under the chin, placed from CenterFace's box and five landmarks.
- ``add_hard_hat``: a shaded dome with a ridge and a brim, from above the skull down to the brow.
- ``add_gloves``: the skin inside each hand region recoloured to a glove colour, keeping the
  shading (a nitrile or work glove on the same hand). The hand regions come from the pose model
  and the skin from a generic skin-colour range: this exercises the decision on realistic hands,
  it is no independent test of a glove detector.

Composites are honest about what they are: tests use them for "the pipeline reacts to the
equipment where it is worn", and reliability numbers measured on them are labelled as such.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MASK_COLOURS = {"blue": (160, 195, 225), "white": (236, 236, 232), "black": (38, 38, 42), "green": (120, 170, 150)}
HAT_COLOURS = {
    "yellow": (245, 200, 25),
    "white": (240, 240, 236),
    "orange": (240, 120, 30),
    "red": (200, 35, 35),
    "blue": (40, 80, 190),
}
GLOVE_COLOURS = {"blue": (60, 110, 200), "black": (35, 35, 40), "white": (230, 230, 225), "orange": (230, 120, 40)}


def _faces(rgb: np.ndarray) -> list:
    from recognito_inference.face_detector import detect_faces

    return detect_faces(rgb)


def _shade(layer: np.ndarray, alpha: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """A vertical light-to-dark gradient over the painted rows, so the paint is not flat."""
    rows = np.nonzero(alpha.max(axis=1) > 0)[0]
    if len(rows) == 0:
        return layer
    ramp = np.ones(layer.shape[0], np.float32)
    ramp[rows[0] : rows[-1] + 1] = np.linspace(top, bottom, rows[-1] - rows[0] + 1)
    return np.clip(layer * ramp[:, None, None], 0, 255)


def _blend(rgb: np.ndarray, paint: Image.Image, alpha: Image.Image, top: float, bottom: float) -> np.ndarray:
    a = np.asarray(alpha.filter(ImageFilter.GaussianBlur(1.2)), np.float32)[..., None] / 255.0
    layer = _shade(np.asarray(paint, np.float32), a[..., 0], top, bottom)
    rng = np.random.default_rng(0)
    layer = layer + rng.normal(0, 3.0, layer.shape)  # fabric / plastic grain
    return np.clip(rgb * (1 - a) + layer * a, 0, 255).astype(np.uint8)


def add_mask(rgb: np.ndarray, colour: str = "blue") -> tuple[np.ndarray, int]:
    """``rgb`` with a mask on every face CenterFace finds; returns the image and the face count."""
    out, boxes = masks_on(rgb, colour)
    return out, len(boxes)


def masks_on(rgb: np.ndarray, colour: str = "blue", *, lowered: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """``rgb`` with a mask on every face CenterFace finds, and each mask's box (x1, y1, x2, y2 px).

    Worn, the mask runs from just below the eyes to under the chin; ``lowered``, it is pulled down
    under the chin: its top edge just below the lower lip, over the chin and the neck, so the nose
    and mouth are bare (the same mask, moved down by its top's distance to below the mouth)."""
    out = rgb.copy()
    boxes = []
    for face in _faces(rgb):
        x1, y1, x2, y2 = face.box
        w, h = x2 - x1, y2 - y1
        eyes_y = float(face.landmarks[:2, 1].mean())
        nose_y = float(face.landmarks[2, 1])
        top = eyes_y + 0.35 * (nose_y - eyes_y)
        mouth_y = float(face.landmarks[3:, 1].mean())
        shift = (mouth_y + 0.1 * h - top) if lowered else 0.0
        polygon = [
            (x1 - 0.02 * w, top + 0.05 * h),
            (x1 + 0.3 * w, top - 0.02 * h),
            (x2 - 0.3 * w, top - 0.02 * h),
            (x2 + 0.02 * w, top + 0.05 * h),
            (x2 - 0.04 * w, y2 - 0.12 * h),
            ((x1 + x2) / 2, y2 + 0.04 * h),
            (x1 + 0.04 * w, y2 - 0.12 * h),
        ]
        polygon = [(x, y + shift) for x, y in polygon]
        alpha = Image.new("L", (rgb.shape[1], rgb.shape[0]), 0)
        ImageDraw.Draw(alpha).polygon(polygon, fill=255)
        paint = Image.new("RGB", alpha.size, MASK_COLOURS[colour])
        draw = ImageDraw.Draw(paint)
        pleat = tuple(int(c * 0.82) for c in MASK_COLOURS[colour])
        for k in (0.3, 0.45, 0.6):  # pleats
            yy = top + shift + k * (y2 - top)
            draw.line([(x1, yy), (x2, yy)], fill=pleat, width=max(1, int(h / 60)))
        out = _blend(out, paint, alpha, 1.05, 0.85)
        boxes.append(_clipped(polygon, rgb.shape))
    return out, boxes


def _clipped(points: list[tuple[float, float]], shape: tuple[int, ...]) -> np.ndarray:
    """The box of ``points`` inside an image of ``shape`` (x1, y1, x2, y2 px)."""
    xy = np.asarray(points, np.float32)
    lo = np.maximum(xy.min(axis=0), 0)
    hi = np.minimum(xy.max(axis=0), [shape[1], shape[0]])
    return np.concatenate([lo, hi]).astype(np.float32)


def _lit_dome(shape: tuple[int, int], dome: tuple[float, ...], colour: tuple[int, ...]) -> np.ndarray:
    """The dome's colour lit as a half-ellipsoid (light from the upper left, a specular spot), so
    it reads as a hard plastic shell rather than a flat shape."""
    h, w = shape
    x1, y1, x2, y2 = dome
    cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xx - cx) / rx, (yy - cy) / ry
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    light = np.array([-0.45, -0.6, 0.66])
    light /= np.linalg.norm(light)
    diffuse = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    spec = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1) ** 40
    lit = np.asarray(colour, np.float32) * (0.35 + 0.75 * diffuse)[..., None] + 255 * 0.5 * spec[..., None]
    return np.clip(lit, 0, 255)


def add_hard_hat(rgb: np.ndarray, colour: str = "yellow") -> tuple[np.ndarray, int]:
    """``rgb`` with a hard hat on every face CenterFace finds; returns the image and the count."""
    out, boxes = hard_hats_on(rgb, colour)
    return out, len(boxes)


def hard_hats_on(
    rgb: np.ndarray, colour: str = "yellow", *, raised: float = 0.0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``rgb`` with a hard hat on every face CenterFace finds, and each hat's box (px). ``raised``
    lifts the hat off the brow by that share of the face's height (pushed back on the head)."""
    out = rgb.astype(np.float32)
    faces = _faces(rgb)
    h_img, w_img = rgb.shape[:2]
    base = np.asarray(HAT_COLOURS[colour], np.float32)
    boxes = []
    for face in faces:
        x1, y1, x2, y2 = face.box
        w, h = x2 - x1, y2 - y1
        cx = (x1 + x2) / 2
        brow = y1 + (0.1 - raised) * h
        dome = (cx - 0.64 * w, brow - 0.62 * h, cx + 0.64 * w, brow + 0.62 * h)
        brim = (cx - 0.8 * w, brow - 0.06 * h, cx + 0.8 * w, brow + 0.08 * h)
        # A shadow of the brim on the forehead, then the brim, then the shell over it.
        shadow = Image.new("L", (w_img, h_img), 0)
        ImageDraw.Draw(shadow).ellipse((brim[0], brim[1], brim[2], brim[3] + 0.12 * h), fill=110)
        s = np.asarray(shadow.filter(ImageFilter.GaussianBlur(max(1.0, float(h) / 30))), np.float32)[..., None] / 255
        out = out * (1 - s)
        brim_alpha = Image.new("L", (w_img, h_img), 0)
        ImageDraw.Draw(brim_alpha).ellipse(brim, fill=255)
        a = np.asarray(brim_alpha.filter(ImageFilter.GaussianBlur(1.0)), np.float32)[..., None] / 255
        out = out * (1 - a) + base * 0.8 * a
        dome_alpha = Image.new("L", (w_img, h_img), 0)
        draw = ImageDraw.Draw(dome_alpha)
        draw.pieslice(dome, 180, 360, fill=255)
        a = np.asarray(dome_alpha.filter(ImageFilter.GaussianBlur(1.0)), np.float32)[..., None] / 255
        shell = _lit_dome((h_img, w_img), dome, HAT_COLOURS[colour])
        ridge = np.abs(np.arange(w_img, dtype=np.float32) - cx) < max(1.5, w / 30)
        shell[:, ridge] *= 0.85
        out = out * (1 - a) + shell * a
        boxes.append(_clipped([(brim[0], dome[1]), (brim[2], brim[3])], rgb.shape))
    return np.clip(out, 0, 255).astype(np.uint8), boxes


def add_gloves(rgb: np.ndarray, colour: str = "blue") -> tuple[np.ndarray, int]:
    """``rgb`` with the skin of every visible hand recoloured as a glove; returns the image and
    the number of hands gloved."""
    out, boxes = gloves_on(rgb, colour)
    return out, len(boxes)


def gloves_on(rgb: np.ndarray, colour: str = "blue") -> tuple[np.ndarray, list[np.ndarray]]:
    """``rgb`` with the skin of every visible hand recoloured as a glove, and the box (px) of
    each glove's recoloured pixels."""
    from recognito_inference.pose import detect_people
    from recognito_inference.ppe import LEFT_HAND, RIGHT_HAND, body_parts_in_view, in_skin_range, ycbcr

    out = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    glove = np.array(GLOVE_COLOURS[colour], np.float32)
    boxes = []
    for person in detect_people(rgb):
        for name, part in body_parts_in_view(person, w, h).items():
            if name not in (LEFT_HAND, RIGHT_HAND):
                continue
            # 1.3 x the hand region, so the glove does not stop at the region's edge.
            cx, cy = (part.box[0] + part.box[2]) / 2, (part.box[1] + part.box[3]) / 2
            half = 0.65 * (part.box[2] - part.box[0])
            xa, xb = max(0, int(cx - half)), min(w, int(cx + half))
            ya, yb = max(0, int(cy - half)), min(h, int(cy + half))
            if xb <= xa or yb <= ya:
                continue
            region = out[ya:yb, xa:xb]
            ycc = ycbcr(region).reshape(yb - ya, xb - xa, 3)
            skin = in_skin_range(ycc, slack=5.0)
            if skin.mean() < 0.02:
                continue
            luma = ycc[..., 0:1] / max(float(ycc[..., 0][skin].mean()), 1.0)
            region[skin] = np.clip(glove * luma, 0, 255)[skin]
            rows, cols = np.nonzero(skin)
            boxes.append(
                np.array([xa + cols.min(), ya + rows.min(), xa + cols.max() + 1, ya + rows.max() + 1], np.float32)
            )
    return out.astype(np.uint8), boxes


def mirrored(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def resized(rgb: np.ndarray, long_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = long_side / max(h, w)
    return np.asarray(Image.fromarray(rgb).resize((round(w * s), round(h * s)), Image.BILINEAR))
