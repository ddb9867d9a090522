"""Refit FaceOccluded's head (``attributes.OCCLUDED_MODEL``) and score it, cross-validated by person.

    .venv/bin/python bench/face_occlusion.py

What AWS calls occluded: the eyes, nose or mouth covered (masks, dark sunglasses, phones, hands,
other objects) or cut off by the frame; eyeglasses and strands of hair are not.

Data:

- the 175 faces of bench/data/face_attributes_by_eye.csv whose ``occluded`` was called by eye (3
  occluded: too few to fit on). The 147 of ``../shared/datasets/faces`` are the fitting set; the
  package photos' faces (tests' photos) are held out and scored apart.
- occluded copies of the shared set's faces, a standard occlusion augmentation, each face once per
  kind, placed by a seeded random draw:
  ``card``: a real object pasted over the eyes, the nose and mouth, or one side of the face: a
  playing card cut by its box from the photos of ``../shared/datasets/cards`` (Apache-2.0, real
  photographs of cards held in hands), 45-75% of the face's height, turned up to 20 degrees;
  ``mask``: tests/ppe_scenes.py's painted surgical mask (a drawn mask on a real face; the photo is
  real, the mask is paint);
  ``cut``: the photo cropped so that the frame cuts the face at 35-50% of its width (the face
  "partially captured"; a real photo, cropped).
  Each composite is detected again (as DetectFaces would); a face CenterFace no longer finds is not
  a FaceDetail AWS could return, and is counted as lost, not scored.

Signals (``attributes.occlusion_features``, exactly what DetectFaces computes): the face-mask
classifier's logit on the face crop, FaceMesh's face-presence logit and the share of the mesh
outside the image. A logistic regression with a small L2 penalty, its two classes weighed equally
(bench/face_attribute_heads.py's ``fit``; the composites outnumber the real faces 3 to 1), is scored
by leave-one-person-out cross-validation (a person's real and occluded faces held out together),
and printed fitted on all the fitting faces, as ``attributes.OCCLUDED_MODEL`` holds it. Accuracies
are printed per kind with their counts; composites are composites, and are labelled so.

Tried and left out: the sunglasses score as a fourth signal got a weight of ~0.05 (no labelled face
wears dark lenses, so nothing here can weigh it); taking FaceOccluded to be at least as likely as
Sunglasses (AWS counts dark lenses as occluding) made 3 more of the 173 labelled faces wrong and
none right (bench/face_attributes.py): two Sunglasses false alarms and one lightly tinted pair,
which AWS says does not occlude.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "shared"), str(REPO / "layers" / "inference"), str(REPO / "tests")]
from _attribute_faces import faces, iou  # noqa: E402
from face_attribute_heads import auc, fit, person, predict  # noqa: E402

CARDS = REPO.parent / "shared" / "datasets" / "cards"
KINDS = ("card", "mask", "cut")
SEED = 14


def card_crops() -> list[np.ndarray]:
    """Every card of the cards set, cut from its photo by its labelled box."""
    from PIL import Image

    crops = []
    for split in ("train", "test"):
        for line in (CARDS / f"{split}.manifest").read_text().splitlines():
            entry = json.loads(line)
            name = entry["source-ref"].rsplit("/", 1)[1]
            with Image.open(CARDS / split / name) as photo:
                rgb = np.asarray(photo.convert("RGB"))
            for box in entry["bounding-box"]["annotations"]:
                x, y, w, h = box["left"], box["top"], box["width"], box["height"]
                if w >= 20 and h >= 20:
                    crops.append(rgb[y : y + h, x : x + w])
    return crops


def paste_card(rgb: np.ndarray, box: np.ndarray, points: np.ndarray, card: np.ndarray, rng) -> np.ndarray:  # noqa: ANN001
    """``rgb`` with ``card`` over the eyes, the nose and mouth, or one side of the face at ``box``."""
    from PIL import Image

    h = float(box[3] - box[1])
    target = rng.uniform(0.45, 0.75) * h
    scale = target / card.shape[0]
    piece = Image.fromarray(card).resize((max(2, round(card.shape[1] * scale)), max(2, round(target))))
    piece = piece.convert("RGBA").rotate(rng.uniform(-20, 20), expand=True, resample=Image.BILINEAR)
    where = rng.choice(["eyes", "mouth", "side"])
    if where == "eyes":
        centre = points[:2].mean(axis=0)
    elif where == "mouth":
        centre = (points[2] + points[3:].mean(axis=0)) / 2 + [0, 0.1 * h]
    else:
        centre = points[rng.integers(0, 2)] + [0, 0.25 * h]
    out = Image.fromarray(rgb)
    out.paste(piece, (round(centre[0] - piece.width / 2), round(centre[1] - piece.height / 2)), piece)
    return np.asarray(out.convert("RGB"))


def cut(rgb: np.ndarray, box: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """``rgb`` cropped so its left or right edge cuts the face, and the offset of the crop."""
    x1, _, x2, _ = box
    keep = rng.uniform(0.5, 0.65) * (x2 - x1)  # 35-50% of the face's width falls outside
    if rng.random() < 0.5:
        left = int(round(x2 - keep))
        return rgb[:, max(left, 0) :], np.array([max(left, 0), 0, max(left, 0), 0])
    right = int(round(x1 + keep))
    return rgb[:, :right], np.zeros(4)


def redetect(rgb: np.ndarray, box: np.ndarray):  # noqa: ANN201 - FaceDetection | None
    """The detection in ``rgb`` that is the face at ``box`` (IoU >= 0.3 of its visible part), or None."""
    from recognito_inference.face_detector import detect_faces

    visible = box.copy()
    visible[[0, 2]] = np.clip(visible[[0, 2]], 0, rgb.shape[1])
    best, best_iou = None, 0.3
    for d in detect_faces(rgb):
        overlap = iou(visible, np.asarray(d.box, dtype=np.float64))
        if overlap >= best_iou:
            best, best_iou = d, overlap
    return best


def features(rgb: np.ndarray, detection) -> np.ndarray:  # noqa: ANN001
    """occlusion_features of one face, as DetectFaces computes them."""
    from recognito.faces.attributes import NEEDS, occlusion_features
    from recognito_inference.face_attributes import analyze

    box = np.asarray(detection.box, dtype=np.float64)[None]
    points = np.asarray(detection.landmarks, dtype=np.float64)[None]
    return occlusion_features(analyze(rgb, box, points, NEEDS["FACE_OCCLUDED"]))[0]


def dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Features, labels, persons and kinds ("real", "held-out", or a KIND) of every scored face,
    and how many composites of each kind lost their face."""
    from ppe_scenes import MASK_COLOURS, masks_on

    rng = np.random.default_rng(SEED)
    cards = card_crops()
    x, y, groups, kinds = [], [], [], []
    lost = dict.fromkeys(KINDS, 0)
    for face in faces():
        label = face.labels["occluded"]
        if face.detection is None or label not in ("true", "false"):
            continue
        rgb = face.image.rgb
        real = face.name.startswith("shared:")
        x.append(features(rgb, face.detection))
        y.append(label == "true")
        groups.append(person(face.name))
        kinds.append("real" if real else "held-out")
        if not real or label == "true":
            continue
        box = np.asarray(face.detection.box, dtype=np.float64)
        points = np.asarray(face.detection.landmarks, dtype=np.float64)
        for kind in KINDS:
            if kind == "card":
                composite = paste_card(rgb, box, points, cards[rng.integers(len(cards))], rng)
                where = box
            elif kind == "mask":
                composite, _ = masks_on(rgb, str(rng.choice(list(MASK_COLOURS))))
                where = box
            else:
                composite, offset = cut(rgb, box, rng)
                composite = np.ascontiguousarray(composite)
                where = box - offset
            found = redetect(composite, where)
            if found is None:
                lost[kind] += 1
                continue
            x.append(features(composite, found))
            y.append(True)
            groups.append(person(face.name))
            kinds.append(kind)
    return np.array(x), np.array(y, dtype=np.float64), np.array(groups), np.array(kinds), lost


