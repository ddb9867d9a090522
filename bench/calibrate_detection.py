"""Check detection, ``Confidence`` and the QualityFilter bars on the shared face set.

    .venv/bin/python bench/calibrate_detection.py

Data: ``../shared/datasets/faces`` (147 photos of 25 people, SOURCES.md; no test uses them), run
through the real pipeline by bench/_face_set.py (cached in .cache/face_set/). Every photo shows
its labelled person, so:

- Detection: the share of photos where a face is found, and the detector score and
  ``Confidence`` of the labelled person's face (the largest face: the photos are portraits, LFW's
  are centred on that person, which is checked). Extra faces are listed with where they are, for
  inspection: a bystander is a true detection, anything else a false one.
- QualityFilter: for the labelled person's face, the share each level (LOW, MEDIUM = AUTO, HIGH)
  leaves out and for which reason, with the distribution of each measured quantity. A bar that
  leaves out many of these ordinary photos, or leaves out faces that recognition handles as well
  as the ones it keeps, is mis-set: recognition is measured as each photo's mean cosine with the
  other photos of its person (bench/calibrate_similarity.py's genuine pairs).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

LEVELS = ("LOW", "MEDIUM", "AUTO", "HIGH")


def _quantiles(values: np.ndarray, spec: str = ".1f") -> str:
    q = np.percentile(values, [0, 5, 25, 50, 75, 95, 100])
    return "min/5/25/50/75/95%/max " + " ".join(f"{v:{spec}}" for v in q)


def detection(photos: list) -> None:
    """Detection rate, the labelled face's score and Confidence, and every extra face."""
    from recognito.faces.details import face_confidence

    found = [photo for photo in photos if photo.largest is not None]
    print(
        f"detection: a face in {len(found)}/{len(photos)} photos; none in {[p.path for p in photos if not p.largest]}"
    )
    scores = np.array([photo.largest.score for photo in found])
    confidence = np.array([photo.largest.detail["Confidence"] for photo in found])
    print(f"  labelled face's detector score: {_quantiles(scores, '.3f')}")
    print(f"  labelled face's Confidence:     {_quantiles(confidence, '.2f')}")
    for bar in (50, 90, 99, 99.9):
        print(f"    Confidence >= {bar}: {int((confidence >= bar).sum())}/{len(found)}")
    low = sorted(found, key=lambda p: p.largest.score)[:6]
    print(
        "  lowest: " + ", ".join(f"{p.path} {p.largest.score:.3f} ({p.largest.detail['Confidence']:.1f})" for p in low)
    )

    # LFW photos are centred on the labelled person: the largest face should hold the centre.
    lfw = [p for p in found if p.source == "krasserm/face-recognition"]
    off_centre = [p for p in lfw if not _holds(p.largest.detail["BoundingBox"], 0.5, 0.5)]
    print(f"  LFW (centred) photos whose largest face is not at the centre: {[p.path for p in off_centre]}")

    extra = [(p, face) for p in found for face in p.faces[1:]]
    print(f"  extra faces: {len(extra)} in {len({p.path for p, _ in extra})} photos (of {len(found)})")
    for photo, face in extra:
        box = face.detail["BoundingBox"]
        print(
            f"    {photo.path} ({photo.width}x{photo.height}): score {face.score:.3f} (Confidence "
            f"{face_confidence(face.score):.1f}), {box['Height'] * photo.height:.0f} px tall at "
            f"x {box['Left'] + box['Width'] / 2:.2f}, y {box['Top'] + box['Height'] / 2:.2f}; "
            f"labelled face {photo.largest.detail['BoundingBox']['Height'] * photo.height:.0f} px"
        )


def _holds(box: dict, x: float, y: float) -> bool:
    return box["Left"] <= x <= box["Left"] + box["Width"] and box["Top"] <= y <= box["Top"] + box["Height"]


