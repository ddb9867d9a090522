"""CompareFaces on real photographs: the same person matches above 80, different people do not.

Photographs: scikit-image's astronaut (Eileen Collins) and cameraman, and the Obama and Biden
photographs that PyPI's face_recognition package ships (tests/face_datasets.py fetches and checks
them). CompareFaces embeds with the current face model version (2.0, SFace) and scores on its curve,
fitted on ../shared/datasets/faces (bench/calibrate_similarity.py), none of these photographs.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from conftest import call
from face_datasets import photo_bytes
from face_scenes import encode, rgb
from models_available import needs_models
from PIL import Image, ImageFilter
from recognito.errors import InvalidParameterException

COMPARED_FACE = {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def models() -> None:
    needs_models("centerface", "sface")


def compare(source: np.ndarray | bytes, target: np.ndarray | bytes, **request: object) -> dict:
    from recognito.faces.compare import compare_faces

    def image(value: np.ndarray | bytes) -> dict:
        return {"Bytes": value if isinstance(value, bytes) else encode(value)}

    return compare_faces({"SourceImage": image(source), "TargetImage": image(target), **request})


def similarity_of(source: np.ndarray | bytes, target: np.ndarray | bytes) -> float:
    """The Similarity of the target's (single) face to the source's, whatever its value."""
    response = compare(source, target, SimilarityThreshold=0.0)
    (match,) = response["FaceMatches"]
    return match["Similarity"]


def rescaled(image: np.ndarray, box: tuple[int, int, int, int], scale: float) -> np.ndarray:
    crop = Image.fromarray(image).crop(box)
    return np.asarray(crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.LANCZOS))


def side_by_side(*images: np.ndarray, height: int = 400) -> np.ndarray:
    resized = [Image.fromarray(i).resize((round(i.shape[1] * height / i.shape[0]), height)) for i in images]
    canvas = Image.new("RGB", (sum(i.width for i in resized), height))
    x = 0
    for image in resized:
        canvas.paste(image, (x, 0))
        x += image.width
    return np.asarray(canvas)


@pytest.mark.usefixtures("aws")  # the handler authenticates callers against its tables
def test_astronaut_crops_match_through_the_handler() -> None:
    astronaut = rgb("astronaut")
    target = rescaled(astronaut, (60, 0, 460, 420), 0.7)  # another framing, smaller, as JPEG
    body = {
        "SourceImage": {"Bytes": base64.b64encode(encode(astronaut)).decode()},
        "TargetImage": {"Bytes": base64.b64encode(encode(target, "JPEG", quality=85)).decode()},
    }
    status, response = call("CompareFaces", body)
    assert status == 200, response
    assert set(response) == {"SourceImageFace", "FaceMatches", "UnmatchedFaces"}  # orientations: always null
    assert set(response["SourceImageFace"]) == {"BoundingBox", "Confidence"}
    assert 0.30 < response["SourceImageFace"]["BoundingBox"]["Left"] < 0.40
    (match,) = response["FaceMatches"]
    assert match["Similarity"] > 95
    assert set(match["Face"]) == COMPARED_FACE
    assert response["UnmatchedFaces"] == []


def test_different_people_stay_under_80() -> None:
    astronaut, camera = rgb("astronaut"), rgb("camera")
    response = compare(astronaut, camera)
    assert response["FaceMatches"] == []
    (face,) = response["UnmatchedFaces"]
    assert set(face) == COMPARED_FACE
    assert similarity_of(astronaut, camera) < 50
    assert similarity_of(photo_bytes("obama.jpg"), photo_bytes("biden.jpg")) < 50


def test_same_person_in_other_photographs_matches() -> None:
    obama = photo_bytes("obama.jpg")
    for other in ("obama2.jpg", "obama3.jpg"):
        response = compare(obama, photo_bytes(other))
        (match,) = response["FaceMatches"]
        assert match["Similarity"] > 90, other


def test_unmatched_faces_hold_the_other_people_of_a_group() -> None:
    obama = np.asarray(Image.open(io.BytesIO(photo_bytes("obama.jpg"))).convert("RGB"))
    group = side_by_side(rgb("camera"), rgb("astronaut"), obama[:700])
    response = compare(rgb("astronaut"), group)
    (match,) = response["FaceMatches"]
    # The astronaut is the middle third of the group.
    left = match["Face"]["BoundingBox"]["Left"]
    assert 0.33 < left < 0.66, left
    assert len(response["UnmatchedFaces"]) == 2
    lefts = sorted(face["BoundingBox"]["Left"] for face in response["UnmatchedFaces"])
    assert lefts[0] < 0.33 < 0.66 < lefts[1]


def test_matches_are_sorted_and_the_threshold_is_honoured() -> None:
    astronaut = rgb("astronaut")
    group = side_by_side(rgb("camera"), rescaled(astronaut, (100, 0, 350, 300), 1.0), astronaut)
    everything = compare(astronaut, group, SimilarityThreshold=0.0)
    scores = [match["Similarity"] for match in everything["FaceMatches"]]
    assert len(scores) == 3 and everything["UnmatchedFaces"] == []
    assert scores == sorted(scores, reverse=True)
    assert scores[1] > 90 > 50 > scores[2]  # two astronauts, then the cameraman

    # A threshold between the two astronauts' scores splits them.
    between = (scores[0] + scores[1]) / 2
    split = compare(astronaut, group, SimilarityThreshold=between)
    assert [m["Similarity"] for m in split["FaceMatches"]] == pytest.approx(scores[:1])
    assert len(split["UnmatchedFaces"]) == 2

    none = compare(astronaut, group, SimilarityThreshold=100.0)
    assert none["FaceMatches"] == [] and len(none["UnmatchedFaces"]) == 3


def test_quality_filter_leaves_out_blurred_faces() -> None:
    astronaut = rgb("astronaut")
    blurred = np.asarray(Image.fromarray(astronaut).filter(ImageFilter.GaussianBlur(4)))
    kept = compare(astronaut, blurred)  # NONE, the default: the blurred face is compared
    assert len(kept["FaceMatches"]) + len(kept["UnmatchedFaces"]) == 1
    filtered = compare(astronaut, blurred, QualityFilter="HIGH")
    assert filtered["FaceMatches"] == [] and filtered["UnmatchedFaces"] == []


def test_no_face_in_source_or_target_is_invalid_parameter() -> None:
    # "If no faces are detected in the source or target images, CompareFaces returns an
    # InvalidParameterException error."
    with pytest.raises(InvalidParameterException):
        compare(rgb("coffee"), rgb("astronaut"))
    with pytest.raises(InvalidParameterException):
        compare(rgb("astronaut"), rgb("rocket"))


@pytest.mark.usefixtures("aws")
def test_no_face_in_source_through_the_handler() -> None:
    body = {
        "SourceImage": {"Bytes": base64.b64encode(encode(rgb("coffee"))).decode()},
        "TargetImage": {"Bytes": base64.b64encode(encode(rgb("astronaut"))).decode()},
    }
    status, response = call("CompareFaces", body)
    assert status == 400
    assert response["__type"] == "InvalidParameterException"


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_embeddings_are_unit_vectors_batched_as_alone(version: str) -> None:
    from recognito.faces.similarity import cosine_for_similarity, face_model, similarity
    from recognito_inference.face_detector import detect_faces
    from recognito_inference.face_embedder import EMBEDDERS

    model = face_model(version)
    needs_models(model.model)
    group = side_by_side(rgb("camera"), rgb("astronaut"))
    detections = detect_faces(group)
    batch = model.embed(group, detections)
    # The inference layer cannot import the shared one: its size and the registry's must agree.
    assert batch.shape == (2, model.dim) == (2, EMBEDDERS[model.model].size) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    alone = np.concatenate([model.embed(group, [d]) for d in detections])
    # FaceNet's int8 dynamic quantization scales activations per batch, so a batch-mate nudges a
    # face's embedding, by a cosine of ~1e-3: far below what tells people apart (impostors' sd ~0.1).
    assert ((batch * alone).sum(axis=1) > 0.998).all()

    # One against many, many against many, and the threshold a search prefilters with.
    assert np.shape(similarity(batch[0], batch, version)) == (2,)
    assert np.shape(similarity(batch, batch, version)) == (2, 2)
    assert similarity(batch[0], batch[0], version) > 99.9
    at_80 = np.float32(cosine_for_similarity(80.0, version))
    assert similarity(at_80 * batch[0], batch[0], version) == pytest.approx(80.0)
