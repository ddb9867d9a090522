"""IndexFaces and the image searches on real photographs of real people.

Barack Obama (three independent photographs), Joe Biden, Eileen Collins (scikit-image's astronaut)
and scikit-image's cameraman, from pinned packages (tests/face_datasets.py).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from conftest import call
from face_datasets import group_photos, photo_bytes
from models_available import needs_models
from PIL import Image, ImageFilter
from skimage import data

pytestmark = [pytest.mark.usefixtures("aws"), pytest.mark.models]


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def image(raw: bytes) -> dict:
    return {"Bytes": base64.b64encode(raw).decode()}


@pytest.fixture
def people():
    """A collection holding one photograph of each person, ExternalImageId naming them."""
    needs_models("centerface", "sface")
    call("CreateCollection", {"CollectionId": "people"})
    photos = {
        "barack-obama": photo_bytes("obama.jpg"),
        "joe-biden": photo_bytes("biden.jpg"),
        "eileen-collins": jpeg(data.astronaut()),
        "cameraman": jpeg(np.stack([data.camera()] * 3, axis=-1)),
    }
    face_ids = {}
    for name, raw in photos.items():
        status, indexed = call(
            "IndexFaces",
            {"CollectionId": "people", "Image": image(raw), "ExternalImageId": name, "QualityFilter": "NONE"},
        )
        assert status == 200, indexed
        assert len(indexed["FaceRecords"]) == 1, (name, indexed)
        face_ids[name] = indexed["FaceRecords"][0]["Face"]["FaceId"]
    return face_ids


def test_index_faces_records_and_counts(people):
    described = call("DescribeCollection", {"CollectionId": "people"})[1]
    assert described["FaceCount"] == 4
    listed = call("ListFaces", {"CollectionId": "people"})[1]["Faces"]
    assert {face["ExternalImageId"] for face in listed} == set(people)
    astronaut = next(face for face in listed if face["ExternalImageId"] == "eileen-collins")
    box = astronaut["BoundingBox"]
    assert 0.30 < box["Left"] < 0.50 and 0.0 < box["Top"] < 0.25 and 0.1 < box["Width"] < 0.35


def test_search_faces_by_image_finds_the_same_person_first(people):
    for probe in ("obama2.jpg", "obama3.jpg"):
        status, found = call("SearchFacesByImage", {"CollectionId": "people", "Image": image(photo_bytes(probe))})
        assert status == 200
        assert found["FaceMatches"], probe
        best = found["FaceMatches"][0]
        assert best["Face"]["ExternalImageId"] == "barack-obama" and best["Similarity"] >= 80
        assert {match["Face"]["ExternalImageId"] for match in found["FaceMatches"]} == {"barack-obama"}
        assert 0 < found["SearchedFaceBoundingBox"]["Width"] < 1 and found["SearchedFaceConfidence"] > 50


def test_search_faces_by_face_id_and_threshold(people):
    found = call("SearchFaces", {"CollectionId": "people", "FaceId": people["joe-biden"]})[1]
    assert found["FaceMatches"] == []  # nobody else in the collection is Joe Biden
    everyone = call("SearchFaces", {"CollectionId": "people", "FaceId": people["joe-biden"], "FaceMatchThreshold": 0})
    assert len(everyone[1]["FaceMatches"]) == 3


def test_search_users_by_image(people):
    call("CreateUser", {"CollectionId": "people", "UserId": "obama"})
    call("AssociateFaces", {"CollectionId": "people", "UserId": "obama", "FaceIds": [people["barack-obama"]]})
    status, found = call("SearchUsersByImage", {"CollectionId": "people", "Image": image(photo_bytes("obama3.jpg"))})
    assert status == 200
    assert [match["User"]["UserId"] for match in found["UserMatches"]] == ["obama"]
    assert found["SearchedFace"]["FaceDetail"]["BoundingBox"]["Width"] > 0


def test_index_faces_max_faces_and_quality_filter():
    needs_models("centerface", "sface")
    call("CreateCollection", {"CollectionId": "groups"})
    group = next(photo for photo in group_photos() if photo.name == "sample1.jpg")
    status, indexed = call(
        "IndexFaces",
        {"CollectionId": "groups", "Image": image(jpeg(group.rgb)), "MaxFaces": 2, "QualityFilter": "NONE"},
    )
    assert status == 200
    assert len(indexed["FaceRecords"]) == 2
    assert indexed["UnindexedFaces"] and all(
        face["Reasons"] == ["EXCEEDS_MAX_FACES"] for face in indexed["UnindexedFaces"]
    )
    def area(detail: dict) -> float:
        return detail["BoundingBox"]["Width"] * detail["BoundingBox"]["Height"]

    kept = [area(record["FaceDetail"]) for record in indexed["FaceRecords"]]
    dropped = [area(face["FaceDetail"]) for face in indexed["UnindexedFaces"]]
    assert min(kept) >= max(dropped)  # the largest faces are the ones kept

    blurred = Image.fromarray(data.astronaut()).filter(ImageFilter.GaussianBlur(6))
    status, indexed = call(
        "IndexFaces",
        {"CollectionId": "groups", "Image": image(jpeg(np.asarray(blurred))), "QualityFilter": "HIGH"},
    )
    assert status == 200 and indexed["FaceRecords"] == []
    assert "LOW_SHARPNESS" in indexed["UnindexedFaces"][0]["Reasons"]


def test_faceless_images():
    needs_models("centerface", "sface")
    call("CreateCollection", {"CollectionId": "empty"})
    coffee = image(jpeg(data.coffee()))
    status, indexed = call("IndexFaces", {"CollectionId": "empty", "Image": coffee})
    assert status == 200 and indexed["FaceRecords"] == [] and indexed["UnindexedFaces"] == []
    status, error = call("SearchFacesByImage", {"CollectionId": "empty", "Image": coffee})
    assert (status, error["__type"]) == (400, "InvalidParameterException")
    status, error = call("IndexFaces", {"CollectionId": "nowhere", "Image": coffee})
    assert (status, error["__type"]) == (400, "ResourceNotFoundException")


def test_index_faces_with_all_detection_attributes():
    needs_models("centerface", "sface", "facemesh", "emotion", "face-mask")
    call("CreateCollection", {"CollectionId": "detailed"})
    status, indexed = call(
        "IndexFaces",
        {"CollectionId": "detailed", "Image": image(jpeg(data.astronaut())), "DetectionAttributes": ["ALL"]},
    )
    assert status == 200
    detail = indexed["FaceRecords"][0]["FaceDetail"]
    assert detail["Smile"]["Value"] is True and detail["Emotions"][0]["Type"] == "HAPPY"
    assert detail["FaceOccluded"]["Value"] is False
    assert len(detail["Landmarks"]) > 5