def mean_genuine_cosine(photos: list) -> dict[str, float]:
    """Each embedded photo's mean cosine with the other photos of its person."""
    embedded = [p for p in photos if p.embedding is not None]
    result = {}
    for photo in embedded:
        others = [o.embedding for o in embedded if o.identity == photo.identity and o is not photo]
        result[photo.path] = float(np.mean(np.stack(others) @ photo.embedding)) if others else float("nan")
    return result


def quality(photos: list) -> None:
    """What each QualityFilter level leaves out of these photos, and whether that tracks recognition."""
    from recognito.faces.details import _BARS, quality_filter_reasons

    found = [photo for photo in photos if photo.largest is not None]
    details = [photo.largest.detail for photo in found]
    heights = np.array([d["BoundingBox"]["Height"] * p.height for d, p in zip(details, found, strict=True)])
    print("\nmeasured on the labelled faces:")
    print(f"  Brightness  {_quantiles(np.array([d['Quality']['Brightness'] for d in details]))}")
    print(f"  Sharpness   {_quantiles(np.array([d['Quality']['Sharpness'] for d in details]))}")
    print(f"  |Yaw|       {_quantiles(np.array([abs(d['Pose']['Yaw']) for d in details]))}")
    print(f"  |Pitch|     {_quantiles(np.array([abs(d['Pose']['Pitch']) for d in details]))}")
    print(f"  height px   {_quantiles(heights, '.0f')}")
    recognition = mean_genuine_cosine(photos)
    for level in LEVELS:
        bar = _BARS[level]
        print(
            f"\nQualityFilter {level}: Confidence >= {bar.confidence:.1f}, Brightness {bar.brightness_min}-"
            f"{bar.brightness_max}, Sharpness >= {bar.sharpness}, |Yaw| <= {bar.yaw}, |Pitch| <= {bar.pitch}, "
            f"height >= {bar.min_height_px} px"
        )
        left_out, reasons = [], Counter()
        for photo, detail in zip(found, details, strict=True):
            why = quality_filter_reasons(detail, level, (photo.width, photo.height))
            if why:
                left_out.append(photo)
                reasons.update(why)
        kept = [p for p in found if p not in left_out]
        print(f"  leaves out {len(left_out)}/{len(found)} ({len(left_out) / len(found):.1%}); reasons {dict(reasons)}")
        by_source = Counter(p.source for p in left_out)
        print(f"  by source: {dict(by_source)}")
        if left_out:
            print(
                f"  mean genuine cosine: left out {np.nanmean([recognition[p.path] for p in left_out]):.3f}, "
                f"kept {np.nanmean([recognition[p.path] for p in kept]):.3f}"
            )
            for photo in left_out:
                detail = photo.largest.detail
                print(
                    f"    {photo.path}: {quality_filter_reasons(detail, level, (photo.width, photo.height))} "
                    f"Brightness {detail['Quality']['Brightness']:.1f} Sharpness {detail['Quality']['Sharpness']:.1f} "
                    f"Yaw {detail['Pose']['Yaw']:.0f} Pitch {detail['Pose']['Pitch']:.0f} "
                    f"Confidence {detail['Confidence']:.1f}; genuine cosine {recognition[photo.path]:.3f}"
                )


def pose_and_recognition(photos: list) -> None:
    """Genuine pairs' miss rate at Similarity 80 by the estimated |Yaw| and |Pitch| of a photo's face."""
    from recognito.faces.similarity import cosine_for_similarity

    at_80 = cosine_for_similarity(80.0, "1.0")  # photos() embeds with face model version 1.0
    embedded = [p for p in photos if p.embedding is not None]
    print(f"\ngenuine pairs missed at Similarity 80 (cosine {at_80:.3f}), by the pose of one photo of the pair:")
    for angle, edges in (("Yaw", (0, 10, 20, 30, 40, 50, 90)), ("Pitch", (0, 10, 20, 30, 90))):
        for low, high in itertools.pairwise(edges):
            chosen = [p for p in embedded if low <= abs(p.largest.detail["Pose"][angle]) < high]
            cosines = [
                float(p.embedding @ o.embedding)
                for p in chosen
                for o in embedded
                if o.identity == p.identity and o is not p
            ]
            if cosines:
                missed = sum(c < at_80 for c in cosines)
                print(
                    f"  |{angle}| {low:>2}-{high:<2}: {len(chosen):>3} photos, {missed:>3}/{len(cosines):<3} "
                    f"pairs missed ({missed / len(cosines):.2f}), mean cosine {np.mean(cosines):.3f}"
                )


