"""Refit the eyeglasses and mouth-open logistic regressions on the faces labelled by eye, cross-validated by person.

    .venv/bin/python bench/face_attribute_heads.py

Data: the faces of bench/data/face_attributes_by_eye.csv from ``../shared/datasets/faces`` (147
of its 175 faces labelled by eye; its package photos are the tests' photos, so they are held out
here and scored by bench/face_attributes.py), each measured as
DetectFaces measures it: ``face_attributes.trait_features`` of its FaceMesh and
``face_attributes.mouth_openness``. Per attribute a logistic regression with a small L2 penalty
(``PENALTY``, on standardized features) is fitted by Newton's method and scored by
leave-one-person-out cross-validation (every face of a person is held out together: glasses and
beards go with the person, so a random split would score memory of faces), printed next to the
base rate (always answering the majority) and its AUC. It prints the coefficients fitted on all
the faces, in the features' own units, as ``face_attributes.TRAIT_MODELS`` and
``attributes.MOUTH_OPEN_AT`` / ``MOUTH_OPEN_SCALE`` hold them. No test uses these photos.

Tried and not shipped: the same regression on SFace's 128-d embedding (the face model version
2.0 computes it for the same detection; ``--sface``). Leave-one-person-out it answered the base
rate (eyeglasses 0.817, beard and mustache 0.946; AUC 0.66-0.76): an identity embedding is trained
to ignore glasses and beards. The same on the age-gender model's 512 pooled features (the layer its
age and gender heads read; ``--age-gender``, needs the ``onnx`` package) did no better (2026-12-03:
eyeglasses 0.782 = base rate, AUC 0.71; beard and mustache 0.928 against a base rate of 0.935, AUC
0.885; the faces whose beard or mustache we could call have those labels alike). Beard and mustache
here have 9 positives from 3 people, too few to refit them; they keep bench/face_traits.py's LFW
regressions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench")]
from _attribute_faces import CACHE, faces  # noqa: E402

ATTRIBUTES = ("eyeglasses", "beard", "mustache", "mouth_open")
PENALTY = 0.1  # L2 weight on the standardized coefficients (not the bias), against the summed log-loss
SCALE = 1.0  # features are multiplied by this before the weights (8 for unit-length embeddings)


def person(name: str) -> str:
    """Who a labelled face is: the shared set's folder, or the package photo (obama*.jpg: Obama)."""
    where, path = name.split(":", 1)
    if where == "shared":
        return path.split("/")[0]
    return "obama" if path.startswith("obama") else path


def measurements() -> tuple[np.ndarray, np.ndarray, list]:
    """trait_features (n, 5) and mouth_openness (n,) of the labelled faces detected again, and the faces."""
    from PIL import Image
    from recognito_inference.face_attributes import mouth_openness, run_mesh, trait_features

    # Fitted on the shared set only: the package photos are the tests' photos, so they stay held out.
    labelled = [face for face in faces() if face.detection is not None and face.name.startswith("shared:")]
    traits, mouths = [], []
    for face in labelled:
        image = Image.fromarray(face.image.rgb)
        box = np.asarray(face.detection.box, dtype=np.float64)[None]
        eyes = np.asarray(face.detection.landmarks, dtype=np.float64)[None, :2]
        mesh, _ = run_mesh(image, box, eyes)
        traits.append(trait_features(image, mesh)[0])
        mouths.append(mouth_openness(mesh)[0])
    return np.array(traits), np.array(mouths), labelled


def embeddings(labelled: list) -> np.ndarray:
    """(n, 128) SFace embeddings of the faces (for --sface), cached."""
    from recognito_inference.face_embedder import embed_faces

    key = "-".join(f"{f.sha256[:8]}{f.box.astype(int).tolist()}" for f in labelled)
    cached = CACHE / "sface_embeddings.npz"
    if cached.is_file():
        stored = np.load(cached)
        if str(stored["key"]) == key:
            return stored["x"]
    x = np.stack([embed_faces(f.image.rgb, [f.detection], "sface")[0] for f in labelled])
    np.savez(cached, x=x, key=key)
    return x


