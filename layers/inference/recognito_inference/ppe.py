"""Protective equipment on people: body parts from pose keypoints, and one measure per cover type.

Every part is a real measurement; how far each can be trusted was measured on photographs and
composites (layers/inference/build/README.md, "Protective equipment"):

- People and keypoints: MoveNet MultiPose (``recognito_inference.pose``).
- Body parts are placed from keypoints, scaled by the face's own size: FACE from the eyes, ears
  and nose; HEAD the skull above and around it; each hand beyond its wrist along the forearm
  (elbow to wrist). Left and right are the person's own, as in AWS.
- FACE_COVER: a mask / no-mask classifier (MobileNetV2, ``face-mask.onnx``) on the face crop and
  on the same crop moved down over the chin (where a mask pulled down sits), the higher of both.
- HEAD_COVER: an ImageNet classifier (EfficientNet-Lite2, ``efficientnet-lite2.onnx``) on a crop
  from the skull to the mouth, summing the probabilities of its head-cover classes (crash helmet,
  football helmet, hats, caps), calibrated by a logistic. No helmet / hard-hat model ships with
  weights under a usable license (see shared/MODELS.md); ImageNet's classes were learnt from real
  photographs of helmets and hats.
- HAND_COVER: no glove model or data set could be had, so it is measured: the share of the hand
  region whose colour is skin (the same person's, from the face, or any skin tone). A bare hand
  shows skin; a gloved one does not. A hidden hand (in a pocket, behind an object) shows none
  either, so the cover's confidence is scaled by how clearly the wrist is seen.
- Each cover's box and whether it covers its part are found in the image, apart from those
  measures (``face_cover_region``, ``head_cover_region``, ``hand_cover_region``): the region of
  the cover's colour grown from where it must pass, and where that region lies against the
  keypoints (the nose and mouth for a mask, the crown for a helmet, the hand's skin for a glove).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from recognito_inference.boxes import areas, intersections
from recognito_inference.pose import Person, detect_people
from recognito_inference.sessions import get_session

MASK_MODEL = "face-mask"
IMAGENET_MODEL = "efficientnet-lite2"

FACE, HEAD, LEFT_HAND, RIGHT_HAND = "FACE", "HEAD", "LEFT_HAND", "RIGHT_HAND"
FACE_COVER, HEAD_COVER, HAND_COVER = "FACE_COVER", "HEAD_COVER", "HAND_COVER"

MIN_POINT_SCORE = 0.2  # a keypoint counts as seen from here (MoveNet's own demos use 0.2-0.3)

# ImageNet-1k classes that are things worn on the head (index: name). Graduation cap is left out:
# it came up at 0.09 on a bare head above a dark suit.
HEAD_COVER_CLASSES = {
    433: "swimming cap",
    439: "military hat (bearskin or shako)",
    452: "poke bonnet",
    515: "cowboy hat",
    518: "crash helmet",
    560: "football helmet",
    715: "Pickelhaube",
    793: "shower cap",
    808: "sombrero",
}
IMAGENET_SIZE = 260
IMAGENET_MEAN, IMAGENET_STD = 0.498, 0.502
MASK_SIZE = 224


@dataclass(frozen=True)
class Equipment:
    """One item of protective equipment on a body part; box in pixels, probabilities 0..1."""

    type: str
    box: np.ndarray  # (4,) x1, y1, x2, y2
    score: float
    covers: float


@dataclass
class BodyPart:
    """A body part placed from keypoints: its region in pixels and how well it was seen (0..1)."""

    name: str
    box: np.ndarray  # (4,) x1, y1, x2, y2
    score: float
    equipment: list[Equipment] = field(default_factory=list)
    cover_probability: float | None = None
    """The measure behind this part's cover decision, kept even below the reporting threshold."""


@dataclass
class PersonEquipment:
    person: Person
    parts: dict[str, BodyPart]


# ------------------------------------------------------------------------------------ geometry
def _seen(person: Person, *names: str) -> list[tuple[np.ndarray, float]]:
    return [pt for pt in (person.point(n) for n in names) if pt[1] >= MIN_POINT_SCORE]


