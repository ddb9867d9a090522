"""DetectText on real and drawn text: what is read, where, and what the filters and errors do."""

from __future__ import annotations

import base64
import functools
import math

import numpy as np
import pytest
from conftest import call
from face_scenes import encode, rgb
from models_available import needs_models
from recognito.errors import ImageTooLargeException, InvalidImageFormatException, InvalidParameterException
from text_scenes import PAGE_LINES, character_accuracy, many_words, scene

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def ppocr() -> None:
    needs_models("ppocrv4-det", "ppocrv4-rec", "ppocr-cls")


def detect(image: np.ndarray | bytes, **request: object) -> dict:
    from recognito.analysis.text import detect_text

    data = image if isinstance(image, bytes) else encode(image)
    return detect_text({"Image": {"Bytes": data}, **request})


@functools.cache
def page() -> dict:
    return detect(rgb("page"))


@functools.cache
def drawn() -> tuple[dict, list]:
    image, lines = scene()
    return detect(image), lines, image.shape


def of_type(response: dict, kind: str) -> list[dict]:
    return [t for t in response["TextDetections"] if t["Type"] == kind]


def box_iou(a: dict, b: dict) -> float:
    ax1, ay1 = a["Left"] + a["Width"], a["Top"] + a["Height"]
    bx1, by1 = b["Left"] + b["Width"], b["Top"] + b["Height"]
    w = max(0.0, min(ax1, bx1) - max(a["Left"], b["Left"]))
    h = max(0.0, min(ay1, by1) - max(a["Top"], b["Top"]))
    inter = w * h
    return inter / (a["Width"] * a["Height"] + b["Width"] * b["Height"] - inter)


def truth_box(corners: np.ndarray, shape: tuple) -> dict:
    height, width = shape[:2]
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    return {"Left": x0 / width, "Top": y0 / height, "Width": (x1 - x0) / width, "Height": (y1 - y0) / height}


def test_page_is_read_line_by_line() -> None:
    response = page()
    assert response["TextModelVersion"] == "3.0"
    lines = [t["DetectedText"] for t in of_type(response, "LINE")]
    # The heading and the first lines of prose, word for word.
    assert lines[:3] == PAGE_LINES[:3]
    assert lines[4] == PAGE_LINES[4]  # the line bent by the page's curl, read along its curve
    accuracy = character_accuracy("\n".join(PAGE_LINES[:6]), "\n".join(lines[:6]))
    assert accuracy > 0.98, lines
    words = {t["DetectedText"] for t in of_type(response, "WORD")}
    assert {"Region-based", "segmentation", "markers", "unambiguously", "histogram", "values:"} <= words


def test_lines_come_first_and_words_point_to_them() -> None:
    detections = page()["TextDetections"]
    assert [t["Id"] for t in detections] == list(range(len(detections)))
    kinds = [t["Type"] for t in detections]
    n_lines = kinds.count("LINE")
    assert kinds == ["LINE"] * n_lines + ["WORD"] * (len(kinds) - n_lines)
    lines = {t["Id"]: t for t in detections if t["Type"] == "LINE"}
    assert all("ParentId" not in line for line in lines.values())
    for line_id, line in lines.items():
        children = [t for t in detections if t.get("ParentId") == line_id]
        assert " ".join(w["DetectedText"] for w in children) == line["DetectedText"]
        assert line["Confidence"] == pytest.approx(np.mean([w["Confidence"] for w in children]))
    for t in detections:
        assert 80 <= t["Confidence"] <= 100  # the default WordFilter.MinConfidence is 80
        polygon = np.array([[p["X"], p["Y"]] for p in t["Geometry"]["Polygon"]])
        box = t["Geometry"]["BoundingBox"]
        assert polygon.shape == (4, 2)
        assert polygon[:, 0].min() == pytest.approx(box["Left"]) and polygon[:, 1].min() == pytest.approx(box["Top"])
        assert polygon[:, 0].max() == pytest.approx(box["Left"] + box["Width"])
        assert polygon[:, 1].max() == pytest.approx(box["Top"] + box["Height"])


