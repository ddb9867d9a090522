"""DetectLabels: per-label precision and recall on photographs labelled by eye.

    .venv/bin/python bench/labels_accuracy.py [--min-confidence 55] [--show]

Data: ``bench/data/labels_by_eye.csv``, one row per photograph keyed by its sha256, with the labels
of VOCABULARY a person saw in it (looked at once, before any of these numbers were computed; none
of DetectLabels' thresholds was fitted on them). A label's ancestors count as present with it
("Dog" makes "Animal" present too), as DetectLabels returns them. The photographs stay where they
are: 20 ImageNet validation photos shipped by the foolbox wheel (MIT package; ImageNet's terms for
the photos), 10 of scikit-image's data (BSD), 10 playing-card photos of ``../shared/datasets/cards``
(Apache-2.0 repository) and 14 portraits of ``../shared/datasets/faces`` (MIT / Apache-2.0
repositories, see their SOURCES.md). Files are found by sha256; a missing one is reported.

Printed: for each label of VOCABULARY, the photographs it is in (n), true and false positives,
precision and recall at the request's MinConfidence (DetectLabels' default, 55), then the totals.
Only the vocabulary is scored: other labels DetectLabels returns are neither right nor wrong here.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "labels_by_eye.csv"
TAXONOMY = REPO / "shared" / "recognito" / "data" / "labels_taxonomy.json"
VOCABULARY = [
    "Person", "Animal", "Dog", "Cat", "Bird", "Insect", "Vehicle", "Car", "Motorcycle", "Furniture", "Chair",
    "Cup", "Bottle", "Footwear", "Clothing", "Suit", "Tie", "Glasses", "Food", "Fruit", "Plant", "Outdoors",
    "Building", "Musical Instrument", "Text", "Weapon",
]  # fmt: skip


def search_dirs() -> list[Path]:
    """Where the photographs are: ../shared/datasets, scikit-image's and foolbox's data folders."""
    dirs = [REPO.parent / "shared" / "datasets"]
    for package, sub in (("skimage", "data"), ("foolbox", "data")):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            dirs.append(Path(spec.submodule_search_locations[0]) / sub)
    return dirs


def photos_by_sha256(wanted: set[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in search_dirs():
        for path in folder.rglob("*"):
            if path.suffix.lower() in {".jpg", ".jpeg", ".png"} and path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest in wanted:
                    found.setdefault(digest, path)
    return found


def with_ancestors(names: set[str], parents: dict[str, list[str]]) -> set[str]:
    return names | {p for n in names for p in parents[n]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min-confidence", type=float, default=55.0)
    ap.add_argument("--show", action="store_true", help="print each photograph's labels, seen and returned")
    args = ap.parse_args()
    sys.path[:0] = [str(REPO / "shared"), str(REPO / "layers" / "inference")]
    from recognito.analysis.labels import detect_labels

    parents = {n: e["parents"] for n, e in json.loads(TAXONOMY.read_text())["labels"].items()}
    rows = list(csv.DictReader(DATA.open()))
    paths = photos_by_sha256({r["sha256"] for r in rows})
    missing = [r["source"] for r in rows if r["sha256"] not in paths]
    vocab = set(VOCABULARY)
    tp = dict.fromkeys(VOCABULARY, 0)
    fp, fn = dict(tp), dict(tp)
    for row in rows:
        if row["sha256"] not in paths:
            continue
        seen = with_ancestors({n for n in row["labels"].split(";") if n}, parents) & vocab
        image = {"Bytes": paths[row["sha256"]].read_bytes()}
        response = detect_labels({"Image": image, "MinConfidence": args.min_confidence})
        said = {label["Name"] for label in response["Labels"]} & vocab
        for name in said & seen:
            tp[name] += 1
        for name in said - seen:
            fp[name] += 1
        for name in seen - said:
            fn[name] += 1
        if args.show:
            print(f"{row['source']}: seen {sorted(seen)}; returned {sorted(said)}")
    scored = len(rows) - len(missing)
    print(f"{scored} photographs labelled by eye ({DATA.relative_to(REPO)}), MinConfidence {args.min_confidence:g}")
    if missing:
        print(f"missing ({len(missing)}): {', '.join(missing)}")
    print("| label | in photos | returned right | returned wrong | precision | recall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in VOCABULARY:
        n = tp[name] + fn[name]
        said = tp[name] + fp[name]
        precision = f"{tp[name] / said:.2f}" if said else "-"
        recall = f"{tp[name] / n:.2f}" if n else "-"
        print(f"| {name} | {n} | {tp[name]} | {fp[name]} | {precision} | {recall} |")
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    print(
        f"| all | {all_tp + all_fn} | {all_tp} | {all_fp} | {all_tp / max(1, all_tp + all_fp):.2f} | "
        f"{all_tp / max(1, all_tp + all_fn):.2f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