# Degraded copies of the set's photos: Gaussian blur of a fraction of the face's height, and
# darkened (x factor, then with or without noise of sd 3 levels) or washed-out
# (255 - (255 - x) * factor) pixels.
BLURS = (0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.08)
DARKEN = (0.5, 0.3, 0.2, 0.12, 0.07)
WASH_OUT = (0.4, 0.2, 0.1, 0.05)
SHRINK = (64, 48, 32, 24)  # the photo made smaller (on a grey canvas of its size), its face this many px tall


def _degraded(photo, root: Path, kind: str, amount: float) -> bytes:
    import io

    from PIL import Image, ImageFilter

    picture = Image.open(root / photo.path).convert("RGB")
    height = photo.largest.detail["BoundingBox"]["Height"] * photo.height
    if kind == "blur":
        picture = picture.filter(ImageFilter.GaussianBlur(amount * height))
    elif kind == "shrink":
        scale = min(1.0, amount / height)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        canvas = Image.new("RGB", picture.size, (128, 128, 128))  # the image keeps its size (>= 80 px)
        canvas.paste(
            picture.resize(size, Image.LANCZOS), ((picture.width - size[0]) // 2, (picture.height - size[1]) // 2)
        )
        picture = canvas
    else:
        pixels = np.asarray(picture, dtype=np.float32)
        pixels = pixels * amount if kind.startswith("darken") else 255.0 - (255.0 - pixels) * amount
        if kind == "darken+noise":  # a dim shot's sensor noise, which scaling a clean photo lacks
            pixels += np.random.default_rng(0).normal(0.0, 3.0, pixels.shape)
        picture = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _logistic_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of P(y) = 1 / (1 + exp(-(a + b x))), by maximum likelihood (Newton's method)."""
    design = np.stack([np.ones_like(x), x], axis=1)
    beta = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, design.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])


# What each level's Sharpness bar should leave out, as the chance that a genuine pair is missed at
# Similarity 80: HIGH keeps faces that match about as well as sharp ones (sharp photos of this set
# miss ~0.14), MEDIUM (= AUTO, IndexFaces' default) drops faces more likely missed than matched,
# LOW only faces that are all but never matched.
SHARPNESS_MISS = {"HIGH": 0.25, "MEDIUM": 0.5, "LOW": 0.9}


def fit_sharpness(faces: list, embedded: list, at_80: float) -> None:
    """The Sharpness at which a genuine pair's miss chance reaches each level's SHARPNESS_MISS."""
    from recognito.faces.details import _BARS

    x, y = [], []
    for face in faces:
        for other in embedded:
            if other.identity == face.identity and other.path != face.path:
                x.append(face.largest.detail["Quality"]["Sharpness"])
                y.append(float(face.embedding @ other.embedding) < at_80)
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    a, b = _logistic_fit(x / 100.0, y)
    print(
        f"\nlogistic fit of a genuine pair's miss at 80 on Sharpness ({len(x)} pairs of {len(faces)} intact and "
        f"blurred faces): P(miss) = 1 / (1 + exp(-({a:.2f} {b:+.2f} * Sharpness / 100)))"
    )
    for level, target in SHARPNESS_MISS.items():
        current = _BARS[level].sharpness
        fitted = 100.0 * (np.log(target / (1 - target)) - a) / b
        print(
            f"  {level:>6}: P(miss) {target:.2f} at Sharpness {fitted:.1f}; the bar now is {current:g} "
            f"(P(miss) there {1 / (1 + np.exp(-(a + b * current / 100))):.2f})"
        )