def test_words_sit_inside_their_line_in_reading_order() -> None:
    detections = page()["TextDetections"]
    for line in of_type(page(), "LINE"):
        lb = line["Geometry"]["BoundingBox"]
        words = [t for t in detections if t.get("ParentId") == line["Id"]]
        lefts = [w["Geometry"]["BoundingBox"]["Left"] for w in words]
        assert lefts == sorted(lefts)
        for word in words:
            wb = word["Geometry"]["BoundingBox"]
            assert wb["Left"] >= lb["Left"] - 1e-6 and wb["Left"] + wb["Width"] <= lb["Left"] + lb["Width"] + 1e-6


def test_drawn_lines_and_their_words() -> None:
    response, lines, shape = drawn()
    read = [t["DetectedText"] for t in of_type(response, "LINE")]
    assert read == ["Hello recognito world", "Quick brown fox 42", "Rotated words here", "Upside down"]
    words = of_type(response, "WORD")
    truth = [w for line in lines for w in line.words]
    assert [w["DetectedText"] for w in words] == [w.text for w in truth]
    for word, expected in zip(words, truth, strict=True):
        # Each word has its own box, on the word's ink (the axis-aligned boxes of rotated words
        # include some background either way).
        assert box_iou(word["Geometry"]["BoundingBox"], truth_box(expected.corners, shape)) > 0.6, word
        assert word["Confidence"] > 95


def test_rotated_and_upside_down_text_keeps_its_direction() -> None:
    response, _, shape = drawn()
    height, width = shape[:2]
    lines = {t["DetectedText"]: t for t in of_type(response, "LINE")}

    def corners(detection: dict) -> np.ndarray:
        return np.array([[p["X"] * width, p["Y"] * height] for p in detection["Geometry"]["Polygon"]])

    tl, tr, br, bl = corners(lines["Rotated words here"])
    # The top edge, read left to right, rises at the drawn 25 degrees.
    assert math.degrees(math.atan2(-(tr - tl)[1], (tr - tl)[0])) == pytest.approx(25, abs=3)
    tl, tr, br, bl = corners(lines["Upside down"])
    # Read upside down, the text's top-left corner is at the bottom right of the image.
    assert tl[0] > br[0] and tl[1] > br[1]
    assert abs(math.degrees(math.atan2(-(tr - tl)[1], (tr - tl)[0]))) == pytest.approx(180, abs=3)


def test_word_filter() -> None:
    image, _ = scene()
    everything = detect(image, Filters={"WordFilter": {"MinConfidence": 0}})
    assert len(of_type(everything, "WORD")) == 12
    # The big heading's words are taller than 7% of the image, the others are not.
    tall = detect(image, Filters={"WordFilter": {"MinBoundingBoxHeight": 0.07}})
    heights = [w["Geometry"]["BoundingBox"]["Height"] for w in of_type(everything, "WORD")]
    kept = [w["DetectedText"] for w, h in zip(of_type(everything, "WORD"), heights, strict=True) if h >= 0.07]
    assert [w["DetectedText"] for w in of_type(tall, "WORD")] == kept
    assert 0 < len(kept) < 12
    wide = detect(image, Filters={"WordFilter": {"MinBoundingBoxWidth": 0.15}})
    assert {w["DetectedText"] for w in of_type(wide, "WORD")} == {"recognito", "Rotated"}
    none = detect(image, Filters={"WordFilter": {"MinConfidence": 100}})
    assert none["TextDetections"] == [] or all(t["Confidence"] >= 100 for t in none["TextDetections"])


