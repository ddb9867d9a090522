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
