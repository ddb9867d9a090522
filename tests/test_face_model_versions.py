"""Face model versions on real photographs: 2.0 (SFace) through its own crop and Similarity curve,
new collections on 2.0, and collections made before the switch (1.0, FaceNet) still working.

Photographs: the Obama and Biden photographs of PyPI's face_recognition package and scikit-image's
astronaut and cameraman (tests/face_datasets.py); both curves were fitted on ../shared's face set
(bench/calibrate_similarity.py --version), none of which is used here.
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
    from recognito.faces.similarity import face_model
    from recognito_inference.face_detector import detect_faces

    detections = detect_faces(image)
    largest = max(detections, key=lambda d: d.width * d.height)
    return face_model("2.0").embed(image, [largest])[0]


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


def test_the_registry_names_shipped_models_and_botocore_valid_versions() -> None:
    import re
    import tomllib
    from pathlib import Path

    import botocore.session
    from recognito.faces.similarity import FACE_MODEL_VERSION, FACE_MODELS
    from recognito_inference.face_embedder import EMBEDDERS

    shape = botocore.session.get_session().get_service_model("rekognition").shape_for("IndexFacesModelVersion")
    pattern = shape.metadata["pattern"]
    assert FACE_MODEL_VERSION == "2.0" and FACE_MODELS[FACE_MODEL_VERSION].model == "sface"
    functions = Path(__file__).resolve().parents[1] / "shared" / "recognito" / "data" / "functions.toml"
    layers = tomllib.loads(functions.read_text())["layers"]
    for version, model in FACE_MODELS.items():
        assert re.fullmatch(pattern, version) and model.version == version
        # The inference layer cannot import the shared one: the sizes must agree by test.
        assert EMBEDDERS[model.model].size == model.dim
        # Every version's model ships where faces are embedded, old collections' too.
        for layer in ("FaceEmbedderModel", "UploadFaceModels"):
            assert model.model in layers[layer]["models"], (layer, model.model)


def _image(name: str) -> dict:
    import base64

    return {"Bytes": base64.b64encode(photo_bytes(name)).decode()}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_a_collection_keeps_its_face_model_version(version: str) -> None:
    """A collection made before the switch (FaceNet, "1.0") and a new one ("2.0", what
    CreateCollection now gives) each embed, search, score and check users with their own model:
    every response names that version, and the stored embeddings have its size. Both run under one
    id in one process, so the search cache must rebuild on the other model's size."""
    from datetime import UTC, datetime

    from conftest import call
    from recognito.collections.store import decode_embedding
    from recognito.faces.similarity import face_model
    from recognito.storage.tables import CollectionRecord, FaceRecord

    model = face_model(version)
    needs_models("centerface", model.model)
    if version == "1.0":
        # As an earlier release stored it: its old name for FaceNet reads back as "1.0".
        CollectionRecord("people", created=datetime.now(UTC), face_model_version="facenet-20180408").save()
    else:
        assert call("CreateCollection", {"CollectionId": "people"})[1]["FaceModelVersion"] == version
    assert call("DescribeCollection", {"CollectionId": "people"})[1]["FaceModelVersion"] == version
    assert version in call("ListCollections", {})[1]["FaceModelVersions"]

    ids = {}
    for person, photo in (("obama", "obama.jpg"), ("biden", "biden.jpg"), ("obama-again", "obama3.jpg")):
        status, indexed = call(
            "IndexFaces", {"CollectionId": "people", "Image": _image(photo), "ExternalImageId": person}
        )
        assert status == 200 and indexed["FaceModelVersion"] == version, indexed
        ((record,),) = [indexed["FaceRecords"]]
        ids[person] = record["Face"]["FaceId"]
    stored = FaceRecord.get("people", ids["obama"])
    assert decode_embedding(stored.embedding).shape == (model.dim,) and stored.model_version == version
    listed = call("ListFaces", {"CollectionId": "people"})[1]
    assert listed["FaceModelVersion"] == version
    assert {face["IndexFacesModelVersion"] for face in listed["Faces"]} == {version}

    status, found = call("SearchFacesByImage", {"CollectionId": "people", "Image": _image("obama2.jpg")})
    assert status == 200 and found["FaceModelVersion"] == version, found
    assert sorted(match["Face"]["ExternalImageId"] for match in found["FaceMatches"]) == ["obama", "obama-again"]
    assert min(match["Similarity"] for match in found["FaceMatches"]) >= 80
    status, found = call("SearchFaces", {"CollectionId": "people", "FaceId": ids["biden"], "FaceMatchThreshold": 0})
    assert status == 200 and found["FaceModelVersion"] == version
    assert max(match["Similarity"] for match in found["FaceMatches"]) < 80  # nobody else is Biden

    # Users: a new face must resemble the user's on the version's own scale (UserMatchThreshold 75).
    call("CreateUser", {"CollectionId": "people", "UserId": "barack"})
    for face, expected in (("obama", "obama"), ("obama-again", "obama-again")):
        status, associated = call(
            "AssociateFaces", {"CollectionId": "people", "UserId": "barack", "FaceIds": [ids[face]]}
        )
        assert status == 200 and associated["AssociatedFaces"] == [{"FaceId": ids[expected]}], associated
    status, refused = call("AssociateFaces", {"CollectionId": "people", "UserId": "barack", "FaceIds": [ids["biden"]]})
    assert [failure["Reasons"] for failure in refused["UnsuccessfulFaceAssociations"]] == [["LOW_MATCH_CONFIDENCE"]]
    status, users = call("SearchUsersByImage", {"CollectionId": "people", "Image": _image("obama2.jpg")})
    assert status == 200 and users["FaceModelVersion"] == version, users
    assert [match["User"]["UserId"] for match in users["UserMatches"]] == ["barack"]
    status, users = call("SearchUsers", {"CollectionId": "people", "FaceId": ids["biden"]})
    assert status == 200 and users["FaceModelVersion"] == version and users["UserMatches"] == []
