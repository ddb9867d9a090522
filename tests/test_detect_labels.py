"""DetectLabels on real photographs and generated images: labels, taxonomy, boxes, filters, image
properties, and the documented errors for bad input."""

from __future__ import annotations

import base64
import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import call
from models_available import needs_models
from PIL import Image, ImageFilter
from skimage import data

TAXONOMY = Path(__file__).resolve().parents[1] / "shared" / "recognito" / "data" / "labels_taxonomy.json"
SIMPLIFIED = {"black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "teal", "white", "yellow"}


@pytest.fixture
def label_models() -> None:
    needs_models("efficientnet-lite2", "nanodet", "ppocrv4-det", "ppocrv4-rec", "ppocr-cls")


def encode(rgb: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt)
    return buf.getvalue()


@cache
def photo(name: str) -> bytes:
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return encode(image)


def detect(image: bytes, **request: object) -> dict:
    from recognito.analysis.labels import detect_labels

    return detect_labels({"Image": {"Bytes": image}, **request})


@cache
def default_labels(name: str) -> str:
    return json.dumps(detect(photo(name)))


def labels_of(name: str) -> dict[str, dict]:
    return {label["Name"]: label for label in json.loads(default_labels(name))["Labels"]}


def names(label: dict, key: str) -> list[str]:
    return [item["Name"] for item in label[key]]


# ------------------------------------------------------------------------------------ real photos
@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_chelsea_is_a_cat_not_a_dog() -> None:
    labels = labels_of("chelsea")
    cat = labels["Cat"]
    assert cat["Confidence"] > 90
    assert names(cat, "Parents") == ["Animal", "Mammal", "Pet"]
    assert names(cat, "Categories") == ["Animals and Pets"]
    # The parents are labels too, at least as confident as their child.
    for parent in ("Animal", "Mammal", "Pet"):
        assert labels[parent]["Confidence"] >= cat["Confidence"]
        assert labels[parent]["Instances"] == []
    (box,) = [i["BoundingBox"] for i in cat["Instances"]]  # the cat fills the frame
    assert box["Width"] > 0.8 and box["Height"] > 0.8
    assert "Dog" not in labels


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_coffee_is_a_cup_of_espresso() -> None:
    labels = labels_of("coffee")
    assert labels["Cup"]["Confidence"] > 90
    (cup,) = labels["Cup"]["Instances"]
    box = cup["BoundingBox"]
    # The cup (not the saucer) is at ~x 170-415, y 20-250 of the 600 x 400 photo.
    assert 0.25 < box["Left"] < 0.32 and 0.65 < box["Left"] + box["Width"] < 0.72
    assert box["Top"] < 0.1 and 0.55 < box["Top"] + box["Height"] < 0.7
    assert names(labels["Coffee Cup"], "Parents") == ["Cup", "Tableware"]
    assert names(labels["Coffee Cup"], "Aliases") == ["Mug"]
    assert names(labels["Espresso"], "Parents") == ["Beverage", "Coffee"]
    assert names(labels["Espresso"], "Categories") == ["Food and Beverage"]


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_people_are_persons_with_boxes(name: str) -> None:
    person = labels_of(name)["Person"]
    assert person["Confidence"] > 85
    assert names(person, "Aliases") == ["Human"]
    assert names(person, "Categories") == ["Person Description"]
    (box,) = [i["BoundingBox"] for i in person["Instances"]]
    # Both stand left of centre, cut by the bottom edge.
    assert box["Left"] < 0.1 and 0.55 < box["Left"] + box["Width"] < 0.75
    assert box["Top"] + box["Height"] > 0.9


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_response_shape_and_order() -> None:
    response = json.loads(default_labels("chelsea"))
    assert set(response) == {"Labels", "LabelModelVersion"}
    labels = response["Labels"]
    assert [label["Name"] for label in labels] == sorted(
        (label["Name"] for label in labels), key=lambda n: (-next(x["Confidence"] for x in labels if x["Name"] == n), n)
    )
    assert len({label["Name"] for label in labels}) == len(labels)
    present = {label["Name"] for label in labels}
    for label in labels:
        assert set(label) == {"Name", "Confidence", "Instances", "Parents", "Aliases", "Categories"}
        assert 55 <= label["Confidence"] <= 100
        assert {p["Name"] for p in label["Parents"]} <= present
        for instance in label["Instances"]:
            assert set(instance) == {"BoundingBox", "Confidence"}  # colours only with IMAGE_PROPERTIES


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
@pytest.mark.usefixtures("aws")
def test_through_the_handler() -> None:
    body = {"Image": {"Bytes": base64.b64encode(photo("coffee")).decode()}, "MaxLabels": 3, "MinConfidence": 80}
    status, response = call("DetectLabels", body)
    assert status == 200, response
    assert response["LabelModelVersion"] == "3.0"
    assert len(response["Labels"]) == 3
    assert all(label["Confidence"] >= 80 for label in response["Labels"])
    # The Open Images detector's "Coffee cup" box and its parent "Cup", equally confident.
    assert [label["Name"] for label in response["Labels"][:2]] == ["Coffee Cup", "Cup"]


# ------------------------------------------------------------------------------ MaxLabels, filters
@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_max_labels_and_min_confidence() -> None:
    everything = json.loads(default_labels("chelsea"))["Labels"]
    top = detect(photo("chelsea"), MaxLabels=2)["Labels"]
    assert [label["Name"] for label in top] == [label["Name"] for label in everything[:2]]
    assert detect(photo("chelsea"), MaxLabels=0)["Labels"] == []
    low = detect(photo("chelsea"), MinConfidence=10)["Labels"]
    assert len(low) > len(everything)
    assert min(label["Confidence"] for label in low) >= 10
    assert all(label["Confidence"] >= 96 for label in detect(photo("chelsea"), MinConfidence=96)["Labels"])


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_filters() -> None:
    def filtered(name: str, **general: list[str]) -> set[str]:
        response = detect(photo(name), Settings={"GeneralLabels": general})
        return {label["Name"] for label in response["Labels"]}

    assert filtered("chelsea", LabelInclusionFilters=["Cat"]) == {"Cat"}
    assert "Pet" not in filtered("chelsea", LabelExclusionFilters=["Pet"])
    assert filtered("astronaut", LabelInclusionFilters=["Human"]) == {"Person"}  # an alias
    coffee = filtered("coffee", LabelCategoryInclusionFilters=["Food and Beverage"])
    assert {"Espresso", "Coffee", "Beverage"} <= coffee and "Cup" not in coffee
    assert not filtered("chelsea", LabelCategoryExclusionFilters=["Animals and Pets"]) & {"Cat", "Animal"}
    both = filtered("coffee", LabelCategoryInclusionFilters=["Kitchen and Dining"], LabelExclusionFilters=["Tableware"])
    assert "Cup" in both and "Tableware" not in both


# ---------------------------------------------------------------------------------- generated images
@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_collage_boxes_each_object_where_it_is() -> None:
    cat = np.asarray(Image.fromarray(data.chelsea()).resize((400, 266)))
    cup = np.asarray(Image.fromarray(data.coffee()).resize((400, 266)))
    labels = {label["Name"]: label for label in detect(encode(np.concatenate([cat, cup], axis=1)))["Labels"]}
    (cat_box,) = [i["BoundingBox"] for i in labels["Cat"]["Instances"]]
    (cup_box,) = [i["BoundingBox"] for i in labels["Cup"]["Instances"]]
    assert cat_box["Left"] + cat_box["Width"] < 0.55  # the left half
    assert cup_box["Left"] > 0.5  # the right half


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_image_properties_foreground_from_detections() -> None:
    canvas = np.zeros((600, 900, 3), dtype=np.uint8)
    canvas[:] = (34, 139, 34)  # CSS forestgreen
    canvas[44:556, 194:706] = data.astronaut()
    response = detect(encode(canvas), Features=["GENERAL_LABELS", "IMAGE_PROPERTIES"])
    props = response["ImageProperties"]
    assert set(props) == {"Quality", "DominantColors", "Foreground", "Background"}
    assert set(props["Quality"]) == {"Brightness", "Sharpness", "Contrast"}
    assert set(props["Foreground"]["Quality"]) == {"Brightness", "Sharpness"}
    background = props["Background"]["DominantColors"][0]
    assert background["CSSColor"] == "forestgreen" and background["PixelPercent"] > 60
    assert (background["Red"], background["Green"], background["Blue"]) == (34, 139, 34)
    assert background["HexCode"] == "#228b22" and background["SimplifiedColor"] == "green"
    assert all(c["SimplifiedColor"] != "green" for c in props["Foreground"]["DominantColors"])
    (person,) = [label for label in response["Labels"] if label["Name"] == "Person"]
    (instance,) = person["Instances"]
    assert instance["DominantColors"] and all(c["SimplifiedColor"] != "green" for c in instance["DominantColors"][:2])


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_image_properties_only() -> None:
    square = np.full((240, 320, 3), 255, dtype=np.uint8)
    square[80:160, 120:200] = (255, 0, 0)
    settings = {"ImageProperties": {"MaxDominantColors": 1}}
    response = detect(encode(square), Features=["IMAGE_PROPERTIES"], Settings=settings)
    assert response["Labels"] == [] and response["LabelModelVersion"] == "3.0"
    props = response["ImageProperties"]
    (whole,) = props["DominantColors"]
    assert (whole["CSSColor"], whole["SimplifiedColor"]) == ("white", "white")
    # Nothing detected: the foreground is what stands out from the border's colours.
    assert props["Foreground"]["DominantColors"][0]["CSSColor"] == "red"
    assert props["Background"]["DominantColors"][0]["CSSColor"] == "white"
    for color in props["DominantColors"] + props["Foreground"]["DominantColors"]:
        assert color["SimplifiedColor"] in SIMPLIFIED
        assert color["HexCode"] == "#{:02x}{:02x}{:02x}".format(color["Red"], color["Green"], color["Blue"])


@pytest.mark.models
@pytest.mark.usefixtures("label_models")
def test_quality_follows_the_pixels() -> None:
    astronaut = data.astronaut()
    blurred = np.asarray(Image.fromarray(astronaut).filter(ImageFilter.GaussianBlur(3)))
    dark = (astronaut * 0.3).astype(np.uint8)
    flat = np.full_like(astronaut, 128)

    def q(image: np.ndarray) -> dict:
        return detect(encode(image), Features=["IMAGE_PROPERTIES"])["ImageProperties"]["Quality"]

    sharp, soft, dim, plain = q(astronaut), q(blurred), q(dark), q(flat)
    assert sharp["Sharpness"] > 70 and soft["Sharpness"] < 30
    assert dim["Brightness"] < sharp["Brightness"] * 0.5
    assert plain["Contrast"] < 1 and sharp["Contrast"] > 60
    assert all(0 <= v <= 100 for v in (*sharp.values(), *soft.values(), *dim.values(), *plain.values()))


# ---------------------------------------------------------------------------------------- errors
@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("image", "error"),
    [
        (b"not an image", "InvalidImageFormatException"),
        (encode(np.zeros((50, 50, 3), dtype=np.uint8)), "InvalidParameterException"),  # under 80 px
        (encode(np.zeros((10001, 80, 3), dtype=np.uint8)), "ImageTooLargeException"),  # over 10,000 px
    ],
    ids=["garbage", "too-small", "too-tall"],
)
def test_bad_images(image: bytes, error: str) -> None:
    status, response = call("DetectLabels", {"Image": {"Bytes": base64.b64encode(image).decode()}})
    assert status == 400
    assert response["__type"].endswith(error)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "extra",
    [{"MinConfidence": 101}, {"Features": ["LABELS"]}, {"Settings": {"ImageProperties": {"MaxDominantColors": 21}}}],
    ids=["confidence", "feature", "colors"],
)
def test_bad_parameters(extra: dict) -> None:
    body = {"Image": {"Bytes": base64.b64encode(photo("coffee")).decode()}, **extra}
    status, response = call("DetectLabels", body)
    assert status == 400, response


# -------------------------------------------------------------------------------------- taxonomy
def test_taxonomy_is_consistent() -> None:
    taxonomy = json.loads(TAXONOMY.read_text())
    labels = taxonomy["labels"]
    assert len(taxonomy["categories"]) == 40 and len(taxonomy["coco"]) == 80 and len(taxonomy["imagenet"]) == 1000
    for name, entry in labels.items():
        assert entry["parents"] == sorted(set(entry["parents"])), name
        for parent in entry["parents"]:
            # Parents are transitive: a parent's ancestors are the label's too.
            assert set(labels[parent]["parents"]) <= set(entry["parents"]), (name, parent)
        assert entry["categories"] and set(entry["categories"]) <= set(taxonomy["categories"]), name
        assert not set(entry["aliases"]) & set(labels), name
    for cls in taxonomy["coco"] + taxonomy["imagenet"]:
        assert all(label in labels for label in cls["labels"]), cls
    assert labels["Cat"]["parents"] == ["Animal", "Mammal", "Pet"]
