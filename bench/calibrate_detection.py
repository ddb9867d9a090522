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


def main() -> None:
    from _face_set import photos

    everything = list(photos())
    detection(everything)
    quality(everything)


if __name__ == "__main__":
    main()
