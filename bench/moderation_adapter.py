"""A Custom Moderation adapter on real photographs: teaching the base model a label it cannot see.

    .venv/bin/python bench/moderation_adapter.py

"Gambling" (a top-level label of the taxonomy) has no signal in recognito's base moderation model,
so DetectModerationLabels never reports it. An adapter is trained, with the code the training flow
runs (moderation.base_confidences, backbone.embed, adapter.train with its out-of-fold cut at the
ConfidenceThreshold 50, adapter.evaluate), on photographs annotated as a user would:

- "Gambling": playing cards, ../shared/datasets/cards (the source's own train/test split);
- safe: the portraits of ../shared/datasets/faces (split by person: no one in both), foolbox's
  ImageNet photographs other than the cannon and scikit-image's photographs (split by photo).

Prints base model and adapter precision / recall / F1 and false positives on the held-out photos,
and the training and per-image times. README's adapter section quotes it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bench/custom_labels.py: no thrashing under load

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from moderation_classes import data_dir  # noqa: E402
from PIL import Image  # noqa: E402
from recognito.analysis.moderation import base_confidences, detectable_labels  # noqa: E402
from recognito.custom_labels.training import adapter, backbone  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CARDS_PER_SPLIT = 60
THRESHOLD = 50.0


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def photos() -> tuple[list[tuple[Path, list[str]]], list[tuple[Path, list[str]]]]:
    """(path, labels) to train on and to test on."""
    cards = {split: sorted((SHARED / "cards" / split).glob("*.jpg"))[:CARDS_PER_SPLIT] for split in ("train", "test")}
    people = sorted(p for p in (SHARED / "faces").iterdir() if p.is_dir())
    faces = {
        "train": [f for person in people[: len(people) // 2] for f in sorted(person.glob("*.*"))],
        "test": [f for person in people[len(people) // 2 :] for f in sorted(person.glob("*.*"))],
    }
    others = [p for p in sorted(data_dir("foolbox").glob("imagenet_*.jpg")) if not p.name.endswith("_471.jpg")]
    others += sorted(data_dir("skimage").glob("*.jpg")) + [
        data_dir("skimage") / name for name in ("astronaut.png", "coffee.png", "chelsea.png", "motorcycle_left.png")
    ]
    split = {"train": others[::2], "test": others[1::2]}
    return tuple(
        [(p, ["Gambling"]) for p in cards[s]] + [(p, []) for p in faces[s] + split[s]] for s in ("train", "test")
    )  # type: ignore[return-value]


def features(items: list[tuple[Path, list[str]]]) -> tuple[np.ndarray, np.ndarray, float]:
    """Pooled features, base confidences (N, detectable labels), seconds an image."""
    started = time.monotonic()
    images = [_read(path) for path, _ in items]
    names = [label["Name"] for label in detectable_labels()]
    base = np.array([[base_confidences(rgb)[n] for n in names] for rgb in images], np.float32)
    pooled = backbone.embed(images, maps=False).pooled
    return pooled, base, (time.monotonic() - started) / len(items)


def main() -> None:
    train, test = photos()
    names = [label["Name"] for label in detectable_labels()]
    print(f"training photos: {len(train)} ({sum(bool(labels) for _, labels in train)} Gambling); test: {len(test)}")
    pooled, base, per_image = features(train)
    started = time.monotonic()
    trained = adapter.train(pooled, base, names, [frozenset(labels) for _, labels in train], THRESHOLD, "7.0")
    fit = time.monotonic() - started
    test_pooled, test_base, _ = features(test)
    started = time.monotonic()
    backbone.embed([_read(test[0][0])], maps=False)
    extra = time.monotonic() - started
    found = adapter.evaluate(trained, test_pooled, test_base, names, [frozenset(labels) for _, labels in test])
    print(f"covered labels: {', '.join(trained.labels)}")
    print("label | model | precision | recall | F1 | TP | FP | FN")
    for row in found["PerLabel"] + [{"Label": "all (micro)", **found["Aggregate"]}]:
        for model in ("Baseline", "Adapter"):
            m = row[model]
            print(
                f"{row['Label']} | {model} | {m['Precision']:.3f} | {m['Recall']:.3f} | {m['F1Score']:.3f} | "
                f"{m['TruePositives']} | {m['FalsePositives']} | {m['FalseNegatives']}"
            )
    print(f"features {per_image:.2f} s an image (base model + backbone), heads fitted in {fit:.1f} s")
    print(f"DetectModerationLabels with an adapter: + {extra:.2f} s an image (the backbone's pooled features)")


if __name__ == "__main__":
    sys.exit(main())
