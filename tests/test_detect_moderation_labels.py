"""DetectModerationLabels: the taxonomy, the real scores of real photographs, MinConfidence, errors.

No test image here is unsafe: scikit-image's photographs are ordinary, and an explicit image is
not something to ship. The mapping and the thresholds are checked with the model's real scores on
them instead (a microscope image of reddish tissue scores highest).
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from conftest import call
from face_scenes import encode, rgb
from models_available import needs_models
from recognito.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
    ResourceNotFoundException,
)

TOP_LEVEL = [
    "Explicit",
    "Non-Explicit Nudity of Intimate parts and Kissing",
    "Swimwear or Underwear",
    "Violence",
    "Visually Disturbing",
    "Drugs & Tobacco",
    "Alcohol",
    "Rude Gestures",
    "Gambling",
    "Hate Symbols",
]


@pytest.fixture
def models() -> None:
    needs_models("opennsfw", "nsfwjs-mobilenet-v2", "efficientnet-lite2")


def detect(image: np.ndarray | bytes, **request: object) -> dict:
    from recognito.custom_labels.moderation import detect_moderation_labels

    data = image if isinstance(image, bytes) else encode(image, "JPEG", quality=92)
    return detect_moderation_labels({"Image": {"Bytes": data}, **request})


def explicit(response: dict) -> dict:
    (label,) = [label for label in response["ModerationLabels"] if label["Name"] == "Explicit"]
    return label


def test_taxonomy_is_rekognitions_v7() -> None:
    from recognito.analysis.moderation import detectable_labels, taxonomy

    labels = taxonomy()["labels"]
    by_name = {label["Name"]: label for label in labels}
    assert len(by_name) == len(labels)
    assert [label["Name"] for label in labels if label["TaxonomyLevel"] == 1] == TOP_LEVEL
    seen: set[str] = set()
    for label in labels:
        if label["TaxonomyLevel"] == 1:
            assert label["ParentName"] == ""
        else:  # parents come first, one level up
            assert label["ParentName"] in seen
            assert by_name[label["ParentName"]]["TaxonomyLevel"] == label["TaxonomyLevel"] - 1
        seen.add(label["Name"])
    assert by_name["Exposed Female Nipple"]["ParentName"] == "Explicit Nudity"
    assert by_name["Weapons"]["ParentName"] == "Violence"
    assert by_name["Smoking"]["ParentName"] == "Drugs & Tobacco Paraphernalia & Use"
    # Only what a model here sees is ever reported, and the parents of those (test_moderation_classes).
    assert [label["Name"] for label in detectable_labels()] == [
        "Explicit", "Violence", "Weapons", "Drugs & Tobacco", "Products", "Pills",
        "Drugs & Tobacco Paraphernalia & Use", "Alcohol", "Alcoholic Beverages",
    ]  # fmt: skip


@pytest.mark.models
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "camera", "rocket"])
def test_ordinary_photographs_are_safe(models: None, name: str) -> None:
    response = detect(rgb(name))
    assert response == {"ModerationLabels": [], "ModerationModelVersion": "7.0", "ContentTypes": []}
    # Empty by the default threshold on a real score, not by a constant answer: the score is
    # there at MinConfidence 0. (No unsafe photograph is at hand for a positive: README says the
    # labels' recall is unvalidated.)
    label = explicit(detect(rgb(name), MinConfidence=0))
    assert label["Confidence"] < 50


@pytest.mark.models
def test_every_score_at_min_confidence_zero(models: None) -> None:
    response = detect(rgb("astronaut"), MinConfidence=0)
    label = explicit(response)
    assert label["ParentName"] == "" and label["TaxonomyLevel"] == 1
    assert 0 < label["Confidence"] < 10  # a portrait in a spacesuit
    (content,) = response["ContentTypes"]
    assert content["Name"] == "Illustrated" and content["Confidence"] < 5  # a photograph


@pytest.mark.models
def test_min_confidence_is_a_threshold_on_the_real_score(models: None) -> None:
    image = rgb("retina")  # reddish tissue: the highest score among scikit-image's photographs
    label = explicit(detect(image, MinConfidence=0))
    score = label["Confidence"]
    assert 10 < score < 30  # and every other label of it scores under 1 (test_moderation_classes)
    assert detect(image, MinConfidence=score - 0.5)["ModerationLabels"] == [label]
    assert detect(image, MinConfidence=score + 0.5)["ModerationLabels"] == []
    assert detect(image)["ModerationLabels"] == []  # the default MinConfidence is 50


@pytest.mark.models
def test_min_confidence_applies_to_content_types(models: None) -> None:
    # nsfwjs takes scikit-image's rocket photograph (a launch pad against a flat sky) for a
    # drawing more than any other of its photographs, yet well under the default 50.
    image = rgb("rocket")
    (content,) = detect(image, MinConfidence=0)["ContentTypes"]
    score = content["Confidence"]
    assert content["Name"] == "Illustrated" and 15 < score < 50
    assert detect(image)["ContentTypes"] == []
    assert detect(image, MinConfidence=score - 0.5)["ContentTypes"] == [content]
    assert detect(image, MinConfidence=score + 0.5)["ContentTypes"] == []


@pytest.mark.models
@pytest.mark.usefixtures("aws")  # ProjectVersion is looked up (tests/test_moderation_adapters.py: the others)
def test_errors(models: None) -> None:
    image = rgb("coffee")
    with pytest.raises(InvalidParameterException, match="HumanLoopConfig"):
        detect(image, HumanLoopConfig={"HumanLoopName": "loop", "FlowDefinitionArn": "arn:aws:sagemaker:x"})
    with pytest.raises(ResourceNotFoundException):
        detect(image, ProjectVersion="arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1")
    with pytest.raises(InvalidImageFormatException):
        detect(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(InvalidParameterException):
        detect(np.zeros((79, 200, 3), np.uint8))
    with pytest.raises(ImageTooLargeException, match="exceed maximum dimension size of 10000 pixels"):
        detect(encode(np.zeros((80, 10_001, 3), np.uint8)))


@pytest.mark.models
@pytest.mark.usefixtures("aws")
def test_through_the_handler(models: None) -> None:
    body = {"Image": {"Bytes": base64.b64encode(encode(rgb("chelsea"), "JPEG")).decode()}, "MinConfidence": 0}
    status, response = call("DetectModerationLabels", body)
    assert status == 200, response
    assert response["ModerationModelVersion"] == "7.0"
    assert response["ModerationLabels"][0]["Name"] == "Explicit"
    assert all(label["Confidence"] < 5 for label in response["ModerationLabels"])  # a cat
    assert [content["Name"] for content in response["ContentTypes"]] == ["Illustrated"]

    status, response = call("DetectModerationLabels", {**body, "MinConfidence": 150})
    assert status == 400 and response["__type"] == "ValidationException"
