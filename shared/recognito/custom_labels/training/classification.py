"""Image classification: a linear head on the backbone's pooled features.

One label an image (every training image has exactly one) trains a softmax over the labels;
otherwise (multi-label manifests) each label gets its own sigmoid. Either way a label's confidence
is its probability, and the label is called when it reaches the label's assumed threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recognito.custom_labels.training.linear import LinearHead, fit_sigmoid, fit_softmax

L2 = 1e-2  # chosen on the cards bench (bench/custom_labels.py), not on the tests' images


@dataclass(frozen=True)
class Classifier:
    labels: tuple[str, ...]
    head: LinearHead

    def probabilities(self, pooled: np.ndarray) -> np.ndarray:
        """(N, labels) confidence 0..1 of each label for each image."""
        return self.head.predict(pooled)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"classifier.labels": np.array(self.labels), **self.head.arrays("classifier.head")}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Classifier:
        labels = tuple(str(label) for label in arrays["classifier.labels"])
        return cls(labels, LinearHead.from_arrays(arrays, "classifier.head"))


def train(pooled: np.ndarray, truth: list[set[str]], labels: tuple[str, ...]) -> Classifier:
    index = {label: k for k, label in enumerate(labels)}
    if all(len(t) == 1 for t in truth):
        y = np.array([index[next(iter(t))] for t in truth])
        return Classifier(labels, fit_softmax(pooled, y, len(labels), l2=L2))
    targets = np.zeros((len(truth), len(labels)), np.float32)
    for n, true_labels in enumerate(truth):
        targets[n, [index[label] for label in true_labels]] = 1.0
    return Classifier(labels, fit_sigmoid(pooled, targets, l2=L2))