def _face_frame(person: Person) -> tuple[np.ndarray, float, float] | None:
    """(centre of the eyes, face width in px, score) from the eyes, ears and nose; None unseen.

    The width is the largest of: ear to ear, 2.2 x eye to eye (an adult face is ~2.2 times its
    interpupillary distance; this matched CenterFace's box on the astronaut within 2 px), and
    2.5 x nose to the eyes' centre (a face seen in profile keeps that distance).
    """
    eyes = _seen(person, "left_eye", "right_eye")
    nose = _seen(person, "nose")
    if not nose or not eyes:
        return None
    eye_centre = np.mean([p for p, _ in eyes], axis=0)
    widths = [2.5 * float(np.linalg.norm(nose[0][0] - eye_centre))]
    if len(eyes) == 2:
        widths.append(2.2 * float(np.linalg.norm(eyes[0][0] - eyes[1][0])))
    ears = _seen(person, "left_ear", "right_ear")
    if len(ears) == 2:
        widths.append(float(np.linalg.norm(ears[0][0] - ears[1][0])))
    scores = [s for _, s in eyes + nose]
    return eye_centre, max(widths), float(np.mean(scores))


def _box(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


def _hand(person: Person, side: str, face_width: float | None) -> BodyPart | None:
    """The hand beyond the wrist: a hand is ~0.7 forearm lengths long, so its centre is placed
    0.35 forearm lengths past the wrist, in a square 0.8 forearm lengths wide (fingers spread
    sideways). Without the elbow, a square around the wrist sized from the face."""
    wrist, wrist_score = person.point(f"{side}_wrist")
    if wrist_score < MIN_POINT_SCORE:
        return None
    elbow, elbow_score = person.point(f"{side}_elbow")
    if elbow_score >= MIN_POINT_SCORE and np.linalg.norm(wrist - elbow) > 1:
        forearm = wrist - elbow
        centre = wrist + 0.35 * forearm
        side_px = 0.8 * float(np.linalg.norm(forearm))
    elif face_width:
        centre, side_px = wrist, 1.0 * face_width
    else:
        return None
    name = LEFT_HAND if side == "left" else RIGHT_HAND
    return BodyPart(name, _box(centre[0], centre[1], side_px, side_px), wrist_score)


def body_parts_in_view(person: Person, width: int, height: int) -> dict[str, BodyPart]:
    """``body_parts`` without those mostly outside a width x height picture (they cannot be judged)."""
    return {k: p for k, p in body_parts(person).items() if _inside_share(p.box, width, height) >= 0.6}


def body_parts(person: Person) -> dict[str, BodyPart]:
    """The body parts of one person that its keypoints show (a subset of FACE, HEAD, hands).

    FACE runs from the forehead to the chin (0.45 face widths above the eyes, 0.8 below: CenterFace's
    box on the astronaut within 5 px), HEAD from the top of the skull (0.95 above the eyes) to the
    chin, 1.3 face widths wide for the hair and ears.
    """
    parts: dict[str, BodyPart] = {}
    frame = _face_frame(person)
    face_width = None
    if frame is not None:
        (ex, ey), face_width, score = frame
        parts[FACE] = BodyPart(FACE, _box(ex, ey + 0.175 * face_width, face_width, 1.25 * face_width), score)
        parts[HEAD] = BodyPart(HEAD, _box(ex, ey - 0.075 * face_width, 1.3 * face_width, 1.75 * face_width), score)
    for side in ("left", "right"):
        hand = _hand(person, side, face_width)
        if hand is not None:
            parts[hand.name] = hand
    return parts


def _inside_share(box: np.ndarray, width: int, height: int) -> float:
    inside = float(intersections(box, np.array([0, 0, width, height], dtype=np.float64))[0, 0])
    return inside / max(float(areas(box)[0]), 1e-6)


def _crop(image: Image.Image, box: np.ndarray, size: int, margin: float = 0.0) -> np.ndarray:
    """A square crop around ``box`` (its longer side, plus ``margin`` of it on each side),
    resized to size x size; outside the image is black."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * (0.5 + margin)
    square = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
    return np.asarray(image.crop(square).resize((size, size), Image.BILINEAR))


def face_crop(image: Image.Image, face: BodyPart) -> np.ndarray:
    return _crop(image, face.box, MASK_SIZE, 0.05)


def head_crop(image: Image.Image, head: BodyPart) -> np.ndarray:
    """The skull down to the mouth, with a little around it: whatever sits on the head fills much
    of the crop, the suit and tie below the chin do not (with the whole head and its shoulders, a
    bare head in a suit reached 0.09 on the head-cover classes, and drawn hard hats separated
    less: ROC AUC 0.981 against 0.989)."""
    x1, y1, x2, y2 = head.box
    h = y2 - y1
    return _crop(image, np.array([x1, y1 - 0.05 * h, x2, y1 + 0.75 * h]), IMAGENET_SIZE, 0.1)


# --------------------------------------------------------------------------------- classifiers
def mask_probabilities(faces: list[np.ndarray]) -> np.ndarray:
    """P(mask) for 224x224 RGB face crops (the classifier's softmax: mask, no mask)."""
    if not faces:
        return np.zeros(0, np.float32)
    x = np.stack(faces).astype(np.float32) / 127.5 - 1.0
    return get_session(MASK_MODEL).run(None, {"input": x})[0][:, 0]


def head_cover_scores(heads: list[np.ndarray]) -> np.ndarray:
    """Sum of the ImageNet head-cover classes' softmax for 260x260 RGB crops around heads."""
    if not heads:
        return np.zeros(0, np.float32)
    x = (np.stack(heads).astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    logits = get_session(IMAGENET_MODEL).run(None, {"input": x.transpose(0, 3, 1, 2)})[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    return probs[:, list(HEAD_COVER_CLASSES)].sum(axis=1)


def head_cover_probability(score: float) -> float:
    """P(head cover) from the head-cover classes' summed probability: logistic in its log, fitted
    on bare heads in photographs and the same heads with hard hats drawn on (bench/
    detect_protective_equipment.py). ImageNet's classifier gives a drawn hard hat 0.05-0.4 (its
    helmets are photographs), bare heads up to 0.09: the midpoint sits above the bare heads,
    trading missed hats for no false ones on them."""
    return float(1.0 / (1.0 + np.exp(-HEAD_SLOPE * (np.log(max(score, 1e-6)) - HEAD_MIDPOINT))))


HEAD_MIDPOINT = float(np.log(0.1))  # summed probability at which a head is as likely covered as not
HEAD_SLOPE = 4.0


def ycbcr(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.float32)
    y = 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    cb = 128 - 0.168736 * rgb[:, 0] - 0.331264 * rgb[:, 1] + 0.5 * rgb[:, 2]
    cr = 128 + 0.5 * rgb[:, 0] - 0.418688 * rgb[:, 1] - 0.081312 * rgb[:, 2]
    return np.stack([y, cb, cr], axis=1)


# Chroma of human skin over all skin tones (Chai & Ngan 1999: Cb 77..127, Cr 133..173).
SKIN_CB, SKIN_CR = (77.0, 127.0), (133.0, 173.0)


def in_skin_range(ycc: np.ndarray, slack: float = 0.0) -> np.ndarray:
    """Which Y/Cb/Cr rows (..., 3) have the chroma of skin of any tone (``slack`` widens it)."""
    cb, cr = ycc[..., 1], ycc[..., 2]
    return (
        (cb >= SKIN_CB[0] - slack)
        & (cb <= SKIN_CB[1] + slack)
        & (cr >= SKIN_CR[0] - slack)
        & (cr <= SKIN_CR[1] + slack)
    )


def skin_model(rgb: np.ndarray, face: BodyPart) -> tuple[np.ndarray, np.ndarray] | None:
    """(median Cb/Cr, spread) of this person's skin, from the band of the face between the brows
    and the nose's tip (rarely under a mask or a helmet); None if it does not look like skin."""
    x1, y1, x2, y2 = face.box
    w, h = x2 - x1, y2 - y1
    band = rgb[
        max(0, int(y1 + 0.2 * h)) : max(0, int(y1 + 0.5 * h)),
        max(0, int(x1 + 0.2 * w)) : max(0, int(x1 + 0.8 * w)),
    ]
    if band.size < 30:
        return None
    ycc = ycbcr(band)
    ycc = ycc[(ycc[:, 0] > 40) & (ycc[:, 0] < 245)]
    if len(ycc) < 10:
        return None
    centre = np.median(ycc[:, 1:], axis=0)
    if not (SKIN_CB[0] <= centre[0] <= SKIN_CB[1] and SKIN_CR[0] <= centre[1] <= SKIN_CR[1]):
        return None
    spread = np.maximum(1.4826 * np.median(np.abs(ycc[:, 1:] - centre), axis=0), 3.0)
    return centre, spread


def skin_share(rgb: np.ndarray, box: np.ndarray, skin: tuple[np.ndarray, np.ndarray] | None) -> float:
    """Share of the pixels in ``box`` whose chroma is skin: this person's (within 2.5 spreads of
    the face's) or any skin tone's. Either counts: hands are often lit unlike the face, and a
    skin-coloured background only errs towards "bare"."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    region = rgb[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)]
    if region.size == 0:
        return 0.0
    ycc = ycbcr(region)
    lit = ycc[:, 0] > 30
    ok = in_skin_range(ycc)
    if skin is not None:
        centre, spread = skin
        ok |= (((ycc[:, 1:] - centre) / spread) ** 2).sum(axis=1) <= 2.5**2
    return float(np.mean(ok & lit))


def hand_cover_probability(share: float) -> float:
    """P(gloved) from the hand region's skin share: a steep logistic set by hand, not fitted (too
    few clearly seen hands to fit on). In our photographs the bare hands showed 0.17-0.94 skin,
    except Biden's hand tucked under his arm (0.03, wrist score 0.23: reported under 50); hands
    recoloured as gloves, 5 of the 7 clearly seen ones under 0.06 (bench/detect_protective_equipment.py)."""
    return float(1.0 / (1.0 + np.exp(HAND_SLOPE * (share - HAND_MIDPOINT))))


WRIST_SEEN = 0.5  # wrist keypoint score from which a hand counts as plainly in view
HAND_MIDPOINT = 0.06  # skin share at which a hand is as likely gloved as bare
HAND_SLOPE = 60.0


# ------------------------------------------------------------------------ where each cover sits
# A cover is found in the image, not placed as a fraction of its body part: within a window around
# the part, the pixels that are not the person's skin are grown, by colour, from a seed where the
# cover must pass (the face's midline below the eyes, the crown above the brow, the hand's
# centre); the cover is the connected region of the seed's colour. Its box is that region's, and
# whether it covers the part is judged from where the region lies against the keypoints.
SEGMENT_SIDE = 72  # the window is resampled to this many px on its long side (noise, speed)
COLOUR_SPREADS = 3.0  # a pixel is the seed's colour within this many of its robust spreads
MIN_CHROMA_SPREAD, MIN_LUMA_SPREAD = 2.0, 20.0


@dataclass(frozen=True)
class CoverRegion:
    """A cover found on a body part: its box (px) and the share (0..1) of what it must cover that
    it covers (the nose and mouth for a mask, the crown for a helmet, the hand for a glove)."""

    box: np.ndarray
    covers: float


@dataclass(frozen=True)
class _Window:
    ycc: np.ndarray  # (h, w, 3) Y/Cb/Cr of the window, resampled
    origin: np.ndarray  # its top-left corner in image px
    scale: float  # image px per window px

    def at(self, xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, np.float32) - self.origin) / self.scale

    def box(self, region: np.ndarray) -> np.ndarray:
        """The region's extent in image px, leaving out thin spurs (rows or columns holding under a
        quarter of its widest) that leak along edges into what lies around the cover."""
        lo_hi = []
        for axis in (0, 1):  # columns (x), then rows (y)
            counts = region.sum(axis=axis)
            kept = np.nonzero(counts >= 0.25 * counts.max())[0]
            lo_hi.append((kept[0], kept[-1] + 1))
        (x1, x2), (y1, y2) = lo_hi
        return (np.array([x1, y1, x2, y2], np.float32) * self.scale + np.tile(self.origin, 2)).astype(np.float32)

    def disc(self, centre: np.ndarray, radius_px: float) -> np.ndarray:
        h, w = self.ycc.shape[:2]
        cx, cy = self.at(centre)
        yy, xx = np.mgrid[0:h, 0:w] + 0.5
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= max(radius_px / self.scale, 1.0) ** 2


def _window(rgb: np.ndarray, box: np.ndarray) -> _Window | None:
    h, w = rgb.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    scale = max(x2 - x1, y2 - y1) / SEGMENT_SIDE
    size = (max(2, round((x2 - x1) / scale)), max(2, round((y2 - y1) / scale)))
    patch = np.asarray(Image.fromarray(np.ascontiguousarray(rgb[y1:y2, x1:x2])).resize(size, Image.BILINEAR))
    return _Window(ycbcr(patch).reshape(size[1], size[0], 3), np.array([x1, y1], np.float32), scale)


def _skin_like(ycc: np.ndarray, skin: tuple[np.ndarray, np.ndarray] | None, *, any_tone: bool) -> np.ndarray:
    """Which pixels are this person's skin (within 3 spreads of the face's chroma) or, with
    ``any_tone`` or no skin model, of any skin tone; near-black pixels have no reliable chroma and
    count as not skin."""
    ok = in_skin_range(ycc) if any_tone or skin is None else np.zeros(ycc.shape[:-1], bool)
    if skin is not None:
        centre, spread = skin
        ok |= (((ycc[..., 1:] - centre) / spread) ** 2).sum(axis=-1) <= 3.0**2
    return ok & (ycc[..., 0] > 30)


def _grow(seed: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The pixels of ``allowed`` 4-connected to ``seed`` (geodesic dilation until it stops)."""
    region = seed & allowed
    while True:
        grown = region.copy()
        grown[1:] |= region[:-1]
        grown[:-1] |= region[1:]
        grown[:, 1:] |= region[:, :-1]
        grown[:, :-1] |= region[:, 1:]
        grown &= allowed
        if np.array_equal(grown, region):
            return region
        region = grown


def _same_colour(ycc: np.ndarray, seed: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The candidate pixels of the seed pixels' colour, connected to the seed. Colour is luma and
    chromaticity (chroma over luma: a shaded side of the same plastic or cloth keeps it, its Cb/Cr
    do not), each within COLOUR_SPREADS robust spreads of the seed's median; luma twice as loosely."""
    y = np.maximum(ycc[..., :1], 8.0)
    features = np.concatenate([ycc[..., :1], 128.0 * (ycc[..., 1:] - 128.0) / y], axis=-1)
    values = features[seed]
    centre = np.median(values, axis=0)
    spread = 1.4826 * np.median(np.abs(values - centre), axis=0)
    spread = np.maximum(spread, [MIN_LUMA_SPREAD, MIN_CHROMA_SPREAD, MIN_CHROMA_SPREAD])
    spread[0] *= 2.0
    near = (((features - centre) / spread) ** 2).sum(axis=-1) <= COLOUR_SPREADS**2
    return _grow(seed & near, candidates & near)


def _filled(region: np.ndarray) -> np.ndarray:
    """The region with each row filled between its outermost pixels: the holes that pleats,
    seams, a logo or a highlight leave in a cover are still covered by it."""
    cols = np.arange(region.shape[1])
    any_row = region.any(axis=1)
    first = np.where(any_row, region.argmax(axis=1), region.shape[1])
    last = np.where(any_row, region.shape[1] - 1 - region[:, ::-1].argmax(axis=1), -1)
    return (cols >= first[:, None]) & (cols <= last[:, None])


def _runs(flags: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in ``flags`` at least ``min_length`` long."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(a, b) for a, b in zip(starts, stops, strict=True) if b - a >= min_length]


def _first_cover(
    win: _Window, candidates: np.ndarray, strip: np.ndarray, min_run: float, min_area: float, *, upward: bool
) -> np.ndarray | None:
    """The first colour region, going down the strip (or up it, ``upward``), seeded from a run of
    rows in which most of ``strip`` is a candidate and large enough (``min_area`` px²) to be a
    cover: a strip crosses small things first (lips, teeth, a brim's shadow), and beyond the cover
    larger ones (a collar, hair, the background)."""
    rows = (candidates & strip).sum(axis=1) >= 0.6 * np.maximum(strip.sum(axis=1), 1)
    rows &= strip.any(axis=1)
    runs = _runs(rows, max(2, round(min_run / win.scale)))
    for a, b in reversed(runs) if upward else runs:
        seed = np.zeros_like(candidates)
        seed[a:b] = candidates[a:b] & strip[a:b]
        region = _same_colour(win.ycc, seed, candidates)
        if region.sum() * win.scale**2 >= min_area:
            return region
    return None


def _strip(win: _Window, x: float, half_width: float) -> np.ndarray:
    h, w = win.ycc.shape[:2]
    cx = win.at(np.array([x, 0.0]))[0]
    cols = np.abs(np.arange(w) + 0.5 - cx) <= max(half_width / win.scale, 1.0)
    return np.broadcast_to(cols, (h, w)).copy()


def _band(win: _Window, box: np.ndarray) -> np.ndarray:
    """A window mask of the image box ``box`` (x1, y1, x2, y2 px)."""
    h, w = win.ycc.shape[:2]
    (x1, y1), (x2, y2) = win.at(box[:2]), win.at(box[2:])
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    return (xx >= x1) & (xx <= x2) & (yy >= y1) & (yy <= y2)


def face_cover_region(
    rgb: np.ndarray, person: Person, skin: tuple[np.ndarray, np.ndarray] | None
) -> CoverRegion | None:
    """The mask on a face, if one is found below the eyes: what covers the nose and mouth is the
    least of the shares of a disc around each that the mask's region holds. The nose is MoveNet's
    keypoint; the mouth, 1.4 times as far below the eyes as the nose (an adult face's proportions).
    The window reaches well under the chin, so a mask pulled down is found there too."""
    frame = _face_frame(person)
    nose, nose_score = person.point("nose")
    if frame is None or nose_score < MIN_POINT_SCORE:
        return None
    eyes, fw, _ = frame
    mouth = eyes + 1.4 * (nose - eyes)
    win = _window(rgb, np.array([eyes[0] - 0.8 * fw, eyes[1], eyes[0] + 0.8 * fw, eyes[1] + 1.8 * fw]))
    if win is None:
        return None
    candidates = ~_skin_like(win.ycc, skin, any_tone=False)
    strip = _strip(win, float(nose[0]), 0.12 * fw)
    strip &= _band(win, np.array([-np.inf, nose[1] - 0.5 * abs(nose[1] - eyes[1]), np.inf, np.inf]))
    region = _first_cover(win, candidates, strip, 0.1 * fw, 0.15 * fw**2, upward=False)
    if region is None:
        return None
    # A mask is no taller than a face is wide: what the region reaches beyond that, from its top
    # down, is something of its colour that it touches (a collar, a dress, the hair).
    top = int(np.argmax(region.any(axis=1)))
    region[top + round(1.1 * fw / win.scale) :] = False
    radius = 0.1 * fw
    covered = _filled(region)
    covers = min(float(covered[win.disc(point, radius)].mean()) for point in (nose, mouth))
    return CoverRegion(win.box(region), covers)


def head_cover_region(
    rgb: np.ndarray, person: Person, skin: tuple[np.ndarray, np.ndarray] | None
) -> CoverRegion | None:
    """What sits on the head, if found above the brow: seeded on the midline between the brow
    (0.25 face widths above the eyes) and the top of the skull; it covers the head by the share of
    the crown (0.45 to 0.9 face widths above the eyes, 0.7 wide) it holds."""
    frame = _face_frame(person)
    if frame is None:
        return None
    eyes, fw, _ = frame
    win = _window(rgb, np.array([eyes[0] - 1.0 * fw, eyes[1] - 1.6 * fw, eyes[0] + 1.0 * fw, eyes[1]]))
    if win is None:
        return None
    candidates = ~_skin_like(win.ycc, skin, any_tone=False)
    strip = _strip(win, float(eyes[0]), 0.15 * fw)
    strip &= _band(win, np.array([-np.inf, eyes[1] - 1.3 * fw, np.inf, eyes[1] - 0.25 * fw]))
    region = _first_cover(win, candidates, strip, 0.1 * fw, 0.15 * fw**2, upward=True)
    if region is None:
        return None
    crown = _band(win, np.array([eyes[0] - 0.35 * fw, eyes[1] - 0.9 * fw, eyes[0] + 0.35 * fw, eyes[1] - 0.45 * fw]))
    return CoverRegion(win.box(region), float(_filled(region)[crown].mean()) if crown.any() else 0.0)


def hand_cover_region(
    rgb: np.ndarray, hand: BodyPart, skin: tuple[np.ndarray, np.ndarray] | None
) -> CoverRegion | None:
    """The glove on a hand: the region, in 1.3 times the hand's box, of the colour of what is not
    skin in the hand's central half; it covers the hand by its share of the hand box's glove and
    skin pixels together (a bare hand holding something shows both)."""
    x1, y1, x2, y2 = hand.box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 0.65 * max(x2 - x1, y2 - y1)
    win = _window(rgb, np.array([cx - half, cy - half, cx + half, cy + half]))
    if win is None:
        return None
    skin_px = _skin_like(win.ycc, skin, any_tone=True)
    quarter = 0.25 * max(x2 - x1, y2 - y1)
    centre = _band(win, np.array([cx - quarter, cy - quarter, cx + quarter, cy + quarter]))
    seed = centre & ~skin_px
    if seed.sum() < 4:
        return None
    region = _same_colour(win.ycc, seed, ~skin_px)
    inside = _band(win, hand.box)
    glove, bare = int((region & inside).sum()), int((skin_px & inside).sum())
    return CoverRegion(win.box(region), glove / max(glove + bare, 1))


# ------------------------------------------------------------------------------------ pipeline
LOWERED_MASK_SHIFT = 0.35  # the second mask crop, moved down by this share of the face's height


def lowered_face_crop(image: Image.Image, face: BodyPart) -> np.ndarray:
    """The face crop moved down over the chin and neck: a mask pulled down under the chin is
    mostly outside the face crop, and the classifier sees it here (bare faces stayed under 0.4 in
    both crops on our photographs: bench/detect_protective_equipment.py)."""
    x1, y1, x2, y2 = face.box
    shift = LOWERED_MASK_SHIFT * (y2 - y1)
    return _crop(image, np.array([x1, y1 + shift, x2, y2 + shift]), MASK_SIZE, 0.05)


def analyze(rgb: np.ndarray, *, max_people: int = 15, min_cover: float = 0.5) -> list[PersonEquipment]:
    """People, their body parts and the covers found on them (probability >= ``min_cover``).

    A cover is reported only where it is also found in the image (``*_cover_region``): its box and
    whether it covers the part come from there, its confidence from the detection measure."""
    height, width = rgb.shape[:2]
    image = Image.fromarray(rgb)
    results = []
    for person in detect_people(rgb, max_people=max_people):
        results.append(PersonEquipment(person, body_parts_in_view(person, width, height)))

    faces = [r.parts[FACE] for r in results if FACE in r.parts]
    heads = [r.parts[HEAD] for r in results if HEAD in r.parts]
    on_face = mask_probabilities([face_crop(image, f) for f in faces])
    masks = np.maximum(on_face, mask_probabilities([lowered_face_crop(image, f) for f in faces]))
    # Whether a mask covers the nose and mouth: where its region lies against the keypoints, and
    # the classifier on the face itself (a mask under the chin is mostly outside that crop), in
    # equal parts: MoveNet's face points can be off by a third of a face on turned heads.
    face_crop_says = {id(f): float(p) for f, p in zip(faces, on_face, strict=True)}
    hats = [head_cover_probability(s) for s in head_cover_scores([head_crop(image, h) for h in heads])]
    for part, p in [*zip(faces, masks, strict=True), *zip(heads, hats, strict=True)]:
        part.cover_probability = float(p)

    for r in results:
        skin = skin_model(rgb, r.parts[FACE]) if FACE in r.parts else None
        for name in (LEFT_HAND, RIGHT_HAND):
            if name in r.parts:
                share = skin_share(rgb, r.parts[name].box, skin)
                r.parts[name].cover_probability = hand_cover_probability(share)
        for part in r.parts.values():
            kind = {FACE: FACE_COVER, HEAD: HEAD_COVER}.get(part.name, HAND_COVER)
            p = part.cover_probability
            if p is not None and kind == HAND_COVER:
                # No skin is also what a hidden hand shows: only as sure as the wrist is seen.
                p *= min(1.0, part.score / WRIST_SEEN)
            if p is None or p < min_cover:
                continue
            if kind == FACE_COVER:
                found = face_cover_region(rgb, r.person, skin)
            elif kind == HEAD_COVER:
                found = head_cover_region(rgb, r.person, skin)
            else:
                found = hand_cover_region(rgb, part, skin)
            if found is None:
                continue
            covers = found.covers
            if kind == FACE_COVER:
                covers = 0.5 * (covers + face_crop_says[id(part)])
            part.equipment.append(Equipment(kind, found.box, p, covers))
    return results
