"""DetectProtectiveEquipment on real photographs, and on the same people with equipment drawn on.

No photograph of a worker in a hard hat, mask or gloves ships in a package we can use; the covers
are drawn onto real people by tests/ppe_scenes.py (placed from CenterFace, not from the pose
model under test), and the bare photographs are the real negatives.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from face_datasets import group_photos
from face_scenes import encode, iou, rgb
from models_available import needs_models
from PIL import Image
from ppe_scenes import add_gloves, add_hard_hat, add_mask, gloves_on, hard_hats_on, masks_on
from recognito.analysis.ppe import detect_protective_equipment, summarize
from recognito.errors import ImageTooLargeException, InvalidImageFormatException, InvalidParameterException

pytestmark = pytest.mark.models
MODELS = ("movenet-multipose", "face-mask", "efficientnet-lite2")
ALL_TYPES = ["FACE_COVER", "HEAD_COVER", "HAND_COVER"]


@pytest.fixture(scope="module")
def models() -> None:
    needs_models(*MODELS, "centerface")


def run(image: np.ndarray, **request: object) -> dict:
    return detect_protective_equipment({"Image": {"Bytes": encode(image)}, **request})


def wanting(types: list[str], min_confidence: float) -> dict:
    return {"SummarizationAttributes": {"MinConfidence": min_confidence, "RequiredEquipmentTypes": types}}


def parts_of(person: dict) -> dict[str, dict]:
    return {p["Name"]: p for p in person["BodyParts"]}


def types_on(part: dict) -> list[str]:
    return [d["Type"] for d in part["EquipmentDetections"]]


@pytest.fixture(scope="module")
def sample(models: None) -> dict[str, np.ndarray]:
    return {p.name: p.rgb for p in group_photos()}


def test_astronaut_bare_face_and_head(models: None) -> None:
    response = run(rgb("astronaut"), **wanting(["FACE_COVER"], 80))
    assert response["ProtectiveEquipmentModelVersion"] == "1.0"
    (person,) = response["Persons"]
    assert person["Id"] == 0 and person["Confidence"] >= 80
    box = person["BoundingBox"]
    # She fills the left two thirds of the frame, from the top of her hair to the bottom edge.
    assert box["Left"] < 0.1 and 0.55 < box["Left"] + box["Width"] < 0.85 and box["Top"] < 0.08
    parts = parts_of(person)
    assert {"FACE", "HEAD"} <= set(parts)
    assert types_on(parts["FACE"]) == [] and types_on(parts["HEAD"]) == []
    assert response["Summary"] == {
        "PersonsWithRequiredEquipment": [],
        "PersonsWithoutRequiredEquipment": [0],
        "PersonsIndeterminate": [],
    }


def test_masked_astronaut(models: None) -> None:
    masked, faces = add_mask(rgb("astronaut"), "white")
    assert faces == 1
    response = run(masked, **wanting(["FACE_COVER"], 60))
    (person,) = response["Persons"]
    face = parts_of(person)["FACE"]
    (mask,) = face["EquipmentDetections"]
    assert mask["Type"] == "FACE_COVER" and mask["Confidence"] >= 60
    assert mask["CoversBodyPart"]["Value"] is True
    # The mask's box is the lower face: under her eyes (~y 0.22), over her chin (~y 0.34).
    top, bottom = mask["BoundingBox"]["Top"], mask["BoundingBox"]["Top"] + mask["BoundingBox"]["Height"]
    assert 0.2 < top < 0.3 and 0.3 < bottom < 0.4
    assert response["Summary"]["PersonsWithRequiredEquipment"] == [0]


@pytest.mark.parametrize("colour", ["yellow", "white", "blue"])
def test_hard_hat_on_the_astronaut(models: None, colour: str) -> None:
    hatted, _ = add_hard_hat(rgb("astronaut"), colour)
    (person,) = run(hatted)["Persons"]
    parts = parts_of(person)
    assert types_on(parts["HEAD"]) == ["HEAD_COVER"]
    assert types_on(parts["FACE"]) == []  # a hat is no mask
    hat = parts["HEAD"]["EquipmentDetections"][0]["BoundingBox"]
    assert hat["Top"] + hat["Height"] < 0.25  # above her eyes


def pixels(box: dict, image: np.ndarray) -> np.ndarray:
    """A response BoundingBox as x1, y1, x2, y2 px of ``image``."""
    h, w = image.shape[:2]
    return np.array(
        [box["Left"] * w, box["Top"] * h, (box["Left"] + box["Width"]) * w, (box["Top"] + box["Height"]) * h]
    )


def covers_of(image: np.ndarray, kind: str, **request: object) -> tuple[dict, list[dict]]:
    """The response, and every ``kind`` detection on every person, box in px."""
    response = run(image, **request)
    found = []
    for person in response["Persons"]:
        for part in person["BodyParts"]:
            for item in part["EquipmentDetections"]:
                if item["Type"] == kind:
                    found.append({**item, "px": pixels(item["BoundingBox"], image), "part": part["Name"]})
    return response, found


def best_overlap(found: dict, truth: list[np.ndarray]) -> tuple[float, int]:
    overlaps = iou(found["px"], np.array(truth))[0]
    return float(overlaps.max()), int(overlaps.argmax())


def test_group_photo_bare_masked_and_mask_pulled_down(sample: dict[str, np.ndarray]) -> None:
    """Four real people bare, then with masks worn over the nose and mouth, then with the same
    masks pulled down under the chin: detected both times, covering only the first; each mask's
    box is where it was painted, and moves down with it (a fixed share of the face would not)."""
    bare = sample["sample6.jpg"]
    response = run(bare, **wanting(ALL_TYPES, 50))
    persons = response["Persons"]
    assert [p["Id"] for p in persons] == [0, 1, 2, 3]
    centres = sorted(p["BoundingBox"]["Left"] + p["BoundingBox"]["Width"] / 2 for p in persons)
    assert all(b - a > 0.1 for a, b in zip(centres, centres[1:], strict=False))  # four different people
    for person in persons:
        assert all(types_on(part) == [] for part in person["BodyParts"])
    assert response["Summary"]["PersonsWithRequiredEquipment"] == []

    worn_image, worn_truth = masks_on(bare, "blue")
    lowered_image, lowered_truth = masks_on(bare, "blue", lowered=True)
    assert len(worn_truth) == len(lowered_truth) == 4
    worn_response, worn = covers_of(worn_image, "FACE_COVER", **wanting(["FACE_COVER"], 50))
    lowered_response, lowered = covers_of(lowered_image, "FACE_COVER", **wanting(["FACE_COVER"], 50))
    assert len(worn) == len(lowered) == 4
    assert all(m["CoversBodyPart"]["Value"] is True for m in worn)
    assert all(m["CoversBodyPart"]["Value"] is False and m["CoversBodyPart"]["Confidence"] >= 50 for m in lowered)
    assert sorted(worn_response["Summary"]["PersonsWithRequiredEquipment"]) == [0, 1, 2, 3]
    assert lowered_response["Summary"]["PersonsWithRequiredEquipment"] == []
    assert sorted(lowered_response["Summary"]["PersonsWithoutRequiredEquipment"]) == [0, 1, 2, 3]

    worn_at = {}
    for mask in worn:
        overlap, which = best_overlap(mask, worn_truth)
        assert overlap >= 0.5, mask["px"]
        worn_at[which] = mask["px"]
    for mask in lowered:
        overlap, which = best_overlap(mask, lowered_truth)
        assert overlap >= 0.5, mask["px"]
        face_height = worn_truth[which][3] - worn_truth[which][1]
        assert mask["px"][1] - worn_at[which][1] > 0.3 * face_height  # the box went down with the mask


@pytest.mark.parametrize("name", ["biden.jpg", "obama3.jpg"])
def test_hard_hat_box_is_the_hat_and_follows_it(models: None, name: str) -> None:
    """A hard hat on the brow, then pushed back up the head: both times the box overlaps the
    painted hat (IoU >= 0.5), and it rises with it; the hat covers the crown both times."""
    from face_datasets import labelled_photos

    photo = next(p.rgb for p in labelled_photos() if p.name == name)
    boxes = []
    for colour, raised in (("yellow", 0.0), ("white", 0.15)):
        image, truth = hard_hats_on(photo, colour, raised=raised)
        _, (hat,) = covers_of(image, "HEAD_COVER")
        assert best_overlap(hat, truth)[0] >= 0.5, (colour, hat["px"], truth)
        assert hat["CoversBodyPart"]["Value"] is True
        boxes.append((hat["px"], truth[0]))
    (low, low_truth), (high, _) = boxes
    face_height = low_truth[3] - low_truth[1]  # the hat's box is about a face's height
    assert low[3] - high[3] > 0.05 * face_height  # the hat's lower edge (the brim) went up


def test_glove_boxes_are_the_gloves(sample: dict[str, np.ndarray]) -> None:
    image, truth = gloves_on(sample["sample2.jpg"], "black")
    _, gloves = covers_of(image, "HAND_COVER")
    assert len(gloves) >= 3 and {g["part"] for g in gloves} <= {"LEFT_HAND", "RIGHT_HAND"}
    for glove in gloves:
        assert best_overlap(glove, truth)[0] >= 0.5, glove["px"]
        assert glove["CoversBodyPart"]["Value"] is True


def test_thirteen_people_in_a_wide_scene(sample: dict[str, np.ndarray]) -> None:
    """Four group photographs side by side (3 + 3 + 3 + 4 people, 3903x700): more than the pose
    model's six per pass, each person small when the whole is letterboxed."""
    photos = [Image.fromarray(sample[f"sample{i}.jpg"]) for i in (1, 2, 3, 6)]
    photos = [im.resize((round(im.width * 700 / im.height), 700)) for im in photos]
    scene = Image.new("RGB", (sum(im.width for im in photos), 700))
    for i, im in enumerate(photos):
        scene.paste(im, (sum(p.width for p in photos[:i]), 0))
    persons = run(np.asarray(scene))["Persons"]
    assert 12 <= len(persons) <= 13
    assert [p["Id"] for p in persons] == list(range(len(persons)))
    faces = [parts_of(p)["FACE"] for p in persons if "FACE" in parts_of(p)]
    assert len(faces) >= 12 and all(types_on(f) == [] for f in faces)


