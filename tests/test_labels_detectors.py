"""DetectLabels with every detector that ships: the Open Images SSD's boxes beside NanoDet's, NanoDet
on tiles of large images, Text from DetectText's reader, Clothing from what people wear, and labels
only where a model said them or a child implies them.

Real photographs: foolbox's ImageNet validation photos (a shoe, a jeep, a Dalmatian) and
scikit-image's; the large image is scikit-image's cat pasted small onto its grass, 2400 x 1600;
text drawn with Pillow's font (tests/text_scenes.py).
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from face_scenes import encode, rgb
from models_available import needs_models
from package_photos import foolbox_photo
from PIL import Image

TAXONOMY = Path(__file__).resolve().parents[1] / "shared" / "recognito" / "data" / "labels_taxonomy.json"
CAT_BOX = (1800, 1200, 2100, 1400)  # where the cat is pasted: x1, y1, x2, y2

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def models() -> None:
    needs_models("efficientnet-lite2", "nanodet", "oid-ssd", "ppocrv4-det", "ppocrv4-rec", "ppocr-cls")


def labels(image: np.ndarray, **request: object) -> dict[str, dict]:
    from recognito.analysis.labels import detect_labels

    response = detect_labels({"Image": {"Bytes": encode(image, "JPEG", quality=92)}, **request})
    return {label["Name"]: label for label in response["Labels"]}


@cache
def named_by_a_model() -> frozenset[str]:
    """Labels some class of some model names itself (not only through a descendant), the concepts
    named by their kinds' summed mass, and the labels of the reader and the torso crops."""
    from recognito.analysis.labels import CLOTHING, CONCEPTS, TEXT

    data = json.loads(TAXONOMY.read_text())
    classes = {name for kind in ("coco", "oid", "imagenet") for cls in data[kind] for name in cls["labels"]}
    return frozenset(classes | CONCEPTS | {TEXT, CLOTHING})


def small_cat_on_grass() -> np.ndarray:
    field = np.asarray(Image.fromarray(rgb("grass")).resize((2400, 1600))).copy()
    x1, y1, x2, y2 = CAT_BOX
    field[y1:y2, x1:x2] = np.asarray(Image.fromarray(rgb("chelsea")).resize((x2 - x1, y2 - y1)))
    return field


def test_the_open_images_detector_boxes_a_shoe() -> None:
    # NanoDet's COCO classes have no footwear: the box is the Open Images SSD's.
    found = labels(foolbox_photo(11, 630))
    footwear = found["Footwear"]
    assert [p["Name"] for p in footwear["Parents"]] == ["Clothing"] and "Clothing" in found
    (box,) = [instance["BoundingBox"] for instance in footwear["Instances"]]
    assert box["Width"] > 0.8 and 0.3 < box["Height"] < 0.7  # the shoe lies across the photo
    assert footwear["Confidence"] > 70


@pytest.mark.parametrize(
    "photo",
    [lambda: foolbox_photo(6, 609), lambda: foolbox_photo(16, 251), lambda: rgb("coffee"), lambda: rgb("chelsea")],
    ids=["jeep", "dalmatian", "coffee", "chelsea"],
)
def test_a_parent_comes_with_the_child_that_implies_it(photo: object) -> None:
    found = labels(photo())  # type: ignore[operator]
    assert found
    for name, label in found.items():
        children = [n for n, other in found.items() if name in [p["Name"] for p in other["Parents"]]]
        assert name in named_by_a_model() or children, f"{name} without a child"
        for parent in label["Parents"]:  # and every parent is returned, at least as confident
            assert found[parent["Name"]]["Confidence"] >= label["Confidence"]


def test_the_jeep_is_a_car_and_a_vehicle() -> None:
    found = labels(foolbox_photo(6, 609))
    assert {"Car", "Vehicle", "Transportation"} <= set(found)
    assert any(instance["Confidence"] > 55 for instance in found["Car"]["Instances"])


def test_probability_spread_over_children_does_not_make_a_parent() -> None:
    # scikit-image's rocket: the classifier spreads its belief over oil rigs, missiles, a space
    # shuttle and animals; summed, "Animal" (54) and "Vehicle" (37) would pass MinConfidence 30,
    # but no class of either is named at 30, so neither is returned. The oil rig is (35).
    found = labels(rgb("rocket"), MinConfidence=30)
    assert "Oil Rig" in found
    assert not {"Animal", "Vehicle", "Transportation", "Mammal"} & set(found)


