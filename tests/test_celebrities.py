"""RecognizeCelebrities and GetCelebrityInfo against an operator's gallery of real people."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from conftest import call
from face_datasets import photo_bytes
from models_available import needs_models
from PIL import Image
from recognito.celebrities import add_celebrity
from skimage import data

pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.models]


def image(raw: bytes) -> dict:
    return {"Bytes": base64.b64encode(raw).decode()}


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture
def gallery():
    needs_models("centerface", "sface")
    obama = add_celebrity(
        "Barack Obama", [photo_bytes("obama.jpg"), photo_bytes("obama2.jpg")], ["barackobama.com"], "Male"
    )
    biden = add_celebrity("Joe Biden", [photo_bytes("biden.jpg")], [], "Male")
    return {"obama": obama, "biden": biden}


def test_a_gallery_celebrity_is_recognized_in_another_photograph(gallery):
    status, found = call("RecognizeCelebrities", {"Image": image(photo_bytes("obama3.jpg"))})
    assert status == 200
    (celebrity,) = found["CelebrityFaces"]
    assert celebrity["Name"] == "Barack Obama" and celebrity["Id"] == gallery["obama"]
    assert celebrity["MatchConfidence"] >= 80
    assert celebrity["Urls"] == ["barackobama.com"] and celebrity["KnownGender"] == {"Type": "Male"}
    assert 0 < celebrity["Face"]["BoundingBox"]["Width"] < 1 and celebrity["Face"]["Landmarks"]
    assert found["UnrecognizedFaces"] == []


def side_by_side(*photos: np.ndarray) -> np.ndarray:
    """Photographs put side by side at one height (500 px), as one image."""
    ims = [Image.fromarray(p) for p in photos]
    ims = [im.resize((round(im.width * 500 / im.height), 500)) for im in ims]
    canvas = Image.new("RGB", (sum(im.width for im in ims), 500))
    for i, im in enumerate(ims):
        canvas.paste(im, (sum(m.width for m in ims[:i]), 0))
    return np.asarray(canvas)


def obama3_and_the_astronaut() -> bytes:
    obama = np.asarray(Image.open(io.BytesIO(photo_bytes("obama3.jpg"))).convert("RGB"))
    return jpeg(side_by_side(obama, data.astronaut()))


def test_strangers_are_unrecognized_faces(gallery):
    """In one picture, a gallery celebrity (left) and a stranger (right): one of each."""
    status, found = call("RecognizeCelebrities", {"Image": image(obama3_and_the_astronaut())})
    assert status == 200
    (celebrity,) = found["CelebrityFaces"]
    assert celebrity["Name"] == "Barack Obama" and celebrity["Face"]["BoundingBox"]["Left"] < 0.5
    (stranger,) = found["UnrecognizedFaces"]
    assert stranger["BoundingBox"]["Left"] > 0.5


def test_get_celebrity_info_and_the_gallery_stays_private(gallery):
    assert call("GetCelebrityInfo", {"Id": gallery["biden"]}) == (
        200,
        {"Name": "Joe Biden", "Urls": [], "KnownGender": {"Type": "Male"}},
    )
    status, error = call("GetCelebrityInfo", {"Id": "nobody00"})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")
    assert call("ListCollections", {})[1]["CollectionIds"] == []


def test_an_empty_gallery_recognizes_no_one():
    """Nobody is recognized before the gallery has anyone; the same picture after one person is
    added names that person."""
    needs_models("centerface", "sface")
    picture = {"Image": image(obama3_and_the_astronaut())}
    status, found = call("RecognizeCelebrities", picture)
    assert status == 200 and found["CelebrityFaces"] == [] and len(found["UnrecognizedFaces"]) == 2
    add_celebrity("Barack Obama", [photo_bytes("obama.jpg")], [], "Male")
    status, found = call("RecognizeCelebrities", picture)
    assert [c["Name"] for c in found["CelebrityFaces"]] == ["Barack Obama"] and len(found["UnrecognizedFaces"]) == 1


def test_a_gallery_made_before_face_model_2_keeps_its_model():
    """A gallery an earlier release made holds FaceNet (1.0) faces: celebrities added later and the
    faces looked up are embedded by 1.0 too, so its people are still recognized."""
    from datetime import UTC, datetime

    from recognito.celebrities import GALLERY
    from recognito.collections.store import decode_embedding
    from recognito.storage import CollectionRecord, FaceRecord

    needs_models("centerface", "facenet-int8")
    CollectionRecord(GALLERY, created=datetime.now(UTC), face_model_version="1.0").save()
    obama = add_celebrity("Barack Obama", [photo_bytes("obama.jpg")])
    (face,) = FaceRecord.query(GALLERY)
    assert face.model_version == "1.0" and decode_embedding(face.embedding).shape == (512,)
    status, found = call("RecognizeCelebrities", {"Image": image(photo_bytes("obama3.jpg"))})
    assert status == 200
    (celebrity,) = found["CelebrityFaces"]
    assert celebrity["Id"] == obama and celebrity["MatchConfidence"] >= 80
