"""The technical cue detectors on their own (numpy, no video job, no model): colour bars on drawn
cards and real photographs, the vertical motion of a scrolling picture, the credits aggregation's
edge cases. The jobs that run them on encoded clips are in test_video_jobs.py."""

from __future__ import annotations

import numpy as np
import pytest
from face_scenes import rgb
from PIL import Image
from recognito.video import segments
from video_clips import ebu_bars, hd_bars, smpte_bars


def thumbnails(card: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grey and RGB 8x8-block thumbnails, as media.Frame makes them (box averages)."""
    height, width = card.shape[0] // segments.BLOCK, card.shape[1] // segments.BLOCK
    colour = np.asarray(Image.fromarray(card).resize((width, height), Image.BOX))
    grey = np.asarray(Image.fromarray(card).convert("L").resize((width, height), Image.BOX))
    return grey, colour


@pytest.mark.parametrize(
    ("draw", "size", "layout"),
    [
        (smpte_bars, (720, 480), (0.0, 1.0)),
        (ebu_bars, (720, 576), (0.0, 1.0)),
        (hd_bars, (1920, 1080), (0.125, 0.875)),
    ],
)
def test_color_bar_cards_are_found_in_their_layout(draw, size, layout):
    grey, colour = thumbnails(draw(*size))
    assert segments.bars_layout(grey) == layout
    assert segments.color_bars_match(colour, layout) >= segments.BARS_MIN_MATCH


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "colorwheel"])
def test_photographs_are_no_color_bars(name):
    grey, colour = thumbnails(rgb(name))
    layout = segments.bars_layout(grey)
    assert layout is None or segments.color_bars_match(colour, layout) < segments.BARS_MIN_MATCH


def test_the_bars_in_the_wrong_order_are_no_color_bars():
    card = smpte_bars(720, 480)
    columns = np.array_split(np.arange(720), 7)
    shuffled = card.copy()
    for target, source in zip(columns, [columns[i] for i in (0, 2, 1, 3, 4, 5, 6)], strict=True):
        shuffled[:, target] = card[:, source[: len(target)]]
    grey, _ = thumbnails(shuffled)
    assert segments.bars_layout(grey) is None  # yellow and cyan swapped: not a staircase


def test_vertical_motion_of_a_scrolling_profile():
    rows = np.random.default_rng(7).random(400).astype(np.float32)
    assert segments.vertical_motion(rows[5:365], rows[:360]) == (5.0, 1.0)  # content moved down 5 rows
    assert segments.vertical_motion(rows[:360], rows[3:363]) == (-3.0, 1.0)  # up 3
    other = np.random.default_rng(8).random(360).astype(np.float32)
    shift, correlation = segments.vertical_motion(rows[:360], other)  # unrelated pictures
    assert correlation < segments.CREDITS_MIN_CORRELATION


def test_credits_need_a_long_run_of_upward_motion_and_text():
    lines = [[0.2, 0.1, 0.8, 0.15], [0.2, 0.3, 0.8, 0.35]]
    text = [{"Timestamp": t, "Lines": lines} for t in range(0, 4000, 500)]
    rolling = [[n, -0.005, 0.99] for n in range(1, 75)]
    (cue,) = segments.credits(rolling, text, 25.0, 100, 80.0)
    assert (cue["TechnicalCueSegment"]["Type"], cue["StartFrameNumber"], cue["EndFrameNumber"]) == (
        "OpeningCredits",
        0,
        74,
    )
    assert segments.credits([[n, -0.005, 0.99] for n in range(1, 30)], text, 25.0, 100, 80.0) == []  # 1.2 s
    assert (
        segments.credits(rolling, [{"Timestamp": t, "Lines": []} for t in range(0, 4000, 500)], 25.0, 100, 80.0) == []
    )
    assert segments.credits([[n, 0.005, 0.99] for n in range(1, 75)], text, 25.0, 100, 80.0) == []  # downwards
    assert segments.credits([[10, -0.01, 1.0]], text, 25.0, 100, 80.0) == []  # one frame: no window to smooth
    (late,) = segments.credits(
        [[n, -0.005, 0.99] for n in range(60, 99)], text + [{"Timestamp": 3500, "Lines": lines}], 25.0, 100, 80.0
    )
    assert late["TechnicalCueSegment"]["Type"] == "EndCredits"


def cue(kind: str, first: int, last: int, confidence: float) -> dict:
    entry = segments.segment("TECHNICAL_CUE", first, last + 1, 25.0)
    entry["TechnicalCueSegment"] = {"Type": kind, "Confidence": confidence}
    return entry


def test_content_is_what_no_other_cue_covers():
    cues = [cue("ColorBars", 0, 24, 95.0), cue("Slate", 25, 74, 90.0), cue("BlackFrames", 200, 209, 100.0)]
    found = segments.content(cues, 300, 25.0)
    assert [(c["StartFrameNumber"], c["EndFrameNumber"], c["TechnicalCueSegment"]["Confidence"]) for c in found] == [
        (75, 199, 90.0),  # between the slate and the black frames: as sure as the less sure of the two
        (210, 299, 100.0),  # up to the end
    ]
    assert found[0]["DurationMillis"] == 5000 and found[0]["StartTimecodeSMPTE"] == "00:00:03:00"
    assert segments.content([cue("BlackFrames", 10, 19, 100.0)], 44, 25.0) == []  # 0.4 s and 0.96 s: too short
    (whole,) = segments.content([], 50, 25.0)
    assert (whole["StartFrameNumber"], whole["EndFrameNumber"], whole["TechnicalCueSegment"]["Confidence"]) == (
        0,
        49,
        100.0,
    )
    overlapping = [cue("OpeningCredits", 0, 99, 85.0), cue("BlackFrames", 50, 59, 100.0)]
    assert [c["StartFrameNumber"] for c in segments.content(overlapping, 200, 25.0)] == [100]


def test_slates_need_a_long_still_run_of_several_lines_early_in_the_video():
    three = [[0.1, 0.1, 0.5, 0.15], [0.1, 0.3, 0.5, 0.35], [0.1, 0.5, 0.5, 0.55]]
    samples = [{"Timestamp": t, "Lines": three} for t in range(1000, 3000, 500)]
    (slate,) = segments.slates([[26, 74]], samples, 25.0, 80.0)  # frames 26-74 like the one before: 25-74
    assert (slate["StartFrameNumber"], slate["EndFrameNumber"], slate["TechnicalCueSegment"]) == (
        25,
        74,
        {"Type": "Slate", "Confidence": 100.0},
    )
    assert segments.slates([[26, 40], [41, 74]], samples, 25.0, 80.0)[0]["EndFrameNumber"] == 74  # range border
    one_line = [{"Timestamp": t, "Lines": three[:1]} for t in range(1000, 3000, 500)]
    assert segments.slates([[26, 74]], one_line, 25.0, 80.0) == []  # a title card
    assert segments.slates([[26, 40]], samples, 25.0, 80.0) == []  # 0.6 s
    assert segments.slates([[26, 74]], [], 25.0, 80.0) == []  # nothing read
    late = [{"Timestamp": t, "Lines": three} for t in range(121000, 123000, 500)]
    assert segments.slates([[3026, 3074]], late, 25.0, 80.0) == []  # past the first two minutes
    half = samples[:2] + one_line[2:]
    assert segments.slates([[26, 74]], half, 25.0, 80.0) == []  # 50 < 80
    assert segments.slates([[26, 74]], half, 25.0, 50.0)[0]["TechnicalCueSegment"]["Confidence"] == 50.0


@pytest.mark.parametrize("layout", ["list", "table", "clapper"])
def test_a_slate_card_has_a_flat_backdrop_and_photographs_do_not(layout):
    from video_clips import slate_card

    grey, _ = thumbnails(slate_card(layout))
    assert segments.backdrop_share(grey) >= segments.SLATE_MIN_BACKDROP
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        photo, _ = thumbnails(rgb(name))
        assert segments.backdrop_share(photo) < segments.SLATE_MIN_BACKDROP, name
