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

import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import _gcompris  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from recognito.custom_labels.training import backbone, model  # noqa: E402
from recognito.custom_labels.training.flow import evaluate_model  # noqa: E402
from recognito.custom_labels.training.model import Example  # noqa: E402
from recognito.images import decode_image  # noqa: E402

CARDS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cards"
FACES = CARDS.parent / "faces"
PER_RANK = 20
PER_CLASS = 20  # training photos a class for the visually distinct classes
MAX_TEST = 40  # testing photos a class at most (portraits and cards have hundreds)
GCOMPRIS = ("fishes", "tools", "monuments", "renewable")


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


def rgb_of(data: bytes) -> np.ndarray:
    """Any format Pillow reads (GCompris ships WebP, which DetectCustomLabels does not take)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def distinct_classes(rng: np.random.Generator) -> tuple[list, list]:
    """(train, test) lists of (rgb, label) over six visually distinct classes of real photographs:
    GCompris's fishes, tools, monuments and renewable energy (wind mills, dams, solar panels),
    portraits (../shared/datasets/faces, split by person: no one is in both) and playing cards
    (whole photos of ../shared/datasets/cards, train from its train split, test from its test split).
    PER_CLASS training photos a class, the rest (at most MAX_TEST) to test."""
    train, test = [], []

    def split(label: str, photos: list, held: list | None = None) -> None:
        order = rng.permutation(len(photos))
        train.extend((photos[i], label) for i in order[:PER_CLASS])
        rest = [photos[i] for i in order[PER_CLASS:]] if held is None else held
        test.extend((rgb, label) for rgb in [rest[i] for i in rng.permutation(len(rest))[:MAX_TEST]])

    for folder, photos in _gcompris.categories(GCOMPRIS).items():
        split(folder, [rgb_of(blob) for _, blob in photos])
    people: dict[str, list[np.ndarray]] = {}
    for path in sorted(FACES.glob("*/*.jp*g")):
        people.setdefault(path.parent.name, []).append(rgb_of(path.read_bytes()))
    names = [sorted(people)[i] for i in rng.permutation(len(people))]
    taken, first = 0, []
    while taken < PER_CLASS:  # whole people into training until it has PER_CLASS portraits
        first.append(names.pop(0))
        taken += len(people[first[-1]])
    split("portraits", [rgb for name in first for rgb in people[name]], [rgb for n in names for rgb in people[n]])
    cards = [rgb for rgb, _ in load("train")]
    split("playing cards", cards, [rgb for rgb, _ in load("test")])
    return train, test


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
    per_label = {f"F1 {label}": m["F1Score"] for label, m in sorted(metrics.items())}
    return {
        "F1": f1,
        "accuracy": accuracy,
        "train s": seconds,
        "train": len(train_images),
        "test": len(test_images),
        **per_label,
    }


def detection(train, test, rename=None, evaluate: bool = True) -> dict:
    def examples(items):
        return [
            Example(frozenset(rename or label for label, _ in boxes), tuple((rename or label, b) for label, b in boxes))
            for _, boxes in items
        ]

    train_examples, test_examples = examples(train), examples(test)
    labels = tuple(sorted({label for e in train_examples for label in e.labels}))
    started, cpu = time.monotonic(), time.process_time()
    embedded = backbone.embed([rgb for rgb, _ in train])
    embed_seconds = time.monotonic() - started
    trained = model.train("detection", embedded, train_examples, labels)
    times = {
        "train s": time.monotonic() - started,
        "features s": embed_seconds,
        "cpu s": time.process_time() - cpu,  # all threads: what an idle machine would take, about
        "train": len(train),
    }
    if not evaluate:
        return times
    metrics, extra, _, f1 = evaluate_model(trained, backbone.embed([rgb for rgb, _ in test]), test_examples)
    return {"mAP@0.5": extra["AveragePrecision"], "F1": f1, **times, "test": len(test)}


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
    order = rng.permutation(len(train))
    if "--time" in argv:  # run under taskset -c 0 and -c 0,1 (ONNX Runtime uses the cores it is given)
        load_average = os.getloadavg()
        rows["detection, 6 ranks (250 train): time"] = detection([train[i] for i in order[:250]], test, evaluate=False)
        rows["detection, 6 ranks (250 train): time"]["load"] = f"{load_average[0]:.1f}/{os.getloadavg()[0]:.1f}"
        rows["detection, 6 ranks (250 train): time"]["cores"] = len(os.sched_getaffinity(0))
        return report(rows)
    tr, te = distinct_classes(np.random.default_rng(0))
    rows["classification, 6 distinct classes (20 a class)"] = classification(
        [rgb for rgb, _ in tr], [label for _, label in tr], [rgb for rgb, _ in te], [label for _, label in te]
    )
    if "--classes" in argv:
        return report(rows)
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
    rows["detection, one class 'card' (100 train)"] = detection([train[i] for i in order[:100]], test, rename="card")
    if not quick:
        rows["detection, 6 ranks (296 train)"] = detection(train, test)
        rows["detection, 6 ranks (250 train): time"] = detection([train[i] for i in order[:250]], test)
    return report(rows)


def report(rows: dict[str, dict]) -> int:
    for name, row in rows.items():
        print(
            f"{name:45s} " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
