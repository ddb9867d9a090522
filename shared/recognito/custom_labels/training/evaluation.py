"""Scores a model the way Rekognition Custom Labels reports it.

Per label: precision, recall and F1 at the label's *assumed threshold*, the confidence above which
the model calls the label (DetectCustomLabels' default MinConfidence). The threshold is chosen where
F1 peaks on predictions for images the model did not train on (out-of-fold predictions on the
training set, so the TEST set only measures). For detectors a prediction counts when its box
overlaps a true box of its label by IoU >= 0.5 (each true box matched once, best score first), and
each label also gets its average precision (area under the all-point interpolated
precision-recall curve, Pascal VOC's); mAP is their mean.

``summary`` lays the figures out as Rekognition's evaluation summary file (``Version`` 1,
``EvaluationDetails``, ``AggregatedEvaluationResults``, ``LabelEvaluationResults``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from recognito_inference.boxes import iou

MATCH_IOU = 0.5


@dataclass
class Scored:
    """One label's predictions over a set of images: each prediction's confidence (0..1) and whether
    it is right, and how many true instances there are."""

    scores: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    positives: int = 0

    def add(self, score: float, correct: bool) -> None:
        self.scores.append(float(score))
        self.correct.append(bool(correct))


def _sorted(scored: Scored) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-np.asarray(scored.scores, np.float64), kind="stable")
    return np.asarray(scored.scores)[order], np.asarray(scored.correct, bool)[order]


def choose_threshold(scored: Scored) -> float:
    """The confidence cut where F1 peaks (halfway to the next lower score, so that a small drift
    of the scores does not flip the last accepted prediction); 0.5 without any prediction."""
    scores, correct = _sorted(scored)
    if not len(scores) or not scored.positives:
        return 0.5
    tp = np.cumsum(correct)
    f1 = 2 * tp / (np.arange(1, len(scores) + 1) + scored.positives)
    best = int(np.argmax(f1))
    below = scores[best + 1] if best + 1 < len(scores) else 0.0
    return float((scores[best] + below) / 2)


def metrics_at(scored: Scored, threshold: float) -> dict[str, float]:
    scores, correct = _sorted(scored)
    accepted = scores >= threshold
    tp = int(correct[accepted].sum())
    precision = tp / max(1, int(accepted.sum()))
    recall = tp / max(1, scored.positives)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"Precision": precision, "Recall": recall, "F1Score": f1}


def average_precision(scored: Scored) -> float:
    """All-point interpolated AP (Pascal VOC 2010+)."""
    if not scored.positives:
        return 0.0
    _, correct = _sorted(scored)
    tp = np.cumsum(correct)
    precision = tp / np.arange(1, len(correct) + 1)
    recall = tp / scored.positives
    envelope = np.maximum.accumulate(np.concatenate([precision, [0.0]])[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float((steps * envelope[: len(steps)]).sum())


def score_classification(probs: np.ndarray, truth: list[set[str]], labels: tuple[str, ...]) -> dict[str, Scored]:
    """Every (image, label) pair is one prediction with that label's probability."""
    scored = {label: Scored() for label in labels}
    for row, true_labels in zip(probs, truth, strict=True):
        for k, label in enumerate(labels):
            scored[label].add(row[k], label in true_labels)
            scored[label].positives += label in true_labels
    return scored


def score_detection(
    detections: list[list[tuple[str, float, np.ndarray]]],
    truth: list[list[tuple[str, np.ndarray]]],
    labels: tuple[str, ...],
) -> dict[str, Scored]:
    """Detections (label, confidence, ratio box) matched to true (label, ratio box) per image."""
    scored = {label: Scored() for label in labels}
    for found, boxes in zip(detections, truth, strict=True):
        for label in labels:
            true_boxes = np.array([_corners(b) for name, b in boxes if name == label]).reshape(-1, 4)
            scored[label].positives += len(true_boxes)
            mine = sorted((d for d in found if d[0] == label), key=lambda d: -d[1])
            taken = np.zeros(len(true_boxes), bool)
            for _, confidence, box in mine:
                hit = False
                if len(true_boxes):
                    overlap = iou(_corners(box)[None], true_boxes)[0]
                    overlap[taken] = 0.0
                    best = int(np.argmax(overlap))
                    if overlap[best] >= MATCH_IOU:
                        taken[best] = hit = True
                scored[label].add(confidence, hit)
    return scored


def _corners(box: np.ndarray) -> np.ndarray:
    left, top, width, height = box
    return np.array([left, top, left + width, top + height])


def per_label(scored: dict[str, Scored], thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    return {label: {**metrics_at(s, thresholds[label]), "Threshold": thresholds[label]} for label, s in scored.items()}


def confusion(probs: np.ndarray, truth: list[set[str]], labels: tuple[str, ...]) -> list[dict]:
    """Rekognition's ConfusionMatrix: for each true label, the share of its images whose top label is each label."""
    rows = []
    top = probs.argmax(axis=1) if len(probs) else np.zeros(0, int)
    for true_label in labels:
        mine = [i for i, t in enumerate(truth) if true_label in t]
        for k, predicted in enumerate(labels):
            share = float(np.mean(top[mine] == k)) if mine else 0.0
            rows.append({"GroundTruthLabel": true_label, "PredictedLabel": predicted, "Value": share})
    return rows


def summary(
    *,
    version_arn: str,
    ended: str,
    labels: tuple[str, ...],
    training_images: int,
    testing_images: int,
    label_metrics: dict[str, dict[str, float]],
    label_images: dict[str, int],
    extra: dict,
) -> dict:
    """Rekognition's evaluation summary file; ``extra`` holds the kind's aggregate (ConfusionMatrix,
    or AveragePrecision and AverageRecall)."""
    values = list(label_metrics.values())
    aggregate = {
        name: float(np.mean([v[name] for v in values])) if values else 0.0
        for name in ("Precision", "Recall", "F1Score")
    }
    results = [
        {"Label": label, "Metrics": label_metrics[label], "NumberOfTestingImages": label_images.get(label, 0)}
        for label in sorted(label_metrics, key=lambda name: -label_metrics[name]["F1Score"])
    ]
    return {
        "Version": 1,
        "EvaluationDetails": {
            "ProjectVersionArn": version_arn,
            "EvaluationEndTimestamp": ended,
            "Labels": list(labels),
            "NumberOfTrainingImages": training_images,
            "NumberOfTestingImages": testing_images,
        },
        "AggregatedEvaluationResults": {**aggregate, **extra},
        "LabelEvaluationResults": results,
    }
