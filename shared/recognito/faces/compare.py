"""CompareFaces: the largest face of the source image against each of the target's faces.

As Rekognition documents it: the source's largest face is compared with each of the 100 largest
faces of the target; matches at or above ``SimilarityThreshold`` (default 80) come back in
``FaceMatches``, most similar first, the other target faces in ``UnmatchedFaces``, each as a
ComparedFace (BoundingBox, Confidence, Landmarks, Pose, Quality). ``QualityFilter`` (default
NONE) leaves out faces, of either image, that miss its bar: "Filtered faces aren't compared".
"If no faces are detected in the source or target images, CompareFaces returns an
InvalidParameterException error."

Each image is fetched and decoded once; the crops of the source face and of all target faces
are embedded in one run of the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from recognito_inference.face_detector import detect_faces
from recognito_inference.face_embedder import embed_crops, face_crops, similarity

from recognito.errors import InvalidParameterException
from recognito.faces.details import face_details, passes_quality_filter
from recognito.images import INVALID_PARAMETERS_MESSAGE, DecodedImage, limits_for, load_image

MAX_TARGET_FACES = 100  # "each of the 100 largest faces detected in the target input image"
DEFAULT_SIMILARITY_THRESHOLD = 80.0
DEFAULT_QUALITY_FILTER = "NONE"


def _faces(image: DecodedImage, max_faces: int, quality_filter: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """The image's detections and their FaceDetails, largest first, those the filter keeps."""
    detections = detect_faces(image.rgb, max_faces=max_faces)
    if not detections:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    details = face_details(image, detections)
    size = (image.width, image.height)
    kept = [i for i, detail in enumerate(details) if passes_quality_filter(detail, quality_filter, size)]
    return [detections[i] for i in kept], [details[i] for i in kept]


def compare_faces(request: dict[str, Any]) -> dict[str, Any]:
    """The CompareFaces response for a validated request."""
    threshold = float(request.get("SimilarityThreshold", DEFAULT_SIMILARITY_THRESHOLD))
    quality_filter = request.get("QualityFilter", DEFAULT_QUALITY_FILTER)
    limits = limits_for("CompareFaces")
    source = load_image(request["SourceImage"], limits, member="SourceImage")
    target = load_image(request["TargetImage"], limits, member="TargetImage")

    # The source's largest face is the one compared; all its faces are detected so that "largest"
    # means what it does at AWS, then the filter may pass over a poor largest face.
    source_detections, source_details = _faces(source, MAX_TARGET_FACES, quality_filter)
    if not source_detections:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    target_detections, target_details = _faces(target, MAX_TARGET_FACES, quality_filter)

    crops = np.concatenate([face_crops(source.rgb, source_detections[:1]), face_crops(target.rgb, target_detections)])
    embeddings = embed_crops(crops)
    scores = np.atleast_1d(similarity(embeddings[0], embeddings[1:]))

    matches = [
        {"Similarity": float(score), "Face": detail}
        for score, detail in zip(scores, target_details, strict=True)
        if score >= threshold
    ]
    matches.sort(key=lambda match: -match["Similarity"])
    unmatched = [detail for score, detail in zip(scores, target_details, strict=True) if score < threshold]

    source_detail = source_details[0]
    response: dict[str, Any] = {
        "SourceImageFace": {"BoundingBox": source_detail["BoundingBox"], "Confidence": source_detail["Confidence"]},
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }
    # Both are documented as always null now; DecodedImage says when that changes.
    if source.orientation_correction is not None:
        response["SourceImageOrientationCorrection"] = source.orientation_correction
    if target.orientation_correction is not None:
        response["TargetImageOrientationCorrection"] = target.orientation_correction
    return response
