"""DetectFaces Attributes=ALL: accuracy on the faces labelled by eye, and (--latency) time per face.

    RECOGNITO_THREADS=1 .venv/bin/python bench/face_attributes.py [--latency]

Accuracy: every face of bench/data/face_attributes_by_eye.csv (175 faces labelled by eye once,
from contact sheets that ``bench/_attribute_faces.py --sheets`` makes: 147 of the 147 photos of
``../shared/datasets/faces`` and 28 of the package photos of tests/face_datasets.py) through
DetectFaces' own code (``face_details(..., ["ALL"])`` on the detection that overlaps the labelled
box). Per attribute: accuracy, right/labelled (faces we could not call are left out), the
positives (true, or Male) found, and the package photos alone (held out of every fit; the shared set is what
bench/face_attribute_heads.py fits eyeglasses and MouthOpen on, so its share is in-sample for
those two). Child / senior: the AgeRange midpoint under CHILD_UNDER / from SENIOR_FROM years. An
attribute under WEAK is flagged, and so is one that finds fewer than WEAK of its positives.
Then smiles on the same faces shrunk to 24, 32 and 48
px. ``VERBOSE=1`` lists the wrong faces.

Latency: face_details on already-detected faces (detection and decoding are DEFAULT's too), the
median of repeated runs per photograph, divided by its number of faces; one thread by default,
as a small Lambda has.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("RECOGNITO_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "layers" / "inference"), str(REPO / "shared"), str(REPO / "tests"), str(REPO / "bench")]


def photos() -> list:
    from face_datasets import group_photos, labelled_photos

    return list(labelled_photos()) + list(group_photos())


def latency(repeat: int = 7) -> None:
    from recognito.faces.details import face_details
    from recognito_inference.face_detector import detect_faces

    rows = []
    for photo in photos():
        detections = detect_faces(photo.rgb)
        image = _decoded(photo.rgb)
        times = {}
        for attributes in (["DEFAULT"], ["ALL"]):
            face_details(image, detections, attributes)  # sessions created, caches warm
            runs = []
            for _ in range(repeat):
                t = time.perf_counter()
                face_details(image, detections, attributes)
                runs.append(time.perf_counter() - t)
            times[attributes[0]] = 1000 * float(np.median(runs))
        n = len(detections)
        rows.append((photo.name, n, times["DEFAULT"], times["ALL"], (times["ALL"] - times["DEFAULT"]) / n))
        print(f"  {photo.name:<18} {n} faces  DEFAULT {times['DEFAULT']:6.1f} ms  ALL {times['ALL']:6.1f} ms  "
              f"ALL over DEFAULT {rows[-1][4]:5.1f} ms/face")  # fmt: skip
    per_face = sum(r[3] - r[2] for r in rows) / sum(r[1] for r in rows)
    print(f"ALL over DEFAULT, all photos: {per_face:.1f} ms per face (threads {os.environ['RECOGNITO_THREADS']})")


def _decoded(rgb: np.ndarray):
    """A DecodedImage of an array, through the service's own decoder (PNG round trip)."""
    import io

    from PIL import Image
    from recognito.images import limits_for, load_image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return load_image({"Bytes": out.getvalue()}, limits_for("DetectFaces"))


WEAK = 0.80  # an attribute below this accuracy is called weak (issue 14)


def _said(detail: dict, attribute: str) -> str:
    """What recognito's FaceDetail says of one labelled attribute, in the labels' vocabulary."""
    key = {
        "gender": "Gender", "smiling": "Smile", "eyes_open": "EyesOpen", "mouth_open": "MouthOpen",
        "eyeglasses": "Eyeglasses", "sunglasses": "Sunglasses", "beard": "Beard", "mustache": "Mustache",
        "occluded": "FaceOccluded",
    }.get(attribute)  # fmt: skip
    if attribute in ("child", "senior"):
        age = (detail["AgeRange"]["Low"] + detail["AgeRange"]["High"]) / 2
        return str(age < CHILD_UNDER if attribute == "child" else age >= SENIOR_FROM).lower()
    if key not in detail:
        return "missing"
    value = detail[key]["Value"]
    return value if isinstance(value, str) else str(value).lower()


