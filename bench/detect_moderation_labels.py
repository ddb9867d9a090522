"""DetectModerationLabels: latency per thread count, and the scores of real and generated images.

    .venv/bin/python bench/detect_moderation_labels.py [--quick]

Latency is the service call (decode + open_nsfw + nsfwjs + taxonomy), p50/p95, one and two
threads, each in a fresh process (bench/_latency.py), plus each model alone. Scores: every model
output on scikit-image's photographs and on images drawn here (a cartoon face, a line sketch), and
the labels each would get at the default MinConfidence of 50. None of these images is unsafe; no
unsafe image ships with any package used here, so recall on unsafe content is not measured.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

PHOTOS = ["astronaut", "camera", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry", "horse", "page"]


def drawings() -> dict[str, object]:
    import numpy as np
    from PIL import Image, ImageDraw

    face = Image.new("RGB", (400, 400), (250, 250, 240))
    draw = ImageDraw.Draw(face)
    draw.ellipse((80, 80, 320, 320), fill=(255, 220, 180), outline=(0, 0, 0), width=6)
    for x in (150, 210):
        draw.ellipse((x, 160, x + 40, 200), fill=(255, 255, 255), outline=(0, 0, 0), width=4)
        draw.ellipse((x + 15, 172, x + 30, 190), fill=(0, 0, 0))
    draw.arc((140, 200, 260, 280), 20, 160, fill=(0, 0, 0), width=6)
    draw.chord((80, 60, 320, 200), 180, 360, fill=(120, 60, 20), outline=(0, 0, 0), width=6)
    sketch = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(sketch)
    draw.rectangle((60, 150, 200, 260), outline="black", width=3)
    draw.polygon([(50, 150), (130, 80), (210, 150)], outline="black", width=3)
    draw.ellipse((280, 40, 350, 110), outline="black", width=3)
    return {"drawn cartoon face": np.asarray(face), "drawn line sketch": np.asarray(sketch)}


def scores() -> None:
    from face_scenes import encode, rgb
    from recognito.analysis.moderation import detect_moderation_labels
    from recognito_inference.moderation import moderation_scores

    images = {name: rgb(name) for name in PHOTOS} | drawings()
    names = None
    for name, image in images.items():
        found = moderation_scores(image)
        if names is None:
            names = list(found)
            print(f"{'image':<22} " + " ".join(f"{n:>15}" for n in names) + "   labels at MinConfidence 50")
        response = detect_moderation_labels({"Image": {"Bytes": encode(image, "JPEG", quality=90)}})
        labels = [label["Name"] for label in response["ModerationLabels"]] + [
            f"content: {c['Name']}" for c in response["ContentTypes"]
        ]
        print(f"{name:<22} " + " ".join(f"{found[n]:>15.3f}" for n in names) + f"   {labels or 'none'}")


def models_alone(repeats: int) -> None:
    import numpy as np
    from face_scenes import rgb
    from recognito_inference import moderation
    from recognito_inference.sessions import get_session

    image = rgb("astronaut")
    for name, feed in (
        (moderation.MODEL, moderation._opennsfw_input(image)),
        (moderation.NSFWJS_MODEL, np.zeros((1, 224, 224, 3), np.float32)),
    ):
        session = get_session(name)
        inputs = {session.get_inputs()[0].name: feed}
        session.run(None, inputs)
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            session.run(None, inputs)
            times.append((time.perf_counter() - began) * 1000)
        print(f"  {name:<22} model alone, {os.environ.get('RECOGNITO_THREADS', 'all')} thread(s): "
              f"p50 {np.percentile(times, 50):.0f} ms, p95 {np.percentile(times, 95):.0f} ms")  # fmt: skip


def main() -> None:
    import numpy as np
    from _latency import report
    from face_scenes import encode, rgb
    from PIL import Image

    quick = "--quick" in sys.argv
    print(f"DetectModerationLabels on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    photo = np.asarray(Image.fromarray(rgb("coffee")).resize((640, 427)))
    big = np.asarray(Image.fromarray(rgb("astronaut")).resize((1920, 1920)))[420:1500]
    images = {"640x427": encode(photo, "JPEG", quality=90), "1920x1080": encode(big, "JPEG", quality=90)}
    report("recognito.analysis.moderation:detect_moderation_labels", images, 5 if quick else 30)
    for threads in ("1", "2"):
        os.environ["RECOGNITO_THREADS"] = threads
        from recognito_inference import sessions

        sessions._sessions.clear()
        models_alone(5 if quick else 30)
    scores()


if __name__ == "__main__":
    main()