def test_gloves_on_visible_hands(sample: dict[str, np.ndarray]) -> None:
    bare = run(sample["sample2.jpg"])["Persons"]
    assert len(bare) == 3
    hands = [part for p in bare for part in p["BodyParts"] if part["Name"].endswith("_HAND")]
    assert hands and all(types_on(h) == [] for h in hands)

    gloved, count = add_gloves(sample["sample2.jpg"], "blue")
    assert count >= 3
    persons = run(gloved)["Persons"]
    found = [part for p in persons for part in p["BodyParts"] if "HAND_COVER" in types_on(part)]
    assert len(found) >= 3
    assert all(part["Name"] in ("LEFT_HAND", "RIGHT_HAND") for part in found)


def test_left_and_right_are_the_persons_own(models: None) -> None:
    from recognito_inference.pose import detect_people

    (person,) = detect_people(rgb("astronaut"))
    left_eye, right_eye = person.point("left_eye")[0], person.point("right_eye")[0]
    assert left_eye[0] > right_eye[0]  # she faces the camera: her left eye is on the image's right


def test_no_person_in_a_photo_without_people(models: None) -> None:
    response = run(rgb("coffee"), **wanting(["HEAD_COVER"], 50))
    assert response["Persons"] == []
    assert response["Summary"] == {
        "PersonsWithRequiredEquipment": [],
        "PersonsWithoutRequiredEquipment": [],
        "PersonsIndeterminate": [],
    }
    # The same cup beside the astronaut: her, and only her, on the right half.
    coffee, astronaut = rgb("coffee"), rgb("astronaut")
    height = min(coffee.shape[0], astronaut.shape[0])
    both = np.concatenate([coffee[:height], astronaut[:height]], axis=1)
    (person,) = run(both)["Persons"]
    assert person["BoundingBox"]["Left"] > coffee.shape[1] / both.shape[1] - 0.05


