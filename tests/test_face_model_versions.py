"""Face model version 2.0 (SFace) on real photographs, through its own crop and Similarity curve.

Photographs: the Obama and Biden photographs of PyPI's face_recognition package and scikit-image's
astronaut and cameraman (tests/face_datasets.py); the 2.0 curve was fitted on ../shared's face set
(bench/calibrate_similarity.py --version 2.0), none of which is used here.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from face_datasets import photo_bytes
from face_scenes import rgb
from models_available import needs_models
from PIL import Image

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def models() -> None:
    needs_models("centerface", "sface")


def _largest_embedding(image: np.ndarray) -> np.ndarray:
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.face_embedder import embed_faces

    detections = detect_faces(image)
    largest = max(detections, key=lambda d: d.width * d.height)
    return embed_faces(image, [largest], version="2.0")[0]


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(photo_bytes(name))).convert("RGB"))


def test_aligned_crop_puts_the_landmarks_on_the_template() -> None:
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.face_embedder import ARCFACE_TEMPLATE, _similarity_warp, aligned_crops

    image = rgb("astronaut")
    (face,) = detect_faces(image)
    crop = aligned_crops(image, [face])
    assert crop.shape == (1, 112, 112, 3) and crop.dtype == np.uint8
    warp = _similarity_warp(face.landmarks, ARCFACE_TEMPLATE)
    moved = (warp[:2, :2] @ np.asarray(face.landmarks, np.float64).T).T + warp[:2, 2]
    # A similarity transform cannot fit five points exactly; on a frontal face it comes within a few pixels.
    assert np.abs(moved - ARCFACE_TEMPLATE).max() < 6.0
    # Eyes level and apart as in the template: the warp took the face, not a corner of the image.
    assert moved[1, 0] - moved[0, 0] == pytest.approx(35.2, abs=5.0)


def test_same_person_matches_and_different_people_do_not() -> None:
    from recognito.faces.similarity import similarity
    from recognito_inference.face_embedder import SFACE_EMBEDDING_SIZE

    obama = [_largest_embedding(_photo(name)) for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    others = [_largest_embedding(image) for image in (_photo("biden.jpg"), rgb("astronaut"), rgb("camera"))]
    for vector in obama + others:
        assert vector.shape == (SFACE_EMBEDDING_SIZE,) and vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    for i in range(3):
        for j in range(i + 1, 3):
            assert similarity(obama[i], obama[j], "2.0") > 90
    # The 2.0 curve puts 50 near the impostors' 95th percentile (cosine 0.24): a different person
    # may score 50-70 (Biden against obama2.jpg does), but stays under the default threshold of 80.
    lowest_genuine = min(similarity(obama[i], obama[j], "2.0") for i in range(3) for j in range(i + 1, 3))
    for vector in others:
        assert float(np.max(similarity(vector, np.stack(obama), "2.0"))) < min(80.0, lowest_genuine)
    assert similarity(others[0], others[1], "2.0") < 80
    assert similarity(others[1], others[2], "2.0") < 80


def test_version_names_fit_botocores_pattern() -> None:
    import re

    import botocore.session
    from recognito.faces.similarity import CURVES, FACE_MODEL_VERSION
    from recognito_inference.face_embedder import MODELS

    shape = botocore.session.get_session().get_service_model("rekognition").shape_for("IndexFacesModelVersion")
    pattern = shape.metadata["pattern"]
    assert set(CURVES) == set(MODELS) and FACE_MODEL_VERSION in MODELS
    for version in MODELS:
        assert re.fullmatch(pattern, version), version


@pytest.mark.usefixtures("aws")
def test_collection_stored_with_the_old_version_name_keeps_working() -> None:
    """A collection an earlier release created (FaceModelVersion "facenet-20180408") reads as
    "1.0", takes new faces of its model and finds them: IndexFaces, SearchFacesByImage, ListFaces."""
    import base64
    from datetime import UTC, datetime

    from conftest import call
    from recognito.storage.tables import CollectionRecord

    needs_models("centerface", "facenet-int8")
    CollectionRecord("older", created=datetime.now(UTC), face_model_version="facenet-20180408").save()
    assert call("DescribeCollection", {"CollectionId": "older"})[1]["FaceModelVersion"] == "1.0"
    obama = {"Bytes": base64.b64encode(photo_bytes("obama.jpg")).decode()}
    status, indexed = call("IndexFaces", {"CollectionId": "older", "Image": obama, "ExternalImageId": "obama"})
    assert status == 200, indexed
    assert indexed["FaceModelVersion"] == "1.0"
    other = {"Bytes": base64.b64encode(photo_bytes("obama2.jpg")).decode()}
    status, found = call("SearchFacesByImage", {"CollectionId": "older", "Image": other})
    assert status == 200, found
    assert [match["Face"]["ExternalImageId"] for match in found["FaceMatches"]] == ["obama"]
    assert found["FaceModelVersion"] == "1.0"
    listed = call("ListFaces", {"CollectionId": "older"})[1]
    assert [face["IndexFacesModelVersion"] for face in listed["Faces"]] == ["1.0"]
