"""Custom labels accuracy and training time on ../shared/datasets/cards (playing cards, 6 ranks).

    .venv/bin/python bench/custom_labels.py [--quick]

The same code the training flow runs (backbone.embed, model.train with its out-of-fold thresholds,
flow.evaluate_model), on the source's own train/test split of 363 photographs:

- classification, whole photographs of one card (the rank is the label), 20 training photos a rank,
  tested on every other one-card photo; and the same on the cards' own boxes cropped out (a card
  filling the picture);
- detection mAP@0.5: one class ("card") from 100 training photos, and the six ranks from all 296;
- training time (features + heads) for 250 images.

Prints a table; README's custom labels section quotes it.
"""

from __future__ import annotations

import os

# On a shared, oversubscribed machine OpenBLAS's threads thrash (eigh 10x slower with 2 threads
# than with 1 under load); a Lambda function has its cores to itself.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from recognito.custom_labels.training import backbone, model  # noqa: E402
from recognito.custom_labels.training.flow import evaluate_model  # noqa: E402
from recognito.custom_labels.training.model import Example  # noqa: E402
from recognito.images import decode_image  # noqa: E402

CARDS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cards"
PER_RANK = 20


def load(split: str) -> list[tuple[np.ndarray, list[tuple[str, np.ndarray]]]]:
    items = []
    for line in (CARDS / f"{split}.manifest").read_text().splitlines():
        doc = json.loads(line)
        size = doc["bounding-box"]["image_size"][0]
        names = doc["bounding-box-metadata"]["class-map"]
        rgb = decode_image((CARDS / split / Path(doc["source-ref"]).name).read_bytes()).rgb
        boxes = [
            (
                names[str(a["class_id"])],
                np.array([a["left"], a["top"], a["width"], a["height"]], np.float32)
                / [size["width"], size["height"], size["width"], size["height"]],
            )
            for a in doc["bounding-box"]["annotations"]
        ]
        items.append((rgb, boxes))
    return items


def crop(rgb: np.ndarray, box: np.ndarray, margin: float = 0.1) -> np.ndarray:
    h, w = rgb.shape[:2]
    left, top, width, height = box * [w, h, w, h]
    x1, y1 = int(max(0, left - margin * width)), int(max(0, top - margin * height))
    x2, y2 = int(min(w, left + (1 + margin) * width)), int(min(h, top + (1 + margin) * height))
    return rgb[y1:y2, x1:x2]


def classification(train_images, train_labels, test_images, test_labels) -> dict:
    labels = tuple(sorted(set(train_labels)))
    started = time.monotonic()
    embedded = backbone.embed(train_images, maps=False)
    trained = model.train("classification", embedded, [Example(frozenset([label])) for label in train_labels], labels)
    seconds = time.monotonic() - started
    test = backbone.embed(test_images, maps=False)
    metrics, _, _, f1 = evaluate_model(trained, test, [Example(frozenset([label])) for label in test_labels])
    top = trained.classifier.probabilities(test.pooled).argmax(1)
    accuracy = float(np.mean([labels[k] == label for k, label in zip(top, test_labels, strict=True)]))
    return {"F1": f1, "accuracy": accuracy, "train s": seconds, "train": len(train_images), "test": len(test_images)}


def detection(train, test, rename=None) -> dict:
    def examples(items):
        return [
            Example(frozenset(rename or label for label, _ in boxes), tuple((rename or label, b) for label, b in boxes))
            for _, boxes in items
        ]

    train_examples, test_examples = examples(train), examples(test)
    labels = tuple(sorted({label for e in train_examples for label in e.labels}))
    started = time.monotonic()
    embedded = backbone.embed([rgb for rgb, _ in train])
    embed_seconds = time.monotonic() - started
    trained = model.train("detection", embedded, train_examples, labels)
    seconds = time.monotonic() - started
    metrics, extra, _, f1 = evaluate_model(trained, backbone.embed([rgb for rgb, _ in test]), test_examples)
    return {
        "mAP@0.5": extra["AveragePrecision"],
        "F1": f1,
        "train s": seconds,
        "features s": embed_seconds,
        "train": len(train),
        "test": len(test),
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    train, test = load("train"), load("test")
    rng = np.random.default_rng(0)
    singles = [(rgb, boxes[0]) for rgb, boxes in train + test if len(boxes) == 1]
    ranks = sorted({label for _, (label, _) in singles})
    chosen = set()
    for rank in ranks:
        mine = [i for i, (_, (label, _)) in enumerate(singles) if label == rank]
        chosen.update(rng.permutation(mine)[:PER_RANK].tolist())
    rows = {}
    tr = [singles[i] for i in sorted(chosen)]
    te = [singles[i] for i in range(len(singles)) if i not in chosen]
    rows["classification, whole photos (6 ranks)"] = classification(
        [rgb for rgb, _ in tr], [b[0] for _, b in tr], [rgb for rgb, _ in te], [b[0] for _, b in te]
    )
    rows["classification, card crops (6 ranks)"] = classification(
        [crop(rgb, b[1]) for rgb, b in tr],
        [b[0] for _, b in tr],
        [crop(rgb, b[1]) for rgb, b in te],
        [b[0] for _, b in te],
    )
    order = rng.permutation(len(train))
    rows["detection, one class 'card' (100 train)"] = detection([train[i] for i in order[:100]], test, rename="card")
    if not quick:
        rows["detection, 6 ranks (296 train)"] = detection(train, test)
        rows["detection, 6 ranks (250 train): time"] = detection([train[i] for i in order[:250]], test)
    for name, row in rows.items():
        print(
            f"{name:45s} " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
