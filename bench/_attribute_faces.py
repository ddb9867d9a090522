"""The faces labelled by eye for face attributes (bench/data/face_attributes_by_eye.csv) and their photos.

Photos: the shared face set (``../shared/datasets/faces``, 147 photos of 25 people) and the
package photos of tests/face_datasets.py (face_recognition's Obama/Biden, face-api's six group
photos, scikit-image's astronaut and cameraman). Each image is keyed by the sha256 of its file's
bytes; a labelled face by that and its detector box (x0, y0, x1, y1 px), matched back to a
detection by IoU, so the labels survive detector changes that move boxes a little.

``faces()`` gives every labelled face with what recognito needs to describe it again: the
decoded image and the detection. ``--sheets DIR`` writes numbered contact sheets of the detected
faces (how the labels were made) and ``--candidates`` prints the faces to label as CSV rows.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "layers" / "inference"), str(REPO / "shared"), str(REPO / "tests")]
FACE_SET = REPO.parent / "shared" / "datasets" / "faces"
LABELS = REPO / "bench" / "data" / "face_attributes_by_eye.csv"
ATTRIBUTES = (
    "gender", "smiling", "eyes_open", "mouth_open", "eyeglasses", "sunglasses", "beard", "mustache", "age", "occluded",
)  # fmt: skip
MIN_LABEL_PX = 40  # faces smaller than this were not labelled: too small to call by eye
MIN_SCORE = 0.6


@dataclass(frozen=True)
class Source:
    """One photo: where it comes from, and its file's bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sources() -> Iterator[Source]:
    """The shared set's photos (if present), then the package photos."""
    import face_datasets
    import skimage.data

    if (FACE_SET / "labels.csv").is_file():
        with (FACE_SET / "labels.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                yield Source(f"shared:{row['path']}", (FACE_SET / row["path"]).read_bytes())
    for key in ("FACE_RECOGNITION", "FACE_API_DEMO"):
        for member, path in face_datasets._files(key).items():
            yield Source(f"pkg:{Path(member).name}", path.read_bytes())
    for name in ("astronaut", "camera"):
        yield Source(f"skimage:{name}", (Path(skimage.data.__file__).parent / f"{name}.png").read_bytes())


CACHE = REPO / ".cache" / "face_attributes"


def detect(source: Source):  # noqa: ANN201 - (DecodedImage, detections)
    """The photo decoded as the service decodes it, and the faces DetectFaces finds in it (cached
    under .cache/face_attributes by the photo's and the detector's sha256)."""
    import json

    from recognito.faces.detect import MAX_FACES
    from recognito.images import decode_image, limits_for
    from recognito_inference import face_detector
    from recognito_inference.face_detector import FaceDetection, detect_faces
    from recognito_inference.sessions import model_dir

    image = decode_image(source.data, limits_for("DetectFaces"))
    key = hashlib.sha256(
        (model_dir() / "centerface.onnx").read_bytes() + Path(face_detector.__file__).read_bytes()
    ).hexdigest()[:16]
    cached = CACHE / f"{source.sha256}-{key}.json"
    if cached.is_file():
        found = [
            FaceDetection(np.array(d["box"], np.float32), float(d["score"]), np.array(d["landmarks"], np.float32))
            for d in json.loads(cached.read_text())
        ]
        return image, found
    found = detect_faces(image.rgb, max_faces=MAX_FACES)
    CACHE.mkdir(parents=True, exist_ok=True)
    records = [
        {"box": np.asarray(d.box).tolist(), "score": float(d.score), "landmarks": np.asarray(d.landmarks).tolist()}
        for d in found
    ]
    cached.write_text(json.dumps(records))
    return image, found


def iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / max(union, 1e-9))


@dataclass
class LabelledFace:
    name: str
    sha256: str
    box: np.ndarray
    labels: dict[str, str]  # attribute -> value ("" when it could not be called)
    image: object = None  # DecodedImage
    detection: object = None  # FaceDetection, None when no detection overlaps the labelled box


def read_labels(path: Path = LABELS) -> list[LabelledFace]:
    with path.open(newline="") as handle:
        return [
            LabelledFace(
                row["name"],
                row["sha256"],
                np.array([float(row[k]) for k in ("x0", "y0", "x1", "y1")]),
                {a: row[a] for a in ATTRIBUTES},
            )
            for row in csv.DictReader(handle)
        ]


def faces(path: Path = LABELS) -> list[LabelledFace]:
    """The labelled faces whose photo is at hand, each with its image and detection."""
    labelled = read_labels(path)
    by_sha: dict[str, list[LabelledFace]] = {}
    for face in labelled:
        by_sha.setdefault(face.sha256, []).append(face)
    out = []
    for source in sources():
        if source.sha256 not in by_sha:
            continue
        image, detections = detect(source)
        for face in by_sha.pop(source.sha256):
            overlaps = [iou(face.box, np.asarray(d.box, dtype=np.float64)) for d in detections]
            best = int(np.argmax(overlaps)) if overlaps else -1
            face.image = image
            face.detection = detections[best] if best >= 0 and overlaps[best] >= 0.5 else None
            out.append(face)
    return out


def _candidates() -> Iterator[tuple[Source, object, list]]:
    for source in sources():
        image, detections = detect(source)
        kept = [d for d in detections if d.score >= MIN_SCORE and (d.box[3] - d.box[1]) >= MIN_LABEL_PX]
        yield source, image, kept


def contact_sheets(out: Path, per_sheet: int = 16, side: int = 224) -> None:
    """Numbered sheets (4 x 4) of every face to label, and index.csv: number, name, sha256, box."""
    from PIL import Image, ImageDraw

    out.mkdir(parents=True, exist_ok=True)
    rows, tiles = [], []
    for source, image, kept in _candidates():
        pil = Image.fromarray(image.rgb)
        for d in kept:
            x0, y0, x1, y1 = (float(v) for v in d.box)
            m = 0.25 * max(x1 - x0, y1 - y0)
            tile = pil.crop((int(x0 - m), int(y0 - m), int(x1 + m), int(y1 + m))).resize((side, side))
            ImageDraw.Draw(tile).text((4, 4), str(len(rows)), fill=(255, 0, 0))
            tiles.append(tile)
            rows.append([len(rows), source.name, source.sha256, *(round(float(v)) for v in d.box)])
    for s in range(0, len(tiles), per_sheet):
        sheet = Image.new("RGB", (4 * side, 4 * side))
        for k, tile in enumerate(tiles[s : s + per_sheet]):
            sheet.paste(tile, ((k % 4) * side, (k // 4) * side))
        sheet.save(out / f"sheet{s // per_sheet:02d}.png")
    with (out / "index.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["n", "name", "sha256", "x0", "y0", "x1", "y1"], *rows])
    print(f"{len(rows)} faces on {len(range(0, len(tiles), per_sheet))} sheets in {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=Path, help="write numbered contact sheets and index.csv here")
    args = parser.parse_args()
    if args.sheets:
        contact_sheets(args.sheets)
