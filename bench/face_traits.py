"""How the Eyeglasses / Beard / Mustache measurements were made, and how well they do.

    .venv/bin/python bench/face_traits.py

No model for these ships in any package we could find, so each is a logistic regression on one or
two of ``recognito_inference.face_attributes.trait_features`` (brightness of mesh regions
relative to the face's own skin), fitted here on scikit-image's LFW subset (``lfw_subset()``: the
first 100 images are faces of different people, 25x25 grey) which we labelled by eye (LABELS
below; faces we could not call at that resolution are left out). The script prints, per
attribute, the AUC of each feature, the leave-one-out accuracy of the regression next to the base
rate (always answering the majority class), and the fitted coefficients that
``face_attributes.TRAIT_MODELS`` holds for mustache and beard (its eyeglasses regression is
bench/face_attribute_heads.py's, fitted on larger faces labelled by eye). The LFW faces are tiny,
so the regressions are weak: the
numbers say how weak, and the FaceDetail's Confidence is the regression's probability.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "layers" / "inference"), str(REPO / "shared")]

# Indices into skimage.data.lfw_subset()[:100]: (present, could not tell).
LABELS = {
    "eyeglasses": ([4, 5, 6, 9, 10, 25, 34, 35, 39, 58, 59, 61, 68, 69, 76, 81, 85, 88, 89], [32, 65, 70]),
    "mustache": ([11, 15, 17, 23, 24, 25, 34, 47, 80, 83, 87], [12, 32, 71, 88]),
    "beard": ([11, 24, 34, 47, 80, 87], [30, 71, 83]),
}
UPSCALE = 4  # the 25 px faces are enlarged (bicubic) so that the mesh model can read them


def lfw_features() -> np.ndarray:
    """trait_features of the 100 LFW faces; each image is the face, so its box is the image."""
    from PIL import Image
    from recognito_inference.face_attributes import analyze
    from skimage import data

    side = 25 * UPSCALE
    box = np.array([[0.0, 0.0, side, side]])
    # Level eyes (the LFW crops are aligned): only the mesh crop's rotation reads them.
    points = np.array([[[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.75], [0.65, 0.75]]]) * side
    rows = []
    for face in data.lfw_subset()[:100]:
        grey = Image.fromarray((face * 255).astype(np.uint8)).resize((side, side), Image.BICUBIC)
        rgb = np.stack([np.asarray(grey)] * 3, axis=-1)
        rows.append(analyze(rgb, box, points, {"traits"}).extra["traits"][0])
    return np.array(rows)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Weights [bias, w...] of an L2-regularized logistic regression (Newton's method)."""
    xb = np.c_[np.ones(len(x)), x]
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(len(w))
    reg[0, 0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def auc(score: np.ndarray, y: np.ndarray) -> float:
    pos, neg = score[y == 1], score[y == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def main() -> None:
    from recognito_inference.face_attributes import TRAIT_FEATURES, TRAIT_MODELS

    features = lfw_features()
    for attribute, (present, unsure) in LABELS.items():
        keep = np.array([i for i in range(len(features)) if i not in unsure])
        y = np.isin(keep, present).astype(float)
        x_all = features[keep]
        print(f"\n{attribute}: {len(keep)} faces, {int(y.sum())} with")
        print("  AUC per feature: " + ", ".join(f"{n} {auc(x_all[:, j], y):.2f}" for j, n in enumerate(TRAIT_FEATURES)))
        used = [TRAIT_FEATURES.index(n) for n in TRAIT_MODELS[attribute][1]]
        x = x_all[:, used]
        loo = np.empty(len(y))
        for k in range(len(y)):
            others = np.arange(len(y)) != k
            w = fit_logistic(x[others], y[others])
            loo[k] = 1.0 / (1.0 + np.exp(-(w[0] + x[k] @ w[1:])))
        said = loo > 0.5
        print(
            f"  on {', '.join(TRAIT_MODELS[attribute][1])}: leave-one-out accuracy {np.mean(said == (y == 1)):.2f} "
            f"(base rate {max(y.mean(), 1 - y.mean()):.2f}), AUC {auc(loo, y):.2f}, "
            f"found {int((said & (y == 1)).sum())}/{int(y.sum())}, false {int((said & (y == 0)).sum())}"
        )
        w = fit_logistic(x, y)
        print(f"  fitted: bias {w[0]:.3f}, weights {', '.join(f'{v:.3f}' for v in w[1:])}")
        print(f"  in face_attributes.TRAIT_MODELS: {TRAIT_MODELS[attribute]}")


if __name__ == "__main__":
    main()
