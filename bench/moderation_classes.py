"""DetectModerationLabels beyond Explicit: how often Weapons, Alcoholic Beverages, Pills and
Paraphernalia fire on photographs without those things, and their scores on the one real positive.

    .venv/bin/python bench/moderation_classes.py

The labels come from the ImageNet classifier's probabilities (recognito.analysis.moderation): a
heuristic, not calibrated on moderation data. Negatives: the 147 portraits of ../shared/datasets/faces,
the 363 playing-card photos of ../shared/datasets/cards (Apache-2.0 repository), foolbox's ImageNet
photos other than the cannon (MIT package) and scikit-image's photographs (BSD). Positive: foolbox's
cannon photo as shipped, mirrored, filling the left end of a 1500 x 600 grass photo, and pasted on
grass at 80 / 60 / 30 % of the frame's height.
Printed per label: photographs at or over 50 (the default MinConfidence), the highest score, and the
positives' scores.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
LABELS = ("Weapons", "Alcoholic Beverages", "Pills", "Drugs & Tobacco Paraphernalia & Use")


def data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(spec.submodule_search_locations[0]) / "data"


def negatives() -> list[Path]:
    shared = REPO.parent / "shared" / "datasets"
    paths = sorted((shared / "faces").glob("*/*.*")) + sorted((shared / "cards").glob("*/*.jpg"))
    paths += [p for p in sorted(data_dir("foolbox").glob("imagenet_*.jpg")) if not p.name.endswith("_471.jpg")]
    skimage = data_dir("skimage")
    names = ("astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")
    return paths + [skimage / n for n in (*names, "coins.png", "page.png", "retina.jpg", "hubble_deep_field.jpg")]


def positives() -> dict[str, np.ndarray]:
    cannon = np.asarray(Image.open(data_dir("foolbox") / "imagenet_13_471.jpg").convert("RGB"))
    grass = np.asarray(Image.open(data_dir("skimage") / "grass.png").convert("RGB").resize((900, 600)))
    wide = np.asarray(Image.fromarray(grass).resize((1500, 600))).copy()
    wide[:, :600] = np.asarray(Image.fromarray(cannon).resize((600, 600)))
    found = {"cannon": cannon, "cannon mirrored": cannon[:, ::-1].copy(), "cannon at a wide photo's left": wide}
    for share in (0.8, 0.6, 0.3):
        field, side = grass.copy(), int(600 * share)
        top, left = (600 - side) // 2, (900 - side) // 2
        field[top : top + side, left : left + side] = np.asarray(Image.fromarray(cannon).resize((side, side)))
        found[f"cannon on grass, {share:.0%}"] = field
    return found


def main() -> int:
    sys.path[:0] = [str(REPO / "shared"), str(REPO / "layers" / "inference")]
    from recognito.analysis.moderation import class_scores, label_confidences, squares
    from recognito_inference.classifier import classify
    from recognito_inference.moderation import NSFWJS_CLASSES

    # Only the classifier runs: the labels measured here come from it alone, and the unsafe-content
    # models (Explicit) would triple the time. Their signals are zero.
    unsafe = {"opennsfw.nsfw": 0.0, **{f"nsfwjs.{c}": 0.0 for c in NSFWJS_CLASSES}}

    def confidences(rgb: np.ndarray) -> dict[str, float]:
        return label_confidences([{**unsafe, **class_scores(classify(square))} for square in squares(rgb)])

    paths = negatives()
    scores = {name: [] for name in LABELS}
    for path in paths:
        conf = confidences(np.asarray(Image.open(path).convert("RGB")))
        for name in LABELS:
            scores[name].append(conf[name])
    print(f"{len(paths)} photographs without weapons, alcohol, pills or syringes")
    print("| label | at or over 50 | highest |")
    print("| --- | ---: | ---: |")
    for name in LABELS:
        values = np.array(scores[name])
        print(f"| {name} | {int((values >= 50).sum())} of {len(values)} | {values.max():.1f} |")
    print("\n| positive | Weapons |")
    print("| --- | ---: |")
    for name, rgb in positives().items():
        print(f"| {name} | {confidences(rgb)['Weapons']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