def test_summary_rules() -> None:
    """Per required type, every body part it goes on decides; unseen parts make it indeterminate."""

    def person(pid: int, confidence: float, *parts: tuple[str, float, list[tuple[str, float]]]) -> dict:
        return {
            "Id": pid,
            "Confidence": confidence,
            "BodyParts": [
                {
                    "Name": name,
                    "Confidence": part_confidence,
                    "EquipmentDetections": [
                        {"Type": t, "Confidence": c, "CoversBodyPart": {"Value": True, "Confidence": c}}
                        for t, c in items
                    ],
                }
                for name, part_confidence, items in parts
            ],
        }

    masked = ("FACE", 95.0, [("FACE_COVER", 90.0)])
    persons = [
        person(0, 99, masked, ("HEAD", 95.0, [])),
        person(1, 99, ("FACE", 95.0, []), ("HEAD", 95.0, [])),
        person(2, 99, ("HEAD", 95.0, [])),  # face not seen
        person(3, 60, masked),  # the person below MinConfidence
        person(4, 99, ("FACE", 95.0, [("FACE_COVER", 70.0)])),  # mask below MinConfidence
    ]
    summary = summarize(persons, {"MinConfidence": 80, "RequiredEquipmentTypes": ["FACE_COVER"]})
    assert summary == {
        "PersonsWithRequiredEquipment": [0],
        "PersonsWithoutRequiredEquipment": [1, 4],
        "PersonsIndeterminate": [2, 3],
    }
    # HAND_COVER needs both hands: one gloved hand seen and the other unseen is indeterminate.
    gloved = person(5, 99, ("LEFT_HAND", 90.0, [("HAND_COVER", 90.0)]))
    both = person(6, 99, ("LEFT_HAND", 90.0, [("HAND_COVER", 90.0)]), ("RIGHT_HAND", 90.0, [("HAND_COVER", 85.0)]))
    summary = summarize([gloved, both], {"MinConfidence": 10, "RequiredEquipmentTypes": ["HAND_COVER"]})
    assert summary["PersonsIndeterminate"] == [5] and summary["PersonsWithRequiredEquipment"] == [6]
    # Below 50 counts as 50 (nothing under 50 is ever returned).
    low = person(7, 99, ("FACE", 95.0, [("FACE_COVER", 45.0)]))
    assert summarize([low], {"MinConfidence": 0, "RequiredEquipmentTypes": ["FACE_COVER"]})[
        "PersonsWithoutRequiredEquipment"
    ] == [7]


