"""Custom Moderation adapters: a learned correction of DetectModerationLabels' base model.

An adapter is trained from a Custom Moderation manifest (``content-moderation-groundtruth``: the
taxonomy labels each image shows, none for a safe image). It covers the labels the user annotated
(with their parents: "Weapons" implies "Violence") and the labels the base model reports at the
version's ``ConfidenceThreshold`` on any training image: an image annotated without such a label
is a false positive to suppress, as AWS asks users to annotate every label that matters on every
image. For each covered label it learns an additive correction of the base model's log-odds from
the backbone's pooled features of the image (the DetectLabels classifier's 1280 features), a
sigmoid regression with the base's log-odds as fixed offset. A label the base cannot see starts
at the log-odds of 1% and is learned from the features alone; with no training evidence the
correction stays near zero and the base's answer stands.

The adapted probability is then mapped so that the cut where F1 peaks on out-of-fold predictions
(each training image scored by a model that did not train on it) lands on ``ConfidenceThreshold``:
calling DetectModerationLabels with ``MinConfidence`` at that threshold makes the decisions the
adapter was fitted for. Labels the adapter does not cover keep the base model's confidence, and a
parent is raised to its most confident child as in the base response.

Evaluation (the TEST dataset, or a fifth of the training images when there is none) counts, per
covered label, the base model's and the adapter's true and false positives and false negatives at
``ConfidenceThreshold``; ``F1Score`` is the adapter's micro-averaged F1 over the covered labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recognito.analysis.moderation_taxonomy import taxonomy
from recognito.custom_labels.training import evaluation
from recognito.custom_labels.training.linear import LinearHead, fit_sigmoid, pack, unpack
from recognito.custom_labels.training.model import fold_of

FORMAT = "recognito-moderation-adapter-1"
DEFAULT_THRESHOLD = 50.0  # DetectModerationLabels' default MinConfidence
FLOOR = 0.01  # base confidences are clipped to [1%, 99%] before their log-odds
L2 = 1e-2  # as the custom labels classifier (chosen on the cards bench, not on the tests' images)
FOLDS = 3


def taxonomy_labels() -> list[dict[str, Any]]:
    return taxonomy()["labels"]


def with_ancestors(names: set[str] | frozenset[str]) -> set[str]:
    """The labels and every parent above them."""
    parent = {label["Name"]: label["ParentName"] for label in taxonomy_labels()}
    found: set[str] = set()
    for name in names:
        while name:
            found.add(name)
            name = parent.get(name, "")
    return found


def in_taxonomy_order(names: set[str]) -> list[str]:
    return [label["Name"] for label in taxonomy_labels() if label["Name"] in names]


def unknown_labels(names: set[str]) -> list[str]:
    """The names that are not labels of the moderation taxonomy."""
    known = {label["Name"] for label in taxonomy_labels()}
    return sorted(names - known)


def _log_odds(confidence: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(confidence, np.float64) / 100.0, FLOOR, 1.0 - FLOOR)
    return np.log(p / (1.0 - p)).astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class Adapter:
    labels: tuple[str, ...]  # the covered labels, taxonomy order
    threshold: float  # ConfidenceThreshold, 0..100
    cuts: np.ndarray  # (K,) each label's probability cut, mapped onto ``threshold``
    head: LinearHead  # pooled features -> the correction of each label's log-odds
    base_model_version: str

    def probabilities(self, pooled: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(N, K) adapted probabilities from pooled features and the base's (N, K) confidences 0..100."""
        return _sigmoid(self.head.logits(pooled) + _log_odds(base))

    def confidences(self, pooled: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(N, K) confidences 0..100: each label's cut at ``threshold``, linear on either side."""
        p = self.probabilities(pooled, base)
        cut = self.cuts[None, :]
        below = self.threshold * p / np.maximum(cut, 1e-9)
        above = self.threshold + (100.0 - self.threshold) * (p - cut) / np.maximum(1.0 - cut, 1e-9)
        return np.clip(np.where(p < cut, below, above), 0.0, 100.0)

    def apply(self, base: dict[str, float], pooled: np.ndarray) -> dict[str, float]:
        """One image's label confidences (the base's, by name) with the adapter applied; parents are
        raised to their most confident child."""
        row = np.array([[base.get(name, 0.0) for name in self.labels]], np.float32)
        adapted = dict(base)
        adapted.update(zip(self.labels, (float(c) for c in self.confidences(pooled[None], row)[0]), strict=True))
        for label in reversed(taxonomy_labels()):  # children before parents
            parent, name = label["ParentName"], label["Name"]
            if parent and name in adapted:
                adapted[parent] = max(adapted.get(parent, 0.0), adapted[name])
        return adapted

    def to_bytes(self) -> bytes:
        return pack(
            FORMAT,
            {
                "labels": np.array(self.labels),
                "threshold": np.array(self.threshold),
                "cuts": self.cuts,
                "base_model_version": np.array(self.base_model_version),
                **self.head.arrays("head"),
            },
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Adapter:
        arrays = unpack(data, FORMAT)
        return cls(
            labels=tuple(str(label) for label in arrays["labels"]),
            threshold=float(arrays["threshold"]),
            cuts=arrays["cuts"].astype(np.float64),
            head=LinearHead.from_arrays(arrays, "head"),
            base_model_version=str(arrays["base_model_version"]),
        )


def covered_labels(
    annotated: list[frozenset[str]], base: np.ndarray, base_labels: list[str], threshold: float
) -> list[str]:
    """The labels an adapter corrects: those annotated (and their parents), and those the base
    reports at ``threshold`` on a training image."""
    names = with_ancestors(frozenset().union(*annotated)) if annotated else set()
    reported = base >= threshold
    names |= {name for k, name in enumerate(base_labels) if reported[:, k].any()}
    return in_taxonomy_order(names)


def _targets(truth: list[frozenset[str]], labels: list[str]) -> np.ndarray:
    targets = np.zeros((len(truth), len(labels)), np.float32)
    for n, names in enumerate(truth):
        expanded = with_ancestors(names)
        targets[n] = [label in expanded for label in labels]
    return targets


def base_columns(base: np.ndarray, base_labels: list[str], labels: list[str]) -> np.ndarray:
    """The base's (N, K) confidences of ``labels`` (0 for a label the base cannot see)."""
    index = {name: k for k, name in enumerate(base_labels)}
    columns = [base[:, index[name]] if name in index else np.zeros(len(base)) for name in labels]
    return np.stack(columns, axis=1).astype(np.float32) if columns else np.zeros((len(base), 0), np.float32)


def train(
    pooled: np.ndarray,
    base: np.ndarray,
    base_labels: list[str],
    truth: list[frozenset[str]],
    threshold: float,
    base_model_version: str,
) -> Adapter:
    """An adapter from the training images' pooled features, the base's confidences of
    ``base_labels`` (N, B) and each image's annotated labels (empty: safe)."""
    labels = covered_labels(truth, base, base_labels, threshold)
    targets = _targets(truth, labels)
    offsets = _log_odds(base_columns(base, base_labels, labels))
    assignment = fold_of(len(truth), FOLDS)
    scored = [evaluation.Scored() for _ in labels]
    for fold in range(FOLDS):
        held, kept = assignment == fold, assignment != fold
        if not held.any() or not kept.any():
            continue
        head = fit_sigmoid(pooled[kept], targets[kept], l2=L2, offset=offsets[kept])
        p = _sigmoid(head.logits(pooled[held]) + offsets[held])
        for k in range(len(labels)):
            for score, positive in zip(p[:, k], targets[held, k], strict=True):
                scored[k].add(score, bool(positive))
            scored[k].positives += int(targets[held, k].sum())
    head = fit_sigmoid(pooled, targets, l2=L2, offset=offsets)
    cuts = np.array([evaluation.choose_threshold(s) for s in scored], np.float64)
    return Adapter(tuple(labels), float(threshold), cuts, head, base_model_version)


# ---- evaluation ------------------------------------------------------------------------------------


def _counts(called: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    return {
        "TruePositives": int((called & truth).sum()),
        "FalsePositives": int((called & ~truth).sum()),
        "FalseNegatives": int((~called & truth).sum()),
    }


def _scores(counts: dict[str, int]) -> dict[str, float]:
    """Precision, recall and F1 of counts; a label with nothing to find and nothing falsely called
    scores 1 (there was nothing to get wrong)."""
    tp, fp, fn = counts["TruePositives"], counts["FalsePositives"], counts["FalseNegatives"]
    precision = tp / (tp + fp) if tp + fp else 1.0 if not fn else 0.0
    recall = tp / (tp + fn) if tp + fn else 1.0 if not fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"Precision": precision, "Recall": recall, "F1Score": f1}


def _improvement(before: int, after: int) -> float:
    """The share of the base model's errors the adapter removed (negative when it added some)."""
    return (before - after) / before if before else 0.0 if not after else -1.0


def evaluate(
    adapter: Adapter, pooled: np.ndarray, base: np.ndarray, base_labels: list[str], truth: list[frozenset[str]]
) -> dict[str, Any]:
    """Base model and adapter on the testing images at the adapter's threshold: per label and in all
    (micro-averaged), with how many of the base's false positives and negatives the adapter removed."""
    labels = list(adapter.labels)
    wanted = _targets(truth, labels).astype(bool)
    before = base_columns(base, base_labels, labels)
    called = {
        "Baseline": before >= adapter.threshold,
        "Adapter": adapter.confidences(pooled, before) >= adapter.threshold,
    }
    per_label = []
    for k, label in enumerate(labels):
        counts = {name: _counts(c[:, k], wanted[:, k]) for name, c in called.items()}
        per_label.append(
            {
                "Label": label,
                "NumberOfTestingImages": int(wanted[:, k].sum()),
                **{name: {**_scores(c), **c} for name, c in counts.items()},
            }
        )
    total = {name: _counts(c, wanted) for name, c in called.items()}
    aggregate = {name: {**_scores(c), **c} for name, c in total.items()}
    aggregate["FalsePositiveImprovement"] = _improvement(
        total["Baseline"]["FalsePositives"], total["Adapter"]["FalsePositives"]
    )
    aggregate["FalseNegativeImprovement"] = _improvement(
        total["Baseline"]["FalseNegatives"], total["Adapter"]["FalseNegatives"]
    )
    return {"Labels": labels, "Aggregate": aggregate, "PerLabel": per_label}