def age_gender_features(labelled: list) -> np.ndarray:
    """(n, 512) the age-gender model's pooled features (the layer both its heads read), for
    --age-gender. Needs the ``onnx`` package (not a dependency: ``pip install --target DIR onnx`` and
    put DIR on PYTHONPATH) to expose that layer as an output."""
    import onnx
    import onnxruntime as ort
    from PIL import Image
    from recognito_inference.face_attributes import AGE_SIZE, _affine_crops
    from recognito_inference.sessions import model_dir

    model = onnx.load(str(model_dir() / "age-gender.onnx"))
    model.graph.output.append(onnx.helper.make_tensor_value_info("Reshape:0", onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = []
    for face in labelled:
        box = np.asarray(face.detection.box, dtype=np.float64)
        side = np.array([max(box[2] - box[0], box[3] - box[1])])
        crop, _, _ = _affine_crops(
            Image.fromarray(face.image.rgb), ((box[:2] + box[2:]) / 2)[None], side, np.zeros(1), AGE_SIZE
        )
        out.append(session.run(["Reshape:0"], {"input": crop.astype(np.float32)})[0][0])
    return np.array(out)


def fit(x: np.ndarray, y: np.ndarray, penalty: float = PENALTY, balanced: bool = False) -> np.ndarray:
    """Logistic regression (bias first) by Newton's method with an L2 penalty on the weights;
    ``balanced``: each class weighs as much as the other, however many faces it has."""
    a = np.hstack([np.ones((len(x), 1)), SCALE * x])
    w = np.zeros(a.shape[1])
    ridge = penalty * np.eye(a.shape[1])
    ridge[0, 0] = 0.0
    share = np.where(y == 1, y.mean(), 1 - y.mean()) if balanced else np.full(len(y), 0.5)
    c = 0.5 / share
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (c * (p - y)) + ridge @ w
        hess = (a * (c * p * (1 - p))[:, None]).T @ a + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(w[0] + SCALE * x @ w[1:], -50, 50)))


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Held-out P(attribute) of every face, each from a head fitted without its person's faces."""
    out = np.empty(len(y))
    for g in np.unique(groups):
        held = groups == g
        out[held] = predict(fit(x[~held], y[~held]), x[held])
    return out


def auc(p: np.ndarray, y: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    return float((pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean())


def main(sface: bool, age_gender: bool = False) -> None:
    traits, mouths, labelled = measurements()
    groups = np.array([person(f.name) for f in labelled])
    print(f"{len(labelled)} faces, {len(set(groups))} people; leave-one-person-out CV, penalty {PENALTY}")
    from recognito_inference.face_attributes import TRAIT_FEATURES

    deep = embeddings(labelled) if sface else age_gender_features(labelled) if age_gender else None
    for attribute in ATTRIBUTES:
        known = np.array([f.labels[attribute] in ("true", "false") for f in labelled])
        y = np.array([f.labels[attribute] == "true" for f in labelled], dtype=np.float64)[known]
        if deep is not None:
            x, names = deep, None
        elif attribute == "mouth_open":
            x, names = mouths[:, None], ["mouth_openness"]
        else:
            x, names = traits, list(TRAIT_FEATURES)
        mean, std = x[known].mean(axis=0), x[known].std(axis=0) + 1e-12
        z = (x[known] - mean) / std
        p = cross_validate(z, y, groups[known])
        right = int(((p >= 0.5) == (y == 1)).sum())
        base = float(max(y.mean(), 1 - y.mean()))
        people = len(set(groups[known][y == 1]))
        print(
            f"{attribute:<11} CV accuracy {right / len(y):.3f} ({right}/{len(y)}), AUC {auc(p, y):.3f}, "
            f"base rate {base:.3f}, {int(y.sum())} positives from {people} people"
        )
        if names:
            w = fit(z, y)
            weights = w[1:] / std  # back to the features' own units
            bias = float(w[0] - (weights * mean).sum())
            if attribute == "mouth_open":
                print(f"    MOUTH_OPEN_AT, MOUTH_OPEN_SCALE = {-bias / weights[0]:.4f}, {1 / weights[0]:.4f}")
            else:
                terms = ", ".join(f'"{n}": {v:.3f}' for n, v in zip(names, weights, strict=True))
                print(f'    "{attribute}": ({bias:.3f}, {{{terms}}}),')


if __name__ == "__main__":
    main("--sface" in sys.argv, "--age-gender" in sys.argv)
