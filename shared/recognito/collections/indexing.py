"""The collection operations that look at an image: IndexFaces, SearchFacesByImage, SearchUsersByImage.

They detect and embed with the same models as DetectFaces and CompareFaces, then hand the
embeddings to the storage (``faces.add_faces``) or to the search index (``search``).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from recognito_inference.face_detector import detect_faces
from recognito_inference.face_embedder import embed_faces

from recognito.collections.faces import NewFace, add_faces
from recognito.collections.search import (
    DEFAULT_FACE_MATCH_THRESHOLD,
    DEFAULT_MAX_FACES,
    DEFAULT_MAX_USERS,
    DEFAULT_USER_MATCH_THRESHOLD,
    face_matches,
    user_matches,
)
from recognito.collections.service import get_collection
from recognito.errors import InvalidParameterException
from recognito.faces.details import face_details, quality_filter_reasons
from recognito.images import DecodedImage, limits_for, load_image

MAX_FACES_PER_IMAGE = 100  # "IndexFaces returns no more than 100 detected faces in an image"
NO_FACE_MESSAGE = "There are no faces in the image. Should be at least 1."


def index_faces(request: dict[str, Any]) -> dict[str, Any]:
    """Detects the faces of an image, keeps those that pass ``QualityFilter`` (AUTO unless given)
    up to ``MaxFaces`` (largest first), and adds them to the collection."""
    collection = get_collection(request["CollectionId"])
    image = load_image(request["Image"], limits_for("IndexFaces"))
    detections = detect_faces(image.rgb, max_faces=MAX_FACES_PER_IMAGE)
    details = face_details(image, detections)
    quality_filter = request.get("QualityFilter", "AUTO")
    max_faces = request.get("MaxFaces", MAX_FACES_PER_IMAGE)

    kept, unindexed = [], []
    for detection, detail in zip(detections, details, strict=True):
        reasons = quality_filter_reasons(detail, quality_filter, (image.width, image.height))
        if not reasons and len(kept) >= max_faces:
            reasons = ["EXCEEDS_MAX_FACES"]
        if reasons:
            unindexed.append({"Reasons": reasons, "FaceDetail": detail})
        else:
            kept.append((detection, detail))

    embeddings = embed_faces(image.rgb, [detection for detection, _ in kept])
    faces = add_faces(
        collection.collection_id,
        [
            NewFace(embedding, detail["BoundingBox"], detail["Confidence"])
            for embedding, (_, detail) in zip(embeddings, kept, strict=True)
        ],
        image_id=str(uuid.uuid4()),
        external_image_id=request.get("ExternalImageId"),
    )
    return {
        "FaceRecords": [{"Face": face, "FaceDetail": detail} for face, (_, detail) in zip(faces, kept, strict=True)],
        "UnindexedFaces": unindexed,
        "FaceModelVersion": collection.face_model_version,
    }


def _largest_face(image: DecodedImage, quality_filter: str) -> tuple[np.ndarray, dict[str, Any], list[dict]]:
    """The embedding and FaceDetail of the image's largest face, and the details of the others.

    The largest face is the one searched with, as at AWS; if the QualityFilter turns it away,
    there is nothing to search with.
    """
    detections = detect_faces(image.rgb, max_faces=MAX_FACES_PER_IMAGE)
    if not detections:
        raise InvalidParameterException(NO_FACE_MESSAGE)
    details = face_details(image, detections)
    reasons = quality_filter_reasons(details[0], quality_filter, (image.width, image.height))
    if reasons:
        raise InvalidParameterException(
            f"The largest face in the image does not pass QualityFilter {quality_filter}: {', '.join(reasons)}"
        )
    return embed_faces(image.rgb, detections[:1])[0], details[0], details[1:]


def search_faces_by_image(request: dict[str, Any]) -> dict[str, Any]:
    collection = get_collection(request["CollectionId"])
    image = load_image(request["Image"], limits_for("SearchFacesByImage"))
    embedding, detail, _ = _largest_face(image, request.get("QualityFilter", "NONE"))
    return {
        "SearchedFaceBoundingBox": detail["BoundingBox"],
        "SearchedFaceConfidence": detail["Confidence"],
        "FaceMatches": face_matches(
            collection.collection_id,
            embedding,
            request.get("MaxFaces", DEFAULT_MAX_FACES),
            request.get("FaceMatchThreshold", DEFAULT_FACE_MATCH_THRESHOLD),
        ),
        "FaceModelVersion": collection.face_model_version,
    }


def search_users_by_image(request: dict[str, Any]) -> dict[str, Any]:
    collection = get_collection(request["CollectionId"])
    image = load_image(request["Image"], limits_for("SearchUsersByImage"))
    embedding, detail, others = _largest_face(image, request.get("QualityFilter", "NONE"))
    return {
        "UserMatches": user_matches(
            collection.collection_id,
            embedding,
            request.get("MaxUsers", DEFAULT_MAX_USERS),
            request.get("UserMatchThreshold", DEFAULT_USER_MATCH_THRESHOLD),
        ),
        "FaceModelVersion": collection.face_model_version,
        "SearchedFace": {"FaceDetail": detail},
        "UnsearchedFaces": [{"FaceDetails": other, "Reasons": ["FACE_NOT_LARGEST"]} for other in others],
    }
