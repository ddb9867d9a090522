"""DetectFaces with Attributes: every FaceDetail attribute on real faces.

The faces: scikit-image's astronaut (smiling, eyes open, no glasses) and cameraman, the
face_recognition package's Obama and Biden photographs, and the face-api demo group photographs
(tests/face_datasets.py), where the woman at the right of sample2.jpg looks down with her eyes
closed. The one synthetic edit, said so where it is made: black lenses painted over real eyes, a
fair test of a darkness-and-flatness measurement, not of real sunglasses.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from models_available import needs_models
from PIL import Image, ImageDraw

pytestmark = pytest.mark.models
MODELS = ("centerface", "facemesh", "iris", "emotion", "age-gender", "face-mask")


@pytest.fixture(autouse=True)
def models() -> None:
    needs_models(*MODELS)


def encode(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=95)
    return out.getvalue()


def detect(rgb: np.ndarray, attributes: list[str]) -> list[dict]:
    from recognito.faces.detect import detect_faces

    return detect_faces({"Image": {"Bytes": encode(rgb)}, "Attributes": attributes})["FaceDetails"]


def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def photo(name: str) -> np.ndarray:
    from face_datasets import group_photos, labelled_photos

    for p in list(labelled_photos()) + list(group_photos()):
        if p.name == name:
            return p.rgb
    raise KeyError(name)


def points(face: dict) -> dict[str, np.ndarray]:
    return {p["Type"]: np.array([p["X"], p["Y"]]) for p in face["Landmarks"]}


@pytest.fixture(scope="module")
def astronaut_all() -> dict:
    (face,) = detect(astronaut(), ["ALL"])
    return face


def test_all_returns_every_attribute_in_order(astronaut_all: dict) -> None:
    assert list(astronaut_all) == [
        "BoundingBox", "AgeRange", "Smile", "Eyeglasses", "Sunglasses", "Gender", "Beard", "Mustache",
        "EyesOpen", "MouthOpen", "Emotions", "Landmarks", "Pose", "Quality", "Confidence", "FaceOccluded",
        "EyeDirection",
    ]  # fmt: skip
    for key in ("Smile", "Eyeglasses", "Sunglasses", "Beard", "Mustache", "EyesOpen", "MouthOpen", "FaceOccluded"):
        assert isinstance(astronaut_all[key]["Value"], bool)
        assert 50.0 <= astronaut_all[key]["Confidence"] <= 100.0


def test_astronaut_attributes(astronaut_all: dict) -> None:
    face = astronaut_all
    assert face["Smile"]["Value"] is True and face["Smile"]["Confidence"] > 90
    assert face["Emotions"][0]["Type"] == "HAPPY"
    types = [e["Type"] for e in face["Emotions"]]
    assert sorted(types) == sorted(["HAPPY", "SAD", "ANGRY", "DISGUSTED", "SURPRISED", "CALM", "FEAR"])
    confidences = [e["Confidence"] for e in face["Emotions"]]
    assert confidences == sorted(confidences, reverse=True) and abs(sum(confidences) - 100) < 0.1
    assert face["EyesOpen"]["Value"] is True
    assert face["Gender"]["Value"] == "Female"
    # Beard is left out: it reads false on every face, bearded ones too (README: weak, 0 of 9 found).
    for key in ("Eyeglasses", "Sunglasses", "Mustache"):
        assert face[key]["Value"] is False, key  # each is also seen true below
    # Eileen Collins, then in her late thirties or early forties: the model guesses younger.
    age = face["AgeRange"]
    assert 0 <= age["Low"] < age["High"] and age["Low"] <= 40 and age["High"] >= 30
    gaze = face["EyeDirection"]
    assert abs(gaze["Yaw"]) < 10 and abs(gaze["Pitch"]) < 10 and gaze["Confidence"] > 80  # into the camera


def test_smile_with_parted_lips_reads_mouth_open(astronaut_all: dict) -> None:
    # Her smile shows her teeth between parted lips: open, as labelled by eye in
    # bench/data/face_attributes_by_eye.csv (the threshold was fitted on its shared-set faces, not
    # this one; the one set before it said closed). Biden's closed lips stay closed (test_expressions_and_gender).
    assert astronaut_all["Smile"]["Value"] is True
    assert astronaut_all["MouthOpen"]["Value"] is True and astronaut_all["MouthOpen"]["Confidence"] > 60


@pytest.mark.parametrize(
    ("name", "smile"), [("skimage.astronaut", True), ("obama.jpg", True), ("biden.jpg", False), ("obama2.jpg", False)]
)
def test_smile_on_a_small_face(name: str, smile: bool) -> None:
    # The photo shrunk until the face is about 32 px high, as faces in a park or a crowd are
    # (bench/face_attributes.py measures 0.86 at that size on the faces labelled by eye).
    rgb = astronaut() if name == "skimage.astronaut" else photo(name)
    (face,) = detect(rgb, ["SMILE"])
    scale = 32.0 / (face["BoundingBox"]["Height"] * rgb.shape[0])
    small = Image.fromarray(rgb).resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), Image.BILINEAR)
    canvas = Image.new("RGB", (max(small.width, 160), max(small.height, 160)), (128, 128, 128))
    canvas.paste(small, (0, 0))  # on a canvas: the service rejects very small images
    (tiny,) = detect(np.asarray(canvas), ["SMILE"])
    assert tiny["BoundingBox"]["Height"] * canvas.height < 36
    assert tiny["Smile"]["Value"] is smile


def test_landmarks_sit_in_the_face_in_order(astronaut_all: dict) -> None:
    from recognito.faces.attributes import LANDMARK_ORDER

    face = astronaut_all
    assert [p["Type"] for p in face["Landmarks"]] == LANDMARK_ORDER
    p = points(face)
    box = face["BoundingBox"]
    margin = 0.1 * box["Width"]
    for name, (x, y) in p.items():
        assert box["Left"] - margin < x < box["Left"] + box["Width"] + margin, name
        assert box["Top"] - margin < y < box["Top"] + box["Height"] + margin, name
    assert p["eyeLeft"][0] < p["eyeRight"][0]
    assert max(p["eyeLeft"][1], p["eyeRight"][1]) < p["nose"][1] < p["mouthUp"][1] < p["mouthDown"][1]
    assert p["eyeLeft"][0] < p["nose"][0] < p["eyeRight"][0]
    assert p["leftEyeLeft"][0] < p["leftPupil"][0] < p["leftEyeRight"][0] < p["rightEyeLeft"][0]
    assert p["rightEyeLeft"][0] < p["rightPupil"][0] < p["rightEyeRight"][0]
    assert p["leftEyeUp"][1] < p["leftEyeDown"][1] and p["rightEyeUp"][1] < p["rightEyeDown"][1]
    assert p["leftEyeBrowUp"][1] < p["leftEyeUp"][1] and p["rightEyeBrowUp"][1] < p["rightEyeUp"][1]
    assert p["leftEyeBrowLeft"][0] < p["leftEyeBrowRight"][0] < p["rightEyeBrowLeft"][0] < p["rightEyeBrowRight"][0]
    assert p["noseLeft"][0] < p["nose"][0] < p["noseRight"][0]
    assert p["mouthLeft"][0] < p["mouthUp"][0] < p["mouthRight"][0]
    assert p["upperJawlineLeft"][0] < p["midJawlineLeft"][0] < p["chinBottom"][0] < p["midJawlineRight"][0]
    assert p["midJawlineRight"][0] < p["upperJawlineRight"][0]
    assert p["chinBottom"][1] > p["mouthDown"][1] > p["upperJawlineLeft"][1]


def test_pose_agrees_with_the_default_pose(astronaut_all: dict) -> None:
    (default,) = detect(astronaut(), ["DEFAULT"])
    for axis in ("Roll", "Yaw", "Pitch"):
        assert abs(astronaut_all["Pose"][axis] - default["Pose"][axis]) < 10, axis
    # The five DEFAULT points under ALL come from the mesh: near the detector's.
    mesh, detector = points(astronaut_all), points(default)
    for name in ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"):
        assert np.linalg.norm(mesh[name] - detector[name]) < 0.03, name


def test_default_runs_no_attribute_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import recognito.faces.details as details

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("DEFAULT must not run the attribute models")

    monkeypatch.setattr(details, "analyze", fail)
    (face,) = detect(astronaut(), ["DEFAULT"])
    assert set(face) == {"BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"}
    assert len(face["Landmarks"]) == 5


def test_single_attributes_return_exactly_those() -> None:
    (face,) = detect(astronaut(), ["SMILE", "GENDER", "FACE_OCCLUDED"])
    assert list(face) == [
        "BoundingBox", "Smile", "Gender", "Landmarks", "Pose", "Quality", "Confidence", "FaceOccluded",
    ]  # fmt: skip
    assert len(face["Landmarks"]) == 5
    (face,) = detect(astronaut(), ["DEFAULT", "EYE_DIRECTION"])
    assert list(face) == ["BoundingBox", "Landmarks", "Pose", "Quality", "Confidence", "EyeDirection"]


def test_closed_eyes() -> None:
    faces = detect(photo("sample2.jpg"), ["EYES_OPEN"])
    # The woman at the right looks down with her eyes shut.
    (closed,) = [f for f in faces if f["BoundingBox"]["Left"] > 0.7]
    assert closed["EyesOpen"]["Value"] is False and closed["EyesOpen"]["Confidence"] > 70
    for name in ("obama.jpg", "biden.jpg", "sample6.jpg"):
        assert all(f["EyesOpen"]["Value"] for f in detect(photo(name), ["EYES_OPEN"])), name


@pytest.mark.parametrize(
    ("name", "smile", "mouth_open", "gender"),
    [
        ("obama.jpg", True, True, "Male"),  # a broad, open smile
        ("obama2.jpg", False, True, "Male"),  # speaking
        ("biden.jpg", False, False, "Male"),
        ("skimage.camera", False, False, "Male"),
    ],
)
def test_expressions_and_gender(name: str, smile: bool, mouth_open: bool, gender: str) -> None:
    (face,) = detect(photo(name), ["SMILE", "MOUTH_OPEN", "GENDER", "EMOTIONS"])
    assert face["Smile"]["Value"] is smile
    assert (face["Emotions"][0]["Type"] == "HAPPY") is smile
    assert face["MouthOpen"]["Value"] is mouth_open
    assert face["Gender"]["Value"] == gender


def test_painted_lenses_read_as_sunglasses() -> None:
    # Synthetic: black lenses and a bridge painted over the astronaut's real eyes.
    rgb = astronaut()
    (face,) = detect(rgb, ["ALL"])
    p = {k: v * [rgb.shape[1], rgb.shape[0]] for k, v in points(face).items()}
    image = Image.fromarray(rgb.copy())
    draw = ImageDraw.Draw(image)
    for left, right in (("leftEyeLeft", "leftEyeRight"), ("rightEyeLeft", "rightEyeRight")):
        center, width = (p[left] + p[right]) / 2, np.linalg.norm(p[right] - p[left])
        rx, ry = 0.85 * width, 0.6 * width
        draw.ellipse([center[0] - rx, center[1] - ry, center[0] + rx, center[1] + ry], fill=(12, 12, 14))
    draw.line([tuple(p["leftEyeRight"]), tuple(p["rightEyeLeft"])], fill=(12, 12, 14), width=3)
    (painted,) = detect(np.asarray(image), ["SUNGLASSES", "EYEGLASSES"])
    assert painted["Sunglasses"]["Value"] is True
    assert painted["Eyeglasses"]["Value"] is True  # sunglasses are eyeglasses too


def test_every_face_of_a_group_photo_is_described() -> None:
    faces = detect(photo("sample5.jpg"), ["ALL"])
    assert len(faces) == 5
    for face in faces:
        assert len(face["Landmarks"]) == 30
        assert face["Gender"]["Value"] == "Female"


def lfw_face(index: int) -> np.ndarray:
    """One of scikit-image's LFW faces (25x25 grey, eyebrows to chin), enlarged to 160 px and set
    in a 320 px grey frame so that the detector sees the whole head's outline."""
    from skimage import data

    face = Image.fromarray((data.lfw_subset()[index] * 255).astype(np.uint8)).resize((160, 160), Image.BICUBIC)
    canvas = Image.new("L", (320, 320), 128)
    canvas.paste(face, (80, 80))
    return np.stack([np.asarray(canvas)] * 3, axis=-1)