def test_regions_of_interest() -> None:
    image, lines = scene()
    height, width = image.shape[:2]
    # A box around "recognito" only: the word is kept, and its line is just that word.
    corners = lines[0].words[1].corners
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    box = {"Left": x0 / width, "Top": y0 / height, "Width": (x1 - x0) / width, "Height": (y1 - y0) / height}
    response = detect(image, Filters={"RegionsOfInterest": [{"BoundingBox": box}]})
    assert [(t["Type"], t["DetectedText"]) for t in response["TextDetections"]] == [
        ("LINE", "recognito"),
        ("WORD", "recognito"),
    ]
    # A polygon around the turned line (its words' corners), and a box over the right half of
    # the image: any region counts, and a word half outside a region is left out.
    turned = np.concatenate([w.corners for w in lines[2].words]) / [width, height]
    polygon = [{"X": float(x), "Y": float(y)} for x, y in turned[[0, 9, 10, 3]]]
    right = {"Left": 0.5, "Top": 0.0, "Width": 0.5, "Height": 1.0}
    response = detect(image, Filters={"RegionsOfInterest": [{"Polygon": polygon}, {"BoundingBox": right}]})
    assert [t["DetectedText"] for t in of_type(response, "LINE")] == ["Rotated words here", "Upside down"]


def test_at_most_100_words() -> None:
    image, texts = many_words()
    response = detect(image)
    words = of_type(response, "WORD")
    assert len(words) == 100
    # The first 100 in reading order (a word misread here or there would not move the cut).
    expected = " ".join(texts).split()[:100]
    read = [w["DetectedText"] for w in words]
    assert sum(a == b for a, b in zip(read, expected, strict=True)) >= 97
    assert read[-1] == expected[-1]
    lines = of_type(response, "LINE")
    assert " ".join(line["DetectedText"] for line in lines).split() == read


def test_handwriting_is_not_taken_for_print() -> None:
    # scikit-image's text() is handwritten formulas on a slanted sheet: PP-OCR's printed-text
    # recognizer makes out no line with any confidence, so nothing is returned.
    assert detect(rgb("text"))["TextDetections"] == []


def test_blank_image_has_no_text() -> None:
    assert detect(np.full((200, 300, 3), 255, np.uint8))["TextDetections"] == []
    assert detect(rgb("coffee"))["TextDetections"] == []


@pytest.mark.parametrize(
    "filters",
    [
        {"RegionsOfInterest": [{}]},
        {"RegionsOfInterest": [{"BoundingBox": {"Left": 0.1, "Top": 0.1}}]},
        {"RegionsOfInterest": [{"Polygon": [{"X": 0.1, "Y": 0.1}, {"X": 0.5, "Y": 0.1}]}]},
    ],
)
def test_invalid_regions(filters: dict) -> None:
    with pytest.raises(InvalidParameterException):
        detect(np.full((100, 100, 3), 255, np.uint8), Filters=filters)


def test_image_errors() -> None:
    with pytest.raises(InvalidImageFormatException):
        detect(b"GIF89a not an image we take")
    with pytest.raises(InvalidParameterException):
        detect(np.full((60, 300, 3), 255, np.uint8))  # under 80 px high
    with pytest.raises(ImageTooLargeException):
        detect(b"\0" * (5 * 1024 * 1024 + 1))


@pytest.mark.usefixtures("aws")
def test_through_the_handler() -> None:
    body = {
        "Image": {"Bytes": base64.b64encode(encode(rgb("page"), "JPEG", quality=90)).decode()},
        "Filters": {"WordFilter": {"MinConfidence": 90, "MinBoundingBoxHeight": 0.05}},
    }
    status, response = call("DetectText", body)
    assert status == 200, response
    assert set(response) == {"TextDetections", "TextModelVersion"}
    assert response["TextDetections"][0]["DetectedText"] == "Region-based segmentation"
    assert all(t["Confidence"] >= 90 for t in response["TextDetections"])

    status, response = call("DetectText", {"Image": {"Bytes": base64.b64encode(b"nope").decode()}})
    assert status == 400 and response["__type"] == "InvalidImageFormatException"
    status, response = call("DetectText", {**body, "Filters": {"WordFilter": {"MinConfidence": 101}}})
    assert status == 400 and response["__type"] == "ValidationException"
