"""IndexFaces: the faces of an image, detected and embedded, added to a collection.

It detects with the same model as DetectFaces, embeds with the collection's face model version
(the one it was created with, which may be older than CompareFaces') and hands the embeddings to
the storage (``faces.add_faces``); it never searches, so it does not load the
search layer.
"""

from __future__ import annotations

import uuid
from typing import Any

from recognito_inference.face_detector import detect_faces

from recognito.collections.faces import NewFace, add_faces
from recognito.collections.service import get_collection
from recognito.faces.details import DescribedFace, describe_faces
from recognito.faces.similarity import face_model
from recognito.images import limits_for, load_image

MAX_FACES_PER_IMAGE = 100  # "IndexFaces returns no more than 100 detected faces in an image"


def index_faces(request: dict[str, Any]) -> dict[str, Any]:
    """Detects the faces of an image, keeps those that pass ``QualityFilter`` (AUTO unless given)
    up to ``MaxFaces`` (largest first), and adds them to the collection."""
    collection = get_collection(request["CollectionId"])
    image = load_image(request["Image"], limits_for("IndexFaces"))
    detections = detect_faces(image.rgb, max_faces=MAX_FACES_PER_IMAGE)
    described = describe_faces(
        image, detections, request.get("QualityFilter", "AUTO"), request.get("DetectionAttributes") or ("DEFAULT",)
    )
    max_faces = request.get("MaxFaces", MAX_FACES_PER_IMAGE)

    kept: list[DescribedFace] = []
    unindexed = []
    for face in described:
        reasons = face.reasons or (["EXCEEDS_MAX_FACES"] if len(kept) >= max_faces else [])
        if reasons:
            unindexed.append({"Reasons": reasons, "FaceDetail": face.detail})
        else:
            kept.append(face)

    version = collection.face_model_version
    embeddings = face_model(version).embed(image.rgb, [face.detection for face in kept])
    faces = add_faces(
        collection.collection_id,
        [
            NewFace(embedding, face.detail["BoundingBox"], face.detail["Confidence"])
            for embedding, face in zip(embeddings, kept, strict=True)
        ],
        version=version,
        image_id=str(uuid.uuid4()),
        external_image_id=request.get("ExternalImageId"),
    )
    return {
        "FaceRecords": [{"Face": stored, "FaceDetail": face.detail} for stored, face in zip(faces, kept, strict=True)],
        "UnindexedFaces": unindexed,
        "FaceModelVersion": collection.face_model_version,
    }