def cached_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """dataset(), kept under .cache/face_attributes keyed by the code that computes it (~8 min)."""
    import hashlib
    import inspect

    from _attribute_faces import CACHE
    from recognito.faces import attributes
    from recognito_inference import face_attributes

    # Keyed by the code that measures the faces, not by the fitted numbers this script prints.
    parts = [dataset, paste_card, cut, redetect, features, attributes.occlusion_features, attributes.sunglasses_score]
    parts += [face_attributes.run_mask, face_attributes.outside_share, face_attributes.trait_features]
    source = "".join(inspect.getsource(part) for part in parts) + repr(sorted(attributes.NEEDS["FACE_OCCLUDED"]))
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = CACHE / f"occlusion-{key}.npz"
    if path.is_file():
        d = np.load(path)
        return d["x"], d["y"], d["groups"], d["kinds"], json.loads(str(d["lost"]))
    x, y, groups, kinds, lost = dataset()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=x, y=y, groups=groups, kinds=kinds, lost=json.dumps(lost))
    return x, y, groups, kinds, lost


def main() -> None:
    from recognito.faces.attributes import OCCLUSION_FEATURES

    x, y, groups, kinds, lost = cached_dataset()
    fitting = kinds != "held-out"
    xf, yf, gf = x[fitting], y[fitting], groups[fitting]
    mean, std = xf.mean(axis=0), xf.std(axis=0) + 1e-12
    z = (xf - mean) / std
    held = np.empty(len(yf))
    for g in np.unique(gf):
        out = gf == g
        held[out] = predict(fit(z[~out], yf[~out], balanced=True), z[out])
    right = (held >= 0.5) == (yf == 1)
    print(f"{int(fitting.sum())} faces ({len(set(gf))} people), leave-one-person-out CV; lost: {lost}")
    print(f"all        accuracy {right.mean():.3f} ({right.sum()}/{len(yf)}), AUC {auc(held, yf):.3f}")
    for kind in ("real", *KINDS):
        sel = kinds[fitting] == kind
        for value in (0, 1):
            part = sel & (yf == value)
            if part.any():
                name = f"{kind} {'occluded' if value else 'clear'}"
                print(f"{name:<18} right {right[part].mean():.3f} ({right[part].sum()}/{part.sum()})")
    # Fitted on every fitting face, back in the features' own units.
    w = fit(z, yf, balanced=True)
    weights = w[1:] / std
    bias = float(w[0] - (weights * mean).sum())
    print(f"OCCLUDED_MODEL = ({bias:.3f}, ({', '.join(f'{v:.3f}' for v in weights)}))  # {OCCLUSION_FEATURES}")
    p = 1.0 / (1.0 + np.exp(-(bias + x[~fitting] @ weights)))
    ok = (p >= 0.5) == (y[~fitting] == 1)
    print(
        f"held-out package photos: right {ok.mean():.3f} ({ok.sum()}/{len(ok)}), "
        f"occluded {int(y[~fitting].sum())}: P {np.round(p[y[~fitting] == 1], 3).tolist()}"
    )


if __name__ == "__main__":
    main()