# ------------------------------------------------------------------------------- documented errors
def test_image_over_4_mb_is_too_large() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1300, 1300, 3), dtype=np.uint8)
    blob = encode(noise)  # incompressible: > 4 MB, < 5 MB (accepted elsewhere)
    assert 4 * 2**20 < len(blob) < 5 * 2**20
    with pytest.raises(ImageTooLargeException):
        detect_protective_equipment({"Image": {"Bytes": blob}})


def test_side_over_4096_px_is_too_large() -> None:
    blob = encode(np.zeros((64, 4100, 3), np.uint8))
    with pytest.raises(ImageTooLargeException):
        detect_protective_equipment({"Image": {"Bytes": blob}})


def test_side_under_64_px_is_an_invalid_parameter() -> None:
    blob = encode(np.zeros((63, 200, 3), np.uint8))
    with pytest.raises(InvalidParameterException):
        detect_protective_equipment({"Image": {"Bytes": blob}})


def test_not_an_image_is_an_invalid_format() -> None:
    with pytest.raises(InvalidImageFormatException):
        detect_protective_equipment({"Image": {"Bytes": b"GIF89a not a PNG or JPEG"}})
    gif = io.BytesIO()
    Image.new("RGB", (100, 100)).save(gif, "GIF")
    with pytest.raises(InvalidImageFormatException):
        detect_protective_equipment({"Image": {"Bytes": gif.getvalue()}})


@pytest.mark.usefixtures("aws")
def test_through_the_handler(models: None) -> None:
    from conftest import call

    body = {
        "Image": {"Bytes": base64.b64encode(encode(rgb("astronaut"), "JPEG", quality=90)).decode()},
        "SummarizationAttributes": {"MinConfidence": 80, "RequiredEquipmentTypes": ["FACE_COVER", "HEAD_COVER"]},
    }
    status, response = call("DetectProtectiveEquipment", body)
    assert status == 200, response
    assert len(response["Persons"]) == 1 and response["Summary"]["PersonsWithoutRequiredEquipment"] == [0]

    status, response = call("DetectProtectiveEquipment", {**body, "SummarizationAttributes": {"MinConfidence": 80}})
    assert status == 400  # RequiredEquipmentTypes is required by the service model
    status, response = call(
        "DetectProtectiveEquipment",
        {**body, "SummarizationAttributes": {"MinConfidence": 80, "RequiredEquipmentTypes": ["GLOVES"]}},
    )
    assert status == 400
