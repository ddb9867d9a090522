"""Text images for DetectText tests and benchmarks: scikit-image's printed page, and scenes drawn
with Pillow's own scalable font whose every word's box is known."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# What scikit-image's page() says, line by line (read off the image; the code line's underscore
# and the last line's comma are as printed).
PAGE_LINES = [
    "Region-based segmentation",
    "Let us first determine markers of the coins and the",
    "background. These markers are pixels that we can label",
    "unambiguously as either object or background. Here,",
    "the markers are found at the two extreme parts of the",
    "histogram of grey values:",
    ">>> markers = np.zeros_like(coins)",
]


@dataclass(frozen=True)
class Word:
    text: str
    corners: np.ndarray  # 4 x 2 pixels: top-left, top-right, bottom-right, bottom-left as read


@dataclass(frozen=True)
class Line:
    text: str
    words: tuple[Word, ...]
    angle: float  # degrees, counter-clockwise as seen


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_line(
    canvas: Image.Image,
    text: str,
    origin: tuple[float, float],
    size: int,
    angle: float = 0.0,
    fill: tuple[int, int, int] = (0, 0, 0),
) -> Line:
    """Draw ``text`` with its top-left at ``origin``, turned ``angle`` degrees counter-clockwise
    about that point; returns each word's box (its ink's height is the font's ascent+descent)."""
    f = font(size)
    ascent, descent = f.getmetrics()
    layer = Image.new("L", (int(f.getlength(text)) + 4, ascent + descent + 4), 0)
    ImageDraw.Draw(layer).text((2, 2), text, font=f, fill=255)
    words, x = [], 0.0
    for piece in text.split(" "):
        start = x + f.getbbox(piece)[0]
        end = x + f.getbbox(piece)[2]
        words.append((piece, start + 2, end + 2))
        x += f.getlength(piece + " ")
    rotated = layer.rotate(angle, expand=True, resample=Image.BICUBIC)
    # Where the layer's corners land after rotate(expand=True): about its centre, then shifted.
    w, h = layer.size
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)

    def place(px: float, py: float) -> np.ndarray:
        cx, cy = px - w / 2, py - h / 2
        rx, ry = cx * cos + cy * sin, -cx * sin + cy * cos
        return np.array([rx + rotated.width / 2 + origin[0], ry + rotated.height / 2 + origin[1]])

    solid = Image.new("RGB", rotated.size, fill)
    canvas.paste(solid, (int(origin[0]), int(origin[1])), rotated)
    top, bottom = 2 + f.getbbox("Hg")[1], 2 + f.getbbox("Hg")[3]
    boxes = tuple(
        Word(t, np.array([place(a, top), place(b, top), place(b, bottom), place(a, bottom)])) for t, a, b in words
    )
    return Line(text, boxes, angle)


def scene() -> tuple[np.ndarray, list[Line]]:
    """A 900 x 600 sign-like scene: two level lines (black, blue on pale yellow), one turned 25
    degrees, one upside down; on a grey-blue gradient."""
    gradient = np.linspace(200, 235, 900, dtype=np.float32)[None, :, None]
    base = np.broadcast_to(gradient * np.array([0.95, 0.97, 1.0]), (600, 900, 3)).astype(np.uint8)
    canvas = Image.fromarray(np.ascontiguousarray(base))
    ImageDraw.Draw(canvas).rectangle((30, 150, 520, 220), fill=(250, 240, 190))
    lines = [
        draw_line(canvas, "Hello recognito world", (40, 40), 44),
        draw_line(canvas, "Quick brown fox 42", (50, 160), 40, fill=(20, 40, 160)),
        draw_line(canvas, "Rotated words here", (80, 260), 40, angle=25),
        draw_line(canvas, "Upside down", (560, 470), 40, angle=180),
    ]
    return np.asarray(canvas), lines


PROSE = (
    "open source image analysis runs on your own machine with real models that read text find faces "
    "and label scenes while the same calls work against the cloud service so nothing in your code "
    "has to change when you move between them"
)
VOCABULARY = PROSE.split(" ")


def many_words(lines: int = 14, per_line: int = 9) -> tuple[np.ndarray, list[str]]:
    """More words than DetectText returns: ``lines`` lines of ``per_line`` words of plain prose."""
    canvas = Image.new("RGB", (1000, 60 + 46 * lines), "white")
    texts = []
    for i in range(lines):
        text = " ".join(VOCABULARY[(i * per_line + j) % len(VOCABULARY)] for j in range(per_line))
        draw_line(canvas, text, (30, 30 + 46 * i), 30)
        texts.append(text)
    return np.asarray(canvas), texts


def character_accuracy(truth: str, read: str) -> float:
    """1 - (Levenshtein distance / length of the truth): the usual OCR character accuracy."""
    previous = list(range(len(read) + 1))
    for i, a in enumerate(truth, 1):
        current = [i]
        for j, b in enumerate(read, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return max(0.0, 1.0 - previous[-1] / max(1, len(truth)))
