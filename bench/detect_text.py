"""DetectText: latency per image and thread count, and how well text is read.

    .venv/bin/python bench/detect_text.py [--quick]

Latency is the service call (decode + detection + direction + recognition + words) per image,
p50/p95, one and two threads, each in a fresh process (bench/_latency.py). Accuracy is character
accuracy (1 - edit distance / length) of the lines read against the truth, with every line joined
by a newline: on scikit-image's page() (a photographed, slightly curled book page), and on images
drawn here with Pillow's own font (tests/text_scenes.py): a scene with turned and upside-down
lines, plain prose at three sizes, light text on dark, blurred and JPEG-compressed prose, a
paragraph turned 12 degrees. Word boxes are scored by IoU with the drawn words' boxes.
scikit-image's text() (handwritten formulas on a slanted sheet) has no reliable transcription: what
is read, and how sure, is printed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))


def prose(size: int, lines: int = 8, light_on_dark: bool = False, angle: float = 0.0):
    import numpy as np
    from PIL import Image
    from text_scenes import draw_line, many_words

    if not light_on_dark and angle == 0.0 and size == 30:
        image, texts = many_words(lines, 9)
        return image, texts
    from text_scenes import VOCABULARY

    pitch = int(size * 1.5)
    width = int(size * 22)
    canvas = Image.new("RGB", (width + 300, pitch * lines + 300), (25, 30, 60) if light_on_dark else "white")
    fill = (240, 240, 220) if light_on_dark else (0, 0, 0)
    texts = []
    for i in range(lines):
        text = " ".join(VOCABULARY[(i * 6 + j) % len(VOCABULARY)] for j in range(6))
        texts.append(text)
        if angle:
            # Each line turned about its own start, placed along the turned paragraph's left edge.
            rad = np.radians(angle)
            x = 60 + i * pitch * np.sin(rad)
            y = 200 + i * pitch * np.cos(rad)
            draw_line(canvas, text, (x, y - size * 22 * np.sin(rad) * 0.5), size, angle=angle, fill=fill)
        else:
            draw_line(canvas, text, (40, 40 + pitch * i), size, fill=fill)
    return np.asarray(canvas), texts


def accuracy() -> None:
    import numpy as np
    from face_scenes import encode, rgb
    from PIL import Image, ImageFilter
    from recognito.analysis.text import detect_text
    from text_scenes import PAGE_LINES, character_accuracy, scene

    def read(image: np.ndarray, fmt: str = "PNG", **options: object) -> dict:
        blob = encode(image, fmt, **options)
        return detect_text({"Image": {"Bytes": blob}, "Filters": {"WordFilter": {"MinConfidence": 0}}})

    def lines(response: dict) -> list[str]:
        return [t["DetectedText"] for t in response["TextDetections"] if t["Type"] == "LINE"]

    def score(name: str, truth: list[str], response: dict) -> None:
        got = lines(response)
        words = [t for t in response["TextDetections"] if t["Type"] == "WORD"]
        truth_words = " ".join(truth).split()
        found = sum(1 for w in {t["DetectedText"] for t in words} if w in truth_words)
        ca = character_accuracy("\n".join(truth), "\n".join(got))
        conf = np.mean([w["Confidence"] for w in words]) if words else 0.0
        print(
            f"  {name:<34} char acc {ca:6.1%}   lines {len(got):>2}/{len(truth):<2}  "
            f"distinct words right {found}/{len(set(truth_words))}   mean word confidence {conf:5.1f}"
        )

    print("character accuracy (MinConfidence 0, every line):")
    page = read(rgb("page"))
    score("page() all 7 lines", PAGE_LINES, page)
    prose_ca = character_accuracy("\n".join(PAGE_LINES[:6]), "\n".join(lines(page)[:6]))
    print(f"  {'page() prose (6 lines)':<34} char acc {prose_ca:6.1%}")
    image, drawn = scene()
    response = read(image, "JPEG", quality=90)
    score("scene: level, 25 deg, upside down", [line.text for line in drawn], response)
    height, width = image.shape[:2]
    ious = []
    words = [t for t in response["TextDetections"] if t["Type"] == "WORD"]
    for word, truth in zip(words, [w for line in drawn for w in line.words], strict=False):
        box = word["Geometry"]["BoundingBox"]
        (x0, y0), (x1, y1) = truth.corners.min(axis=0), truth.corners.max(axis=0)
        bx0, by0 = box["Left"] * width, box["Top"] * height
        bx1, by1 = bx0 + box["Width"] * width, by0 + box["Height"] * height
        inter = max(0, min(x1, bx1) - max(x0, bx0)) * max(0, min(y1, by1) - max(y0, by0))
        ious.append(inter / ((x1 - x0) * (y1 - y0) + (bx1 - bx0) * (by1 - by0) - inter))
    print(f"  {'scene word boxes vs drawn words':<34} IoU mean {np.mean(ious):.2f}, min {np.min(ious):.2f}")
    for size in (16, 30, 48):
        image, truth = prose(size)
        score(f"prose, {size}px font", truth, read(image))
    image, truth = prose(30, light_on_dark=True)
    score("prose, light on dark", truth, read(image))
    image, truth = prose(30)
    blurred = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.2)))
    score("prose, blurred + JPEG q40", truth, read(blurred, "JPEG", quality=40))
    image, truth = prose(30, angle=12)
    score("prose, paragraph turned 12 deg", truth, read(image))

    found = [f"{t['DetectedText']!r} ({t['Confidence']:.0f})" for t in read(rgb("text"))["TextDetections"]]
    print(f"text() (handwritten formulas, no transcription), detections at MinConfidence 0: {found or 'none'}")


def main() -> None:
    import numpy as np
    from _latency import report
    from face_scenes import encode, rgb
    from PIL import Image
    from text_scenes import scene

    quick = "--quick" in sys.argv
    print(f"DetectText on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})")
    sign, _ = scene()
    paragraph, _ = prose(30, lines=14)
    big = np.full((1080, 1920, 3), 255, np.uint8)
    big[: paragraph.shape[0], : paragraph.shape[1]] = paragraph
    big[400 : 400 + sign.shape[0], 1000 : 1000 + sign.shape[1]] = sign
    photo = np.asarray(Image.fromarray(rgb("coffee")).resize((640, 427)))
    images = {
        "page 384x191": encode(rgb("page"), "PNG"),
        "scene 900x600": encode(sign, "JPEG", quality=90),
        "126 words 1920x1080": encode(big, "JPEG", quality=90),
        "no text 640x427": encode(photo, "JPEG", quality=90),
    }
    report("recognito.analysis.text:detect_text", images, 3 if quick else 10)
    accuracy()


if __name__ == "__main__":
    main()