CHILD_UNDER, SENIOR_FROM = 13, 60  # AgeRange midpoint: a child under 13, a senior from 60


def accuracy() -> None:
    """DetectFaces(Attributes=ALL) on every face of bench/data/face_attributes_by_eye.csv."""
    from _attribute_faces import faces
    from recognito.faces.details import face_details

    labelled = faces()
    rows: dict[str, list[tuple[str, str, str]]] = {}
    for face in labelled:
        if face.detection is None:
            print(f"  not detected again: {face.name} {face.box}")
            continue
        (detail,) = face_details(face.image, [face.detection], ["ALL"])
        truths = dict(face.labels)
        truths["child"] = "" if not truths["age"] else str(truths["age"] == "child").lower()
        truths["senior"] = "" if not truths["age"] else str(truths["age"] == "senior").lower()
        for attribute, truth in truths.items():
            if attribute != "age" and truth:
                rows.setdefault(attribute, []).append((truth, _said(detail, attribute), face.name))
    print(f"{len(labelled)} labelled faces (bench/data/face_attributes_by_eye.csv), DetectFaces Attributes=ALL")
    print(f"{'attribute':<11} {'accuracy':>8}  {'right/labelled':>14}  positives found  package photos  wrong")
    for attribute, pairs in rows.items():
        right = sum(t == s for t, s, _ in pairs)
        positives = sum(t in ("true", "Male") for t, _, _ in pairs)
        found = sum(t == s for t, s, _ in pairs if t in ("true", "Male"))
        share = right / len(pairs)
        # Accuracy hides a rare attribute that is never seen: the positives found are flagged too.
        flag = "  WEAK" if share < WEAK else "  weak on positives" if found < WEAK * positives else ""
        wrong = [n.split(":", 1)[1] for t, s, n in pairs if t != s]
        # The package photos: never fitted on (bench/face_attribute_heads.py fits the shared set).
        held = [t == s for t, s, n in pairs if not n.startswith("shared:")]
        print(
            f"{attribute:<11} {share:8.3f}  {right:>6}/{len(pairs):<7}  {found:>7}/{positives:<7}  "
            f"{sum(held):>8}/{len(held):<5}  {len(wrong)}{flag}"
        )
        if os.environ.get("VERBOSE") and wrong:
            print(f"    {wrong}")


def smiles_by_size(heights: tuple[int, ...] = (24, 32, 48)) -> None:
    """Smile accuracy on the labelled faces with each photo shrunk so that the face is ``heights``
    px high (the detection scaled with it), as faces in a crowd or a park are."""
    from _attribute_faces import faces
    from PIL import Image
    from recognito.faces.details import face_details
    from recognito_inference.face_detector import FaceDetection

    labelled = [f for f in faces() if f.detection is not None and f.labels["smiling"]]
    for height in heights:
        right = found = 0
        for face in labelled:
            scale = height / float(face.detection.box[3] - face.detection.box[1])
            pil = Image.fromarray(face.image.rgb)
            size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
            # On a grey canvas of at least 160 px a side: the service rejects smaller images.
            canvas = Image.new("RGB", (max(size[0], 160), max(size[1], 160)), (128, 128, 128))
            canvas.paste(pil.resize(size, Image.BILINEAR), (0, 0))
            small = np.asarray(canvas)
            box, points = face.detection.box * scale, face.detection.landmarks * scale
            detection = FaceDetection(box, face.detection.score, points)
            (detail,) = face_details(_decoded(small), [detection], ["SMILE"])
            truth = face.labels["smiling"] == "true"
            right += detail["Smile"]["Value"] is truth
            found += truth and detail["Smile"]["Value"]
        smiling = sum(f.labels["smiling"] == "true" for f in labelled)
        print(f"smiling, faces {height} px high: {right / len(labelled):.3f} ({right}/{len(labelled)}), "
              f"smiles found {found}/{smiling}")  # fmt: skip


if __name__ == "__main__":
    if "--latency" in sys.argv:
        print("latency (face_details on detected faces):")
        latency()
    print("accuracy:")
    accuracy()
    smiles_by_size()