def test_mustache_and_eyeglasses_on_faces_labelled_by_eye() -> None:
    """Real faces with and without a mustache or glasses (bench/face_traits.py's labels of the LFW
    subset). The mustache regression was fitted on these faces, so for it this checks that
    DetectFaces reproduces the measurement end to end; the eyeglasses one was fitted on larger
    faces (bench/face_attribute_heads.py), so these 25 px faces are held out for it: it finds 12 of
    18 and wrongly sees 12 of 77. A constant answer fails either the faces with the trait or those without."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from face_traits import LABELS

    values: dict[int, dict] = {}
    for index in range(100):
        faces = detect(lfw_face(index), ["MUSTACHE", "EYEGLASSES"])
        if len(faces) == 1:
            values[index] = faces[0]
    assert len(values) >= 95
    for key, attribute, min_found, max_false in (("Mustache", "mustache", 5, 5), ("Eyeglasses", "eyeglasses", 10, 16)):
        present, unsure = LABELS[attribute]
        with_it = [i for i in present if i in values]
        without = [i for i in values if i not in present and i not in unsure]
        found = sum(values[i][key]["Value"] for i in with_it)
        false = sum(values[i][key]["Value"] for i in without)
        assert found >= min_found, (key, found, len(with_it))
        assert false <= max_false, (key, false, len(without))


def cup_over_mouth(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with a real coffee cup (scikit-image's coffee photo, cut out by an ellipse round the
    cup) held over the nose and mouth of its largest face: an object from another real photo
    pasted over a real face. No cup is among bench/face_occlusion.py's fitting occluders."""
    import skimage.data
    from recognito_inference.face_detector import detect_faces

    x1, y1, x2, y2 = detect_faces(rgb)[0].box
    cup = Image.fromarray(skimage.data.coffee()).crop((172, 14, 412, 302))
    alpha = Image.new("L", cup.size, 0)
    ImageDraw.Draw(alpha).ellipse((0, 0, cup.width - 1, cup.height - 1), fill=255)
    width = round(0.8 * (x2 - x1))
    height = round(width * cup.height / cup.width)
    out = Image.fromarray(rgb)
    centre = ((x1 + x2) / 2, y1 + 0.72 * (y2 - y1))
    where = (round(centre[0] - width / 2), round(centre[1] - height / 2))
    out.paste(cup.resize((width, height)), where, alpha.resize((width, height)))
    return np.asarray(out)