def test_tiles_find_a_small_cat_in_a_large_image() -> None:
    from recognito.analysis.labels import detect_objects_tiled, taxonomy
    from recognito_inference.boxes import iou
    from recognito_inference.object_detector import detect_objects

    image = small_cat_on_grass()
    names = taxonomy().coco_labels
    whole = [d for d in detect_objects(image, min_score=0.25) if names[d.class_id] == "Cat"]
    tiled = [d for d in detect_objects_tiled(image) if names[d.class_id] == "Cat"]
    assert not whole  # 52 px high at 416: NanoDet does not see a cat
    (cat,) = tiled
    assert iou(cat.box, np.array(CAT_BOX, dtype=np.float32))[0, 0] > 0.6
    (instance,) = labels(image, MinConfidence=40)["Cat"]["Instances"]
    box = instance["BoundingBox"]
    assert abs(box["Left"] - 0.75) < 0.03 and abs(box["Top"] - 0.75) < 0.03


def test_text_is_a_concept_read_by_detect_texts_reader() -> None:
    from text_scenes import scene

    drawn, _ = scene()
    text = labels(drawn)["Text"]
    assert text["Confidence"] >= 80  # a word DetectText returns by default
    assert text["Instances"] == [] and text["Parents"] == []  # a concept: no boxes, as at AWS
    assert [c["Name"] for c in text["Categories"]] == ["Text and Documents"]
    assert "Text" in labels(rgb("page"))
    assert "Text" not in labels(rgb("chelsea"))


def test_a_lone_character_is_not_text() -> None:
    from text_scenes import draw_line

    # One large letter on the cat reads at over 80 (DetectText returns it), but a lone character
    # is as often a pip or a smudge; two letters make Text.
    def cat_with(text: str) -> np.ndarray:
        canvas = Image.fromarray(rgb("chelsea"))
        draw_line(canvas, text, (30, 30), 90, fill=(255, 255, 255))
        return np.asarray(canvas)

    from recognito.analysis.text import detect_text

    lone = cat_with("K")
    read = detect_text({"Image": {"Bytes": encode(lone, "PNG")}})["TextDetections"]
    assert [d["DetectedText"] for d in read if d["Type"] == "WORD"] == ["K"]
    assert "Text" not in labels(lone)
    assert "Text" in labels(cat_with("CAT"))


def test_text_is_not_read_when_the_filters_leave_it_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import recognito.analysis.labels as module

    def unexpected(_: np.ndarray) -> float:
        raise AssertionError("the reader ran for a label the filters leave out")

    monkeypatch.setattr(module, "text_confidence", unexpected)
    settings = {"GeneralLabels": {"LabelCategoryInclusionFilters": ["Animals and Pets"]}}
    assert "Cat" in labels(rgb("chelsea"), Settings=settings)


def test_clothing_from_what_people_wear() -> None:
    from face_datasets import photo_bytes
    from recognito.analysis.labels import found_objects, worn_confidence

    # Barack Obama in a suit and tie (face_recognition's test photo, not one of the labels bench's):
    # the classifier reads his torso's crop as things worn on the body.
    obama = np.asarray(Image.open(io.BytesIO(photo_bytes("obama.jpg"))).convert("RGB"))
    assert worn_confidence(obama, found_objects(obama)) >= 70
    assert labels(obama)["Clothing"]["Confidence"] >= 70
    # No person, nothing worn: the cat has no torso to classify.
    chelsea = rgb("chelsea")
    assert worn_confidence(chelsea, found_objects(chelsea)) == 0.0
    assert "Clothing" not in labels(chelsea)


def test_concepts_are_named_by_all_their_kinds_and_objects_by_one() -> None:
    from recognito.analysis.labels import CONCEPTS, taxonomy

    tax = taxonomy()
    for name in CONCEPTS:  # Plant, Outdoors: any of their kinds' classes names them
        i = tax.index[name]
        assert tax.imagenet_names_label[i].sum() > 10
        assert np.array_equal(tax.imagenet_names_label[i], tax.imagenet_to_labels[i])
    for name in ("Vehicle", "Animal", "Clothing"):  # a kind must be named on its own
        i = tax.index[name]
        assert tax.imagenet_names_label[i].sum() < tax.imagenet_to_labels[i].sum()
