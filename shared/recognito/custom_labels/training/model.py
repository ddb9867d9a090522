"""A trained custom labels model: one of the two kinds, its labels' assumed thresholds, and how to
train it (with thresholds chosen out of fold), store it (one ``.npz``) and run it on embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recognito.custom_labels.training import classification, detection, evaluation
from recognito.custom_labels.training.backbone import Embedded
from recognito.custom_labels.training.linear import pack, unpack

CLASSIFICATION = "classification"
DETECTION = "detection"
FORMAT = "recognito-custom-labels-2"  # 2: detectors' region features gained the ring around each box

Box = tuple[str, np.ndarray]  # label, (left, top, width, height) as ratios
Found = tuple[str, float, np.ndarray | None]  # label, confidence 0..1, box or None


@dataclass(frozen=True)
class Example:
    """One training or testing image's truth: its labels, and its boxes for a detector."""

    labels: frozenset[str]
    boxes: tuple[Box, ...] = ()


@dataclass(frozen=True)
class Model:
    kind: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]  # label -> assumed threshold, 0..1
    classifier: classification.Classifier | None = None
    detector: detection.Detector | None = None

    def predict(self, embedded: Embedded) -> list[list[Found]]:
        """Every image's labels (and boxes) with their confidence, best first, no threshold applied."""
        if self.classifier is not None:
            probs = self.classifier.probabilities(embedded.pooled)
            return [
                sorted(((label, float(row[k]), None) for k, label in enumerate(self.labels)), key=lambda f: -f[1])
                for row in probs
            ]
        assert self.detector is not None
        return [
            self.detector.detect(embedded.fmap[n], embedded.size[n], float(embedded.scale[n]))
            for n in range(len(embedded.scale))
        ]

    def to_bytes(self) -> bytes:
        arrays = {
            "kind": np.array(self.kind),
            "labels": np.array(self.labels),
            "thresholds": np.array([self.thresholds[label] for label in self.labels], np.float64),
        }
        part = self.classifier if self.classifier is not None else self.detector
        arrays.update(part.arrays())
        return pack(FORMAT, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        arrays = unpack(data, FORMAT)
        kind = str(arrays["kind"])
        labels = tuple(str(label) for label in arrays["labels"])
        thresholds = dict(zip(labels, (float(t) for t in arrays["thresholds"]), strict=True))
        if kind == CLASSIFICATION:
            return cls(kind, labels, thresholds, classifier=classification.Classifier.from_arrays(arrays))
        return cls(kind, labels, thresholds, detector=detection.Detector.from_arrays(arrays))


def _fit(
    kind: str, embedded: Embedded, examples: list[Example], labels: tuple[str, ...], projection: np.ndarray | None
) -> Model:
    if kind == CLASSIFICATION:
        head = classification.train(embedded.pooled, [set(e.labels) for e in examples], labels)
        return Model(kind, labels, {}, classifier=head)
    detector = detection.train(embedded, [list(e.boxes) for e in examples], labels, projection)
    return Model(kind, labels, {}, detector=detector)


def score(model: Model, found: list[list[Found]], examples: list[Example]) -> dict[str, evaluation.Scored]:
    if model.kind == CLASSIFICATION:
        probs = np.array([[dict((f[0], f[1]) for f in image)[label] for label in model.labels] for image in found])
        return evaluation.score_classification(
            probs.reshape(-1, len(model.labels)), [set(e.labels) for e in examples], model.labels
        )
    return evaluation.score_detection(found, [list(e.boxes) for e in examples], model.labels)


def _subset(embedded: Embedded, index: np.ndarray) -> Embedded:
    return Embedded(embedded.pooled[index], embedded.fmap[index], embedded.scale[index], embedded.size[index])


def fold_of(n: int, folds: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n) % folds


def train(kind: str, embedded: Embedded, examples: list[Example], labels: tuple[str, ...], folds: int = 3) -> Model:
    """The model on all of ``examples``, with each label's assumed threshold where F1 peaks on
    out-of-fold predictions (each image predicted by a model that did not train on it)."""
    assignment = fold_of(len(examples), folds)
    projection = detection.projection_of(embedded) if kind == DETECTION else None
    merged = {label: evaluation.Scored() for label in labels}
    for fold in range(folds):
        held = np.nonzero(assignment == fold)[0]
        kept = np.nonzero(assignment != fold)[0]
        if not len(held) or not len(kept):
            continue
        part = _fit(kind, _subset(embedded, kept), [examples[i] for i in kept], labels, projection)
        scored = score(part, part.predict(_subset(embedded, held)), [examples[i] for i in held])
        for label, s in scored.items():
            merged[label].scores += s.scores
            merged[label].correct += s.correct
            merged[label].positives += s.positives
    full = _fit(kind, embedded, examples, labels, projection)
    thresholds = {label: evaluation.choose_threshold(merged[label]) for label in labels}
    return Model(kind, labels, thresholds, full.classifier, full.detector)
