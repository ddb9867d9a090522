"""Checks a converted model with the run-time onnxruntime (.venv) before it is laid out.

The checks come from a model's [verify] table in models.toml:
- `runs`: feed inputs of the given shapes, expect outputs of the given shapes, all finite;
- `reference_max_abs`: match the outputs the source framework computed on the samples (saved by
  the converter) to this max abs difference;
- `compare_to` + `min_cosine`: compare with another built model on the samples (quantized variants),
  reporting max abs difference, the lowest cosine similarity and the speed of both.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def _session(path: Path, threads: int = 0):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


_DTYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}


# ---------------------------------------------------------------------------------------- samples
def _prewhiten(x: np.ndarray) -> np.ndarray:
    """FaceNet's per-image standardization."""
    x = x.astype(np.float32)
    return (x - x.mean()) / max(float(x.std()), 1.0 / np.sqrt(x.size))


def _face_crops() -> list[np.ndarray]:
    """Face crops of scikit-image's astronaut and camera (boxes found by CenterFace), box + margin,
    shifted, scaled and mirrored for variety; 160x160 RGB uint8."""
    from PIL import Image
    from skimage import data

    camera = data.camera()
    images = {"astronaut": data.astronaut(), "camera": np.stack([camera] * 3, axis=-1)}
    # (x1, y1, x2, y2) in pixels.
    boxes = {"astronaut": (181, 58, 269, 177), "camera": (202, 118, 257, 196)}
    crops = []
    for name, (x1, y1, x2, y2) in boxes.items():
        img = Image.fromarray(images[name])
        w, h = x2 - x1, y2 - y1
        for dx, dy, scale in ((0, 0, 1.1), (0.05, -0.03, 1.2), (-0.04, 0.04, 1.0)):
            cx, cy = (x1 + x2) / 2 + dx * w, (y1 + y2) / 2 + dy * h
            half = max(w, h) * scale / 2
            crop = img.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
            crop = np.asarray(crop.resize((160, 160), Image.BILINEAR))
            crops += [crop, crop[:, ::-1]]
    return crops


def _lfw_faces(start: int, stop: int) -> list[np.ndarray]:
    """scikit-image's LFW faces (25x25 grey, different people) upscaled to 160x160 RGB uint8."""
    from PIL import Image
    from skimage import data

    faces = data.lfw_subset()[start:stop]  # the first 100 of the 200 are faces
    return [
        np.stack(
            [np.asarray(Image.fromarray((f * 255).astype(np.uint8)).resize((160, 160), Image.BICUBIC))] * 3, axis=-1
        )
        for f in faces
    ]


def _noise(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(0, 255, (160, 160, 3)) for _ in range(n)]


def faces160() -> np.ndarray:
    """Real faces as FaceNet takes them (160x160 RGB NHWC, prewhitened): the 12 astronaut/camera
    crops and 20 LFW faces. Seeded noise if scikit-image is missing."""
    try:
        crops = _face_crops() + _lfw_faces(0, 20)
    except ImportError:
        crops = _noise(12)
    return np.stack([_prewhiten(c) for c in crops])


def faces160_calibration() -> np.ndarray:
    """Calibration faces for static quantization, none of them in faces160: LFW faces 20-99."""
    try:
        crops = _lfw_faces(20, 100)
    except ImportError:
        crops = _noise(32)
    return np.stack([_prewhiten(c) for c in crops])


