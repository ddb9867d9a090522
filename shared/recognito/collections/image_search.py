"""SearchFacesByImage and SearchUsersByImage: a collection searched with an image's largest face."""

from __future__ import annotations

from typing import Any

import numpy as np
from recognito_inference.face_detector import detect_faces

from recognito.collections.indexing import MAX_FACES_PER_IMAGE
from recognito.collections.search import requested_face_matches, requested_user_matches
from recognito.collections.service import get_collection
from recognito.errors import InvalidParameterException
from recognito.faces.details import describe_faces
from recognito.faces.similarity import face_model
from recognito.images import limits_for, load_image
from recognito.storage import CollectionRecord

NO_FACE_MESSAGE = "There are no faces in the image. Should be at least 1."


def _largest_face(
    operation: str, request: dict[str, Any], collection: CollectionRecord
) -> tuple[np.ndarray, dict[str, Any], list[dict]]:
    """The embedding (by the collection's face model) and FaceDetail of the request image's largest
    face, and the others' details.

    The largest face is the one searched with, as at AWS; if the QualityFilter (NONE unless
    given) turns it away, there is nothing to search with.
    """
    image = load_image(request["Image"], limits_for(operation))
    quality_filter = request.get("QualityFilter", "NONE")
    detections = detect_faces(image.rgb, max_faces=MAX_FACES_PER_IMAGE)
    if not detections:
        raise InvalidParameterException(NO_FACE_MESSAGE)
    largest, *others = describe_faces(image, detections, quality_filter)
    if largest.reasons:
        raise InvalidParameterException(
            f"The largest face in the image does not pass QualityFilter {quality_filter}: {', '.join(largest.reasons)}"
        )
    embedding = face_model(collection.face_model_version).embed(image.rgb, [largest.detection])[0]
    return embedding, largest.detail, [other.detail for other in others]


def search_faces_by_image(request: dict[str, Any]) -> dict[str, Any]:
    collection = get_collection(request["CollectionId"])
    embedding, detail, _ = _largest_face("SearchFacesByImage", request, collection)
    return {
        "SearchedFaceBoundingBox": detail["BoundingBox"],
        "SearchedFaceConfidence": detail["Confidence"],
        "FaceMatches": requested_face_matches(request, collection, embedding),
        "FaceModelVersion": collection.face_model_version,
    }


def search_users_by_image(request: dict[str, Any]) -> dict[str, Any]:
    collection = get_collection(request["CollectionId"])
    embedding, detail, others = _largest_face("SearchUsersByImage", request, collection)
    return {
        "UserMatches": requested_user_matches(request, collection, embedding),
        "FaceModelVersion": collection.face_model_version,
        "SearchedFace": {"FaceDetail": detail},
        "UnsearchedFaces": [{"FaceDetails": other, "Reasons": ["FACE_NOT_LARGEST"]} for other in others],
    }
