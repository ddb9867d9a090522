"""DetectFaces: latency, memory, cold start and detection hit rate.

    .venv/bin/python bench/detect_faces.py [--quick]

Latency is the service call (decode + detection + FaceDetails) on a 640x480 and a 1920x1080 JPEG,
each thread count in a fresh process (RECOGNITO_THREADS is read when the session is created);
cold start is that process's first call: imports, session creation and the first inference.
Hit rate is scored on real photographs and on scenes with the astronaut's face pasted at known
sizes (tests/face_scenes.py), false positives on faceless photographs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

FACELESS = [
    "coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "immunohistochemistry", "coins",
    "moon", "brick", "grass", "gravel", "horse", "logo", "colorwheel", "page", "text", "clock",
]  # fmt: skip
SIZES = [16, 20, 22, 24, 28, 32, 40, 60, 100, 200]


def photos() -> dict[str, bytes]:
    """A 640x480 portrait (the astronaut) and a 1920x1080 scene with 14 faces of 40-160 px, as JPEG."""
    import numpy as np
    from face_scenes import encode, face_grid, rgb
    from PIL import Image

    portrait = np.asarray(Image.fromarray(rgb("astronaut")).resize((640, 640), Image.BICUBIC))[:480]
    scene, _ = face_grid(1920, 1080, list(np.linspace(40, 160, 14)), seed=1)
    return {"640x480": encode(portrait, "JPEG", quality=90), "1920x1080": encode(scene, "JPEG", quality=90)}


def latency(quick: bool) -> None:
    from _latency import report

    report("recognito.faces.detect:detect_faces", photos(), [10, 3] if quick else [40, 10])


def hit_rate(quick: bool) -> None:
    import numpy as np
    from face_scenes import ASTRONAUT_FACE, encode, face_grid, lfw_grid, match, rgb
    from recognito.faces.detect import detect_faces

    def boxes(image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        faces = detect_faces({"Image": {"Bytes": encode(image)}})["FaceDetails"]
        ratios = np.array([[f["BoundingBox"][k] for k in ("Left", "Top", "Width", "Height")] for f in faces])
        left, top, w, h = ratios.reshape(-1, 4).T
        return np.stack([left * width, top * height, (left + w) * width, (top + h) * height], axis=1)

    found = boxes(rgb("astronaut"))
    hit, fp = match(ASTRONAUT_FACE[None], found)
    print(f"astronaut: {int(hit.sum())}/1 found, {fp} false positives")
    print(f"camera: {len(boxes(rgb('camera')))} face(s) found (1 expected)")

    seeds = 1 if quick else 3
    print("recall per face height (px, forehead to chin), astronaut's face pasted on rocket / coffee:")
    for width, height in ((640, 480), (1280, 720), (1920, 1080)):
        cells = []
        for size in SIZES:
            total = hits = fps = 0
            for seed in range(seeds):
                for background in ("rocket", "coffee"):
                    for count in (20, 12, 6, 2, 1):
                        try:
                            image, expected = face_grid(width, height, [size] * count, background=background, seed=seed)
                            break
                        except ValueError:
                            continue
                    else:
                        continue
                    hit, fp = match(expected, boxes(image))
                    total, hits, fps = total + len(expected), hits + int(hit.sum()), fps + fp
            if total:
                cells.append(f"{size}:{hits / total:4.0%}" + (f" fp{fps}" if fps else ""))
        print(f"  {width}x{height}: " + "  ".join(cells))

    cells = []
    for size in (24, 32, 48, 64):
        image, expected = lfw_grid(1280, 720, size)
        hit, fp = match(expected, boxes(image), 0.3)
        cells.append(f"{size}:{int(hit.sum())}/{len(expected)}" + (f" fp{fp}" if fp else ""))
    print("LFW subset, 100 people's tight grey crops, in 1280x720: " + "  ".join(cells))

    false = {name: len(boxes(rgb(name))) for name in FACELESS}
    print(
        f"faceless photos: {sum(false.values())} false positives in {len(false)} images "
        + str({name: n for name, n in false.items() if n})
    )


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"DetectFaces on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    latency(quick)
    hit_rate(quick)


if __name__ == "__main__":
    main()
