"""CompareFaces: the largest face of the source image against each of the target's faces.

As Rekognition documents it: the source's largest face is compared with each of the 100 largest
faces of the target; matches at or above ``SimilarityThreshold`` (default 80) come back in
``FaceMatches``, most similar first, the other target faces in ``UnmatchedFaces``, each as a
ComparedFace (BoundingBox, Confidence, Landmarks, Pose, Quality). ``QualityFilter`` (default
NONE) leaves out faces, of either image, that miss its bar: "Filtered faces aren't compared".
"If no faces are detected in the source or target images, CompareFaces returns an
InvalidParameterException error."

Each image is fetched and decoded once. Faces are embedded by the current face model version
(``FACE_MODEL_VERSION``, SFace since "2.0") and scored on that version's Similarity curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from recognito_inference.face_detector import BASE_LONG_SIDE, FaceDetection, detect_faces

from recognito.errors import InvalidParameterException
from recognito.faces.details import DescribedFace, describe_faces
from recognito.faces.similarity import FACE_MODEL_VERSION, face_model, similarity
from recognito.images import INVALID_PARAMETERS_MESSAGE, DecodedImage, limits_for, load_image

MAX_TARGET_FACES = 100  # "each of the 100 largest faces detected in the target input image"
DEFAULT_SIMILARITY_THRESHOLD = 80.0
DEFAULT_QUALITY_FILTER = "NONE"
# A face at least this tall (px) at the detector's base resolution is surely the source's largest:
# what that resolution misses is under the network's ~24 px minimum there, and the detector's own
# full-resolution pass over a large photo keeps only faces under 60 px at the base scale.
SURELY_LARGEST_AT_BASE = 100.0


def _filtered(image: DecodedImage, detections: list[FaceDetection], quality_filter: str) -> list[DescribedFace]:
    """The detections the QualityFilter keeps, with their FaceDetails, in the same order."""
    return [face for face in describe_faces(image, detections, quality_filter) if not face.reasons]


def _large_faces_at_base(image: DecodedImage) -> list[FaceDetection]:
    """The faces of the detector's base pass alone that are surely the largest, in image pixels.

    For a photo larger than the base pass's resolution this skips the full-resolution pass, by far
    the dearest part of detection (~4x the base pass for a 1 MP photo): the source's largest
    face is all CompareFaces uses. Empty when no face is large enough to be sure.
    """
    scale = BASE_LONG_SIDE / max(image.width, image.height)
    if scale >= 1.0:
        return []
    width, height = round(image.width * scale), round(image.height * scale)
    small = np.asarray(image.to_pil().resize((width, height), Image.BILINEAR))
    sx, sy = width / image.width, height / image.height
    return [
        FaceDetection(
            box=(d.box / np.array([sx, sy, sx, sy], dtype=np.float32)).astype(np.float32),
            score=d.score,
            landmarks=(d.landmarks / np.array([sx, sy], dtype=np.float32)).astype(np.float32),
        )
        for d in detect_faces(small, max_faces=MAX_TARGET_FACES)
        if d.height >= SURELY_LARGEST_AT_BASE
    ]


def _source_face(image: DecodedImage, quality_filter: str) -> DescribedFace:
    """The source's largest face that the filter keeps."""
    quick = _large_faces_at_base(image)
    kept = _filtered(image, quick, quality_filter) if quick else []
    if not kept:
        kept = _filtered(image, detect_faces(image.rgb, max_faces=MAX_TARGET_FACES), quality_filter)
    if not kept:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    return kept[0]


def compare_faces(request: dict[str, Any]) -> dict[str, Any]:
    """The CompareFaces response for a validated request."""
    threshold = float(request.get("SimilarityThreshold", DEFAULT_SIMILARITY_THRESHOLD))
    quality_filter = request.get("QualityFilter", DEFAULT_QUALITY_FILTER)
    limits = limits_for("CompareFaces")
    source = load_image(request["SourceImage"], limits, member="SourceImage")
    target = load_image(request["TargetImage"], limits, member="TargetImage")

    # The source's largest face is the one compared (the filter may pass over a poor one).
    source_face = _source_face(source, quality_filter)
    found = detect_faces(target.rgb, max_faces=MAX_TARGET_FACES)
    if not found:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    # Faces found but all filtered out leave both lists empty: there were faces, none compared.
    targets = _filtered(target, found, quality_filter)
    target_details = [face.detail for face in targets]

    model = face_model(FACE_MODEL_VERSION)
    source_embedding = model.embed(source.rgb, [source_face.detection])[0]
    target_embeddings = model.embed(target.rgb, [face.detection for face in targets])
    scores = np.atleast_1d(similarity(source_embedding, target_embeddings, model.version))

    matches = [
        {"Similarity": float(score), "Face": detail}
        for score, detail in zip(scores, target_details, strict=True)
        if score >= threshold
    ]
    matches.sort(key=lambda match: -match["Similarity"])
    unmatched = [detail for score, detail in zip(scores, target_details, strict=True) if score < threshold]

    response: dict[str, Any] = {
        "SourceImageFace": {
            "BoundingBox": source_face.detail["BoundingBox"],
            "Confidence": source_face.detail["Confidence"],
        },
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }
    # Both are documented as always null now; DecodedImage says when that changes.
    if source.orientation_correction is not None:
        response["SourceImageOrientationCorrection"] = source.orientation_correction
    if target.orientation_correction is not None:
        response["TargetImageOrientationCorrection"] = target.orientation_correction
    return response
