"""DetectLabels: latency per feature set and thread count, and the labels found on real images.

    .venv/bin/python bench/detect_labels.py [--quick]

Latency is the service call (decode + both detectors + classifier + taxonomy, and image properties when
asked) on a 640x480 JPEG, p50/p95, each thread count in a fresh process (RECOGNITO_THREADS is read
when a session is created), plus each model alone. Accuracy: the top labels on scikit-image's
photographs (chelsea is a cat, coffee a cup, astronaut and camera a person, ...) and on generated
images (a collage, the astronaut on a plain background, a red square), with whether the expected
label was found at the default MinConfidence of 55.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

EXPECTED = {
    "chelsea": "Cat",
    "coffee": "Cup",
    "astronaut": "Person",
    "camera": "Person",
    "rocket": "Rocket",
    "motorcycle": "Motorcycle",
    "clock": "Clock",
    "collage": "Cat",
    "astronaut-on-green": "Person",
}


def images() -> dict[str, object]:
    import numpy as np
    from PIL import Image
    from skimage import data

    def rgb(name: str) -> np.ndarray:
        image = getattr(data, name)()
        return np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]

    found = {name: rgb(name) for name in ("chelsea", "coffee", "astronaut", "camera", "rocket", "clock", "coins")}
    found["motorcycle"] = data.stereo_motorcycle()[0]
    cat = np.asarray(Image.fromarray(data.chelsea()).resize((400, 266)))
    cup = np.asarray(Image.fromarray(data.coffee()).resize((400, 266)))
    found["collage"] = np.concatenate([cat, cup], axis=1)
    canvas = np.zeros((600, 900, 3), dtype=np.uint8)
    canvas[:] = (34, 139, 34)
    canvas[44:556, 194:706] = data.astronaut()
    found["astronaut-on-green"] = canvas
    square = np.full((240, 320, 3), 255, dtype=np.uint8)
    square[80:160, 120:200] = (255, 0, 0)
    found["red-square"] = square
    return found


def encode(rgb: object, fmt: str = "JPEG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, quality=90)
    return buf.getvalue()


def worker(repeats: int) -> None:
    """One process, one thread count: p50/p95 of the service per feature set and of each model."""
    import numpy as np
    from PIL import Image
    from recognito.analysis.labels import detect_labels
    from recognito_inference.classifier import classify
    from recognito_inference.object_detector import detect_objects
    from recognito_inference.oid_detector import detect_oid_objects
    from skimage import data

    photo = np.asarray(Image.fromarray(data.coffee()).resize((640, 480)))
    blob = encode(photo)
    cases = {
        "GENERAL_LABELS": lambda: detect_labels({"Image": {"Bytes": blob}}),
        "GENERAL_LABELS+IMAGE_PROPERTIES": lambda: detect_labels(
            {"Image": {"Bytes": blob}, "Features": ["GENERAL_LABELS", "IMAGE_PROPERTIES"]}
        ),
        "IMAGE_PROPERTIES": lambda: detect_labels({"Image": {"Bytes": blob}, "Features": ["IMAGE_PROPERTIES"]}),
        "detector alone": lambda: detect_objects(photo),
        "Open Images detector alone": lambda: detect_oid_objects(photo),
        "classifier alone": lambda: classify(photo),
    }
    result = {}
    for name, fn in cases.items():
        fn()
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            fn()
            times.append((time.perf_counter() - began) * 1000)
        result[name] = [float(np.percentile(times, 50)), float(np.percentile(times, 95))]
    print(json.dumps(result))


def accuracy() -> None:
    from recognito.analysis.labels import detect_labels

    hits = 0
    for name, rgb in images().items():
        response = detect_labels({"Image": {"Bytes": encode(rgb, "PNG")}, "Features": ["GENERAL_LABELS"]})
        labels = response["Labels"]
        top = ", ".join(
            f"{label['Name']} {label['Confidence']:.0f}"
            + (f" [{len(label['Instances'])} box]" if label["Instances"] else "")
            for label in labels[:8]
        )
        expected = EXPECTED.get(name)
        found = expected is not None and any(label["Name"] == expected for label in labels)
        hits += found
        mark = "" if expected is None else (f"  {expected}: " + ("found" if found else "MISSED"))
        print(f"  {name:<20} {top or '(no label at 55)'}{mark}")
    print(f"  expected labels found: {hits}/{len(EXPECTED)}")
    props = detect_labels({"Image": {"Bytes": encode(images()["red-square"], "PNG")}, "Features": ["IMAGE_PROPERTIES"]})
    ip = props["ImageProperties"]

    def colors(part: dict) -> str:
        return ", ".join(
            f"{c['CSSColor']}/{c['SimplifiedColor']} {c['PixelPercent']:.0f}%" for c in part["DominantColors"]
        )

    print(f"  red-square image properties: whole {colors(ip)}; foreground {colors(ip['Foreground'])}; "
          f"background {colors(ip['Background'])}")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]))
        return
    quick = "--quick" in sys.argv
    repeats = 5 if quick else 20
    print(f"DetectLabels latency, 640x480 JPEG, ms p50 / p95 ({repeats} calls; load average {os.getloadavg()[0]:.1f})")
    for threads in (1, 2):
        env = {**os.environ, "RECOGNITO_THREADS": str(threads)}
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(repeats)], env=env, capture_output=True, text=True, check=True
        ).stdout
        for name, (p50, p95) in json.loads(out.strip().splitlines()[-1]).items():
            print(f"  {threads} thread{'s' if threads > 1 else ' '}  {name:<34} {p50:7.1f} / {p95:7.1f}")
    print("Labels at the default MinConfidence (55), top 8:")
    accuracy()


if __name__ == "__main__":
    main()