def degradation(photos: list, per_person: int) -> None:
    """Where Sharpness and Brightness fall, and recognition with them, as the set's photos are degraded.

    The set's photos are all sharp and well lit (see above), so the Sharpness and Brightness bars
    are checked on degraded copies of ``per_person`` photos of each person: each copy's face is
    measured, run through each level, and compared with the person's other (intact) photos.
    """
    from _face_set import FACE_SET, through_pipeline
    from recognito.faces.details import quality_filter_reasons
    from recognito.faces.similarity import cosine_for_similarity

    at_80 = cosine_for_similarity(80.0, "1.0")  # photos() embeds with face model version 1.0
    embedded = [p for p in photos if p.embedding is not None]
    chosen = [p for p in embedded if sum(o.identity == p.identity for o in embedded[: embedded.index(p)]) < per_person]
    print(f"\ndegraded copies of {len(chosen)} photos ({per_person} per person); genuine pairs with the intact others:")
    print(
        f"{'degradation':>16} {'found':>7} {'Sharpness':>15} {'Brightness':>15} {'missed at 80':>14} "
        + " ".join(f"{level:>6}" for level in ("LOW", "MEDIUM", "HIGH"))
        + "  (share left out)"
    )
    steps = [("none", 1.0)] + [("blur", b) for b in BLURS] + [("darken", d) for d in DARKEN]
    steps += [("darken+noise", d) for d in DARKEN[1:4]]
    steps += [("wash out", w) for w in WASH_OUT] + [("shrink", h) for h in SHRINK]
    sharp_or_blurred = []
    for kind, amount in steps:
        results = [
            through_pipeline(
                (FACE_SET / p.path).read_bytes() if kind == "none" else _degraded(p, FACE_SET, kind, amount),
                p.path, p.identity, p.source,
            )[0]
            for p in chosen
        ]  # fmt: skip
        found = [r for r in results if r.largest is not None]
        if kind in ("none", "blur"):
            sharp_or_blurred.extend(found)
        cosines = [
            float(r.embedding @ o.embedding)
            for r in found
            for o in embedded
            if o.identity == r.identity and o.path != r.path
        ]
        sharpness = np.array([r.largest.detail["Quality"]["Sharpness"] for r in found])
        brightness = np.array([r.largest.detail["Quality"]["Brightness"] for r in found])
        left_out = [
            sum(bool(quality_filter_reasons(r.largest.detail, level, (r.width, r.height))) for r in found) / len(found)
            for level in ("LOW", "MEDIUM", "HIGH")
        ]
        missed = sum(c < at_80 for c in cosines)
        print(
            f"{kind + ' ' + (f'{amount:g}' if kind != 'none' else ''):>16} {len(found):>3}/{len(results):<3} "
            f"{f'{np.median(sharpness):.0f} ({sharpness.min():.0f}-{sharpness.max():.0f})':>15} "
            f"{f'{np.median(brightness):.0f} ({brightness.min():.0f}-{brightness.max():.0f})':>15} "
            f"{f'{missed / len(cosines):.2f} ({missed})':>14} " + " ".join(f"{share:>6.2f}" for share in left_out)
        )
    fit_sharpness(sharp_or_blurred, embedded, at_80)


def main() -> None:
    from _face_set import photos

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-person", type=int, default=2, help="photos per person to degrade (0: none)")
    args = parser.parse_args()
    everything = list(photos())
    detection(everything)
    quality(everything)
    pose_and_recognition(everything)
    if args.per_person:
        degradation(everything, args.per_person)


if __name__ == "__main__":
    main()