def test_face_occluded() -> None:
    """FaceOccluded (bench/face_occlusion.py fitted its head on the shared face set, not on these
    photos): clear faces read false; a real hand at a real mouth (sample2.jpg, the woman at the
    left), a real cup pasted over a mouth, a face the frame cuts and a painted surgical mask read
    true. A constant answer fails one side."""
    from ppe_scenes import add_mask

    for rgb in (photo("obama.jpg"), photo("biden.jpg"), astronaut()):
        (face,) = detect(rgb, ["FACE_OCCLUDED"])
        assert face["FaceOccluded"]["Value"] is False, face["FaceOccluded"]
    hand = [f for f in detect(photo("sample2.jpg"), ["FACE_OCCLUDED"]) if f["BoundingBox"]["Left"] < 0.25]
    assert [f["FaceOccluded"]["Value"] for f in hand] == [True]
    (cup,) = detect(cup_over_mouth(photo("obama.jpg")), ["FACE_OCCLUDED"])
    assert cup["FaceOccluded"]["Value"] is True, cup["FaceOccluded"]
    # The same photo cropped through the face: 40% of it outside the frame ("partially captured").
    rgb = photo("obama.jpg")
    (face,) = detect(rgb, ["DEFAULT"])
    box = face["BoundingBox"]
    cut = np.ascontiguousarray(rgb[:, : round((box["Left"] + 0.6 * box["Width"]) * rgb.shape[1])])
    assert [f["FaceOccluded"]["Value"] for f in detect(cut, ["FACE_OCCLUDED"])] == [True]
    masked, count = add_mask(photo("biden.jpg"), "white")
    assert count == 1
    (face,) = detect(masked, ["FACE_OCCLUDED"])
    assert face["FaceOccluded"] == {"Value": True, "Confidence": face["FaceOccluded"]["Confidence"]}
    assert face["FaceOccluded"]["Confidence"] > 80
