"""DetectFaces on real photographs: where faces are, how many, and what AWS's fields say of them."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from conftest import call
from face_scenes import ASTRONAUT_FACE, encode, face_grid, match, rgb
from models_available import needs_models
from PIL import Image, ImageFilter
from recognito.errors import InvalidImageFormatException


@pytest.fixture
def centerface() -> None:
    needs_models("centerface")


def detect(image: np.ndarray | bytes, **request: object) -> dict:
    from recognito.faces.detect import detect_faces

    data = image if isinstance(image, bytes) else encode(image)
    return detect_faces({"Image": {"Bytes": data}, **request})


def pixel_boxes(response: dict, width: int, height: int) -> np.ndarray:
    boxes = [
        [b["Left"] * width, b["Top"] * height, (b["Left"] + b["Width"]) * width, (b["Top"] + b["Height"]) * height]
        for b in (face["BoundingBox"] for face in response["FaceDetails"])
    ]
    return np.array(boxes).reshape(-1, 4)


def landmarks(face: dict) -> dict[str, tuple[float, float]]:
    return {point["Type"]: (point["X"], point["Y"]) for point in face["Landmarks"]}


@pytest.mark.models
@pytest.mark.usefixtures("aws")  # the handler authenticates callers against its tables
def test_astronaut_through_the_handler(centerface: None) -> None:
    body = {"Image": {"Bytes": base64.b64encode(encode(rgb("astronaut"))).decode()}, "Attributes": ["DEFAULT"]}
    status, response = call("DetectFaces", body)
    assert status == 200, response
    assert set(response) == {"FaceDetails"}  # AWS documents OrientationCorrection as always null
    (face,) = response["FaceDetails"]
    assert set(face) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}

    box = face["BoundingBox"]
    assert 0.30 < box["Left"] < 0.40 and 0.48 < box["Left"] + box["Width"] < 0.56
    assert 0.05 < box["Top"] < 0.16 and 0.30 < box["Top"] + box["Height"] < 0.40
    assert 60 < face["Confidence"] <= 100

    points = landmarks(face)
    assert [p["Type"] for p in face["Landmarks"]] == ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"]
    (lx, ly), (rx, ry) = points["eyeLeft"], points["eyeRight"]
    # Her eyes, seen on a drawing of the detection: ~(203, 102) and ~(247, 104) of 512 px.
    assert abs(lx * 512 - 203) < 8 and abs(ly * 512 - 102) < 8
    assert abs(rx * 512 - 247) < 8 and abs(ry * 512 - 104) < 8
    assert lx < rx
    nose_y = points["nose"][1]
    mouth_y = (points["mouthLeft"][1] + points["mouthRight"][1]) / 2
    assert max(ly, ry) < nose_y < mouth_y
    assert lx < points["nose"][0] < rx
    assert points["mouthLeft"][0] < points["mouthRight"][0]

    pose = face["Pose"]
    assert abs(pose["Roll"]) < 10 and abs(pose["Yaw"]) < 15 and abs(pose["Pitch"]) < 15
    quality = face["Quality"]
    assert 50 < quality["Brightness"] < 85  # a well-lit face
    assert quality["Sharpness"] > 80  # a studio portrait


@pytest.mark.models
@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_faceless_photos(centerface: None, name: str) -> None:
    # chelsea is a cat: CenterFace does not take her for a face (heatmap peak under 0.2).
    assert detect(rgb(name))["FaceDetails"] == []


@pytest.mark.models
def test_many_faces_all_found_largest_first(centerface: None) -> None:
    sizes = list(np.linspace(30, 60, 12))
    image, expected = face_grid(1280, 720, sizes, seed=0)
    response = detect(image)
    found = pixel_boxes(response, 1280, 720)
    hit, false_positives = match(expected, found)
    assert hit.all(), f"missed faces of {np.round(np.array(sizes)[~hit])} px"
    assert false_positives == 0 and len(found) == 12
    areas = [face["BoundingBox"]["Width"] * face["BoundingBox"]["Height"] for face in response["FaceDetails"]]
    assert areas == sorted(areas, reverse=True)


@pytest.mark.models
def test_small_face_in_full_hd(centerface: None) -> None:
    # A face 26 px from forehead to chin (~19 px wide), 1/40 of the frame's height: AWS promises
    # faces down to 40 px at this resolution.
    image, expected = face_grid(1920, 1080, [26], background="coffee", seed=3)
    found = pixel_boxes(detect(image), 1920, 1080)
    hit, false_positives = match(expected, found)
    assert hit.all() and false_positives == 0


@pytest.mark.models
def test_exif_rotated_jpeg_gives_the_upright_frame(centerface: None) -> None:
    upright = rgb("astronaut")
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # lying on its side
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    response = detect(encode(np.asarray(stored), "JPEG", quality=95, exif=exif.tobytes()))
    assert "OrientationCorrection" not in response
    (box,) = pixel_boxes(response, 512, 512)
    assert np.abs(box - ASTRONAUT_FACE).max() < 12


@pytest.mark.models
def test_attributes_all_and_single_ones_are_accepted(centerface: None) -> None:
    for attributes in (["ALL"], ["AGE_RANGE", "EMOTIONS"], ["DEFAULT", "FACE_OCCLUDED"]):
        (face,) = detect(rgb("astronaut"), Attributes=attributes)["FaceDetails"]
        assert {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"} <= set(face)


@pytest.mark.usefixtures("aws")
def test_corrupt_bytes_are_an_invalid_image_format() -> None:
    png = encode(rgb("astronaut"))
    with pytest.raises(InvalidImageFormatException):
        detect(png[: len(png) // 3])
    status, response = call("DetectFaces", {"Image": {"Bytes": base64.b64encode(b"\xff\xd8\xff garbage").decode()}})
    assert status == 400 and response["__type"] == "InvalidImageFormatException"


@pytest.mark.models
def test_pose_signs(centerface: None) -> None:
    astronaut = Image.fromarray(rgb("astronaut"))
    # Image.rotate turns counter-clockwise: the face's roll becomes negative, and the other way.
    (ccw,) = detect(np.asarray(astronaut.rotate(20, Image.BILINEAR)))["FaceDetails"]
    (cw,) = detect(np.asarray(astronaut.rotate(-20, Image.BILINEAR)))["FaceDetails"]
    assert ccw["Pose"]["Roll"] < -10 and cw["Pose"]["Roll"] > 10
    # The cameraman is seen in profile, looking towards the image's right.
    (cameraman,) = detect(rgb("camera"))["FaceDetails"]
    assert cameraman["Pose"]["Yaw"] > 30


@pytest.mark.models
def test_quality_follows_the_pixels_and_the_filter(centerface: None) -> None:
    from recognito.faces.details import quality_filter_reasons

    astronaut = Image.fromarray(rgb("astronaut"))
    (sharp,) = detect(np.asarray(astronaut))["FaceDetails"]
    (blurred,) = detect(np.asarray(astronaut.filter(ImageFilter.GaussianBlur(5))))["FaceDetails"]
    (dark,) = detect((np.asarray(astronaut) * 0.2).astype(np.uint8))["FaceDetails"]
    assert blurred["Quality"]["Sharpness"] < sharp["Quality"]["Sharpness"] - 40
    assert dark["Quality"]["Brightness"] < sharp["Quality"]["Brightness"] / 3

    for level in ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH"):
        assert quality_filter_reasons(sharp, level, (512, 512)) == []
    assert quality_filter_reasons(blurred, "HIGH") == ["LOW_SHARPNESS"]
    assert "LOW_BRIGHTNESS" in quality_filter_reasons(dark, "MEDIUM")
    assert quality_filter_reasons(dark, "NONE") == []
    # The same face in a 128 px thumbnail would be ~30 px tall: enough for MEDIUM, not for HIGH.
    assert quality_filter_reasons(sharp, "HIGH", (128, 128)) == ["SMALL_BOUNDING_BOX"]
    assert quality_filter_reasons(sharp, "MEDIUM", (128, 128)) == []
    with pytest.raises(ValueError):
        quality_filter_reasons(sharp, "BEST")


@pytest.mark.models
def test_session_is_created_once(centerface: None) -> None:
    from recognito_inference.sessions import get_session

    assert get_session("centerface") is get_session("centerface")


def test_missing_model_names_make_models(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from recognito_inference.sessions import get_session

    monkeypatch.setenv("RECOGNITO_MODEL_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make models"):
        get_session("no-such-model")
