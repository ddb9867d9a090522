"""IndexFaces: the faces of an image, detected and embedded, added to a collection.

It detects and embeds with the same models as DetectFaces and CompareFaces and hands the
embeddings to the storage (``faces.add_faces``); it never searches, so it does not load the
search layer.
"""

from __future__ import annotations

import uuid
from typing import Any

from recognito_inference.face_detector import detect_faces
from recognito_inference.face_embedder import embed_faces

from recognito.collections.faces import NewFace, add_faces
from recognito.collections.service import get_collection
from recognito.faces.details import face_details, quality_filter_reasons
from recognito.images import limits_for, load_image

MAX_FACES_PER_IMAGE = 100  # "IndexFaces returns no more than 100 detected faces in an image"


def index_faces(request: dict[str, Any]) -> dict[str, Any]:
    """Detects the faces of an image, keeps those that pass ``QualityFilter`` (AUTO unless given)
    up to ``MaxFaces`` (largest first), and adds them to the collection."""
    collection = get_collection(request["CollectionId"])
    image = load_image(request["Image"], limits_for("IndexFaces"))
    detections = detect_faces(image.rgb, max_faces=MAX_FACES_PER_IMAGE)
    details = face_details(image, detections, request.get("DetectionAttributes") or ("DEFAULT",))
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