def _letterbox(image: np.ndarray, size: int) -> np.ndarray:
    """Scale the long side to `size` and pad the rest with black (as recognito_inference.pose)."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    small = np.asarray(Image.fromarray(image).resize((round(w * scale), round(h * scale)), Image.BILINEAR))
    out = np.zeros((size, size, 3), np.uint8)
    out[: small.shape[0], : small.shape[1]] = small
    return out


def people256() -> np.ndarray:
    """Photographs with people for the pose models (256x256 RGB 0..255, int32): keypoints are only
    defined where there is a person, so noise would compare arbitrary numbers. Noise without
    scikit-image."""
    try:
        from skimage import data
    except ImportError:
        return np.stack(_noise(2))[:, :128, :128].repeat(2, 1).repeat(2, 2).astype(np.int32)
    camera = np.stack([data.camera()] * 3, axis=-1)
    return np.stack([_letterbox(data.astronaut(), 256), _letterbox(camera, 256)]).astype(np.int32)


def faces224() -> np.ndarray:
    """The astronaut/camera face crops at 224x224 RGB scaled to -1..1 (MobileNetV2's
    preprocessing), for Keras face classifiers. Seeded noise without scikit-image."""
    from PIL import Image

    try:
        crops = _face_crops()
    except ImportError:
        crops = [c.astype(np.uint8) for c in _noise(4)]
    big = [np.asarray(Image.fromarray(c).resize((224, 224), Image.BILINEAR)) for c in crops]
    return np.stack(big).astype(np.float32) / 127.5 - 1.0


SAMPLES = {
    "faces160": faces160,
    "faces160-calibration": faces160_calibration,
    "people256": people256,
    "faces224": faces224,
}


def make_samples(kind: str, path: Path) -> Path:
    """Write the named sample set to an .npz (key `x`) the converters can read without scikit-image."""
    np.savez(path, x=SAMPLES[kind]())
    return path


# ----------------------------------------------------------------------------------------- checks
def _median_ms(sess, feed: dict, repeat: int = 5) -> float:
    sess.run(None, feed)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def check(model: Path, spec: dict, samples: Path | None, reference: Path | None, compare_model: Path | None) -> dict:
    """Run the [verify] checks; return the numbers measured, raise AssertionError on a failure."""
    import onnxruntime as ort

    sess = _session(model)
    notes: dict = {"onnxruntime": ort.__version__}
    types = {i.name: _DTYPES[i.type] for i in sess.get_inputs()}
    rng = np.random.default_rng(0)
    for run in spec.get("runs", []):
        feed = {n: rng.uniform(0, 255, s).astype(types[n]) for n, s in run["inputs"].items()}
        names = [o.name for o in sess.get_outputs()]
        outs = dict(zip(names, sess.run(None, feed), strict=True))
        for name, shape in run["outputs"].items():
            got = list(outs[name].shape)
            assert got == list(shape), f"output {name}: shape {got}, expected {shape}"
            assert np.isfinite(outs[name]).all(), f"output {name}: not finite"
        shape_str = ",".join("x".join(map(str, s)) for s in run["inputs"].values())
        notes[f"run {shape_str}"] = "ok"

    if reference is not None and "reference_max_abs" in spec:
        ref = np.load(reference)
        feed = {k[3:]: ref[k] for k in ref.files if k.startswith("in:")}
        expected = {k[4:]: ref[k] for k in ref.files if k.startswith("out:")}
        # One sample at a time: some models are saved with a batch fixed at 1.
        n = len(next(iter(feed.values())))
        rows = [sess.run(list(expected), {k: v[i : i + 1] for k, v in feed.items()}) for i in range(n)]
        outs = [np.concatenate([r[j] for r in rows]) for j in range(len(expected))]
        diff = max(float(np.max(np.abs(o - expected[n]))) for n, o in zip(expected, outs, strict=True))
        notes["max_abs_vs_source"] = f"{diff:.2e}"
        assert diff <= spec["reference_max_abs"], f"differs from the source framework by {diff}"

    if compare_model is not None and samples is not None:
        notes.update(_compare(model, compare_model, np.load(samples)["x"], spec))
    return notes


def _compare(model: Path, base_model: Path, x: np.ndarray, spec: dict) -> dict:
    """Compare with the model this one was derived from: accuracy on real samples, and speed on
    one thread (steadier on a busy machine, and what a small Lambda has)."""
    sess, base = _session(model, threads=1), _session(base_model, threads=1)
    name = sess.get_inputs()[0].name
    ours = sess.run(None, {name: x})[0]
    theirs = base.run(None, {name: x})[0]
    cos = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    notes = {
        "samples": len(x),
        "max_abs_vs_base": f"{float(np.max(np.abs(ours - theirs))):.2e}",
        "min_cosine_vs_base": f"{float(cos.min()):.5f}",
        "mean_cosine_vs_base": f"{float(cos.mean()):.5f}",
        "ms_1thread": f"{_median_ms(sess, {name: x[:1]}):.1f}",
        "base_ms_1thread": f"{_median_ms(base, {name: x[:1]}):.1f}",
    }
    assert cos.min() >= spec.get("min_cosine", 0.0), f"cosine vs base {cos.min()} < {spec['min_cosine']}"
    return notes
