"""DetectFaces Attributes=ALL: latency per face over DEFAULT, and accuracy where labels exist.

    RECOGNITO_THREADS=1 .venv/bin/python bench/face_attributes.py

Latency: face_details on already-detected faces (detection and decoding are DEFAULT's too), the
median of repeated runs per photograph, divided by its number of faces; one thread by default,
as a small Lambda has. Accuracy, on what is labelled:
- smiles: scikit-image's LFW subset (25x25 faces) labelled by eye (bench/face_traits.py's faces),
  and the 28 real faces of tests/face_datasets.py;
- eyes open/closed, gender, age: the 28 real faces, labelled by eye (gender: known people).
The eyeglasses / beard / mustache regressions have their own script: bench/face_traits.py.
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

# LFW subset faces (indices) that smile, and those we could not call.
LFW_SMILES = ([1, 18, 19, 22, 31, 36, 37, 38, 52, 53, 69, 74, 79, 81, 85, 91, 93, 94, 96], [21, 23, 25, 43, 45, 63, 84])
# The real faces: (photo, face index largest first) -> (smiling, eyes open); None: could not call.
REAL = {
    ("obama.jpg", 0): (True, True),
    ("obama2.jpg", 0): (False, True),
    ("obama3.jpg", 0): (None, True),
    ("biden.jpg", 0): (False, True),
    ("skimage.astronaut", 0): (True, True),
    ("skimage.camera", 0): (False, True),
    ("sample1.jpg", 0): (None, None),
    ("sample1.jpg", 1): (False, True),
    ("sample1.jpg", 2): (True, True),
    ("sample2.jpg", 0): (False, True),
    ("sample2.jpg", 1): (False, False),
    ("sample2.jpg", 2): (False, None),
    ("sample3.jpg", 0): (True, True),
    ("sample3.jpg", 1): (True, True),
    ("sample3.jpg", 2): (False, True),
    ("sample4.jpg", 0): (False, True),
    ("sample4.jpg", 1): (True, True),
    ("sample4.jpg", 2): (True, True),
    ("sample4.jpg", 3): (True, True),
    ("sample5.jpg", 0): (None, True),
    ("sample5.jpg", 1): (None, True),
    ("sample5.jpg", 2): (True, True),
    ("sample5.jpg", 3): (False, True),
    ("sample5.jpg", 4): (None, True),
    ("sample6.jpg", 0): (True, True),
    ("sample6.jpg", 1): (True, True),
    ("sample6.jpg", 2): (True, True),
    ("sample6.jpg", 3): (False, True),
}
MALE = {"obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "skimage.camera"}


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


def accuracy() -> None:
    from recognito.faces.details import face_details
    from recognito_inference.face_detector import detect_faces

    said = {}
    for photo in photos():
        detections = detect_faces(photo.rgb)
        for i, face in enumerate(face_details(_decoded(photo.rgb), detections, ["ALL"])):
            said[(photo.name, i)] = face
    for k, label in ((0, "smiling"), (1, "eyes open")):
        key = "Smile" if k == 0 else "EyesOpen"
        pairs = [(said[f][key]["Value"], truth[k]) for f, truth in REAL.items() if truth[k] is not None and f in said]
        right = sum(a == b for a, b in pairs)
        print(f"{label}: {right}/{len(pairs)} real faces right ({sum(b for _, b in pairs)} labelled {label})")
        wrong = [
            f for f, truth in REAL.items() if truth[k] is not None and f in said and said[f][key]["Value"] != truth[k]
        ]
        if wrong:
            print(f"  wrong: {wrong}")
    genders = [(said[f]["Gender"]["Value"] == ("Male" if f[0] in MALE else "Female")) for f in said]
    print(f"gender: {sum(genders)}/{len(genders)} real faces right")
    for f, face in said.items():
        if f[0] in MALE or f[0] == "skimage.astronaut":
            print(f"  age {f[0]}: {face['AgeRange']}")

    from face_traits import UPSCALE
    from PIL import Image
    from recognito_inference.face_attributes import EMOTIONS, analyze
    from skimage import data

    side = 25 * UPSCALE
    box = np.array([[0.0, 0.0, side, side]])
    points = np.array([[[0.3, 0.4], [0.7, 0.4], [0.5, 0.6], [0.35, 0.75], [0.65, 0.75]]]) * side
    smiles, unsure = LFW_SMILES
    right = total = 0
    for i, face in enumerate(data.lfw_subset()[:100]):
        if i in unsure:
            continue
        grey = Image.fromarray((face * 255).astype(np.uint8)).resize((side, side), Image.BICUBIC)
        rgb = np.stack([np.asarray(grey)] * 3, axis=-1)
        happy = analyze(rgb, box, points, {"emotion"}).emotions[0, EMOTIONS.index("happy")]
        right += (happy >= 0.5) == (i in smiles)
        total += 1
    print(f"smiling, LFW subset (25 px): {right}/{total} right ({len(smiles)} smiling)")


if __name__ == "__main__":
    print("latency (face_details on detected faces):")
    latency()
    print("\naccuracy:")
    accuracy()
