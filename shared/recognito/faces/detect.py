"""DetectFaces: up to the 100 largest faces in an image, each as a FaceDetail.

``Attributes`` picks what each FaceDetail carries. DEFAULT (BoundingBox, Confidence, Landmarks,
Pose, Quality) is always returned; ALL adds every attribute (and all 30 landmarks), and the
single attributes (AGE_RANGE, EMOTIONS, ...) add themselves (recognito.faces.attributes says
where each comes from). FACE_OCCLUDED among them.
"""

from __future__ import annotations

from typing import Any

from recognito_inference.face_detector import detect_faces as find_faces

from recognito.faces.details import face_details
from recognito.images import limits_for, load_image

MAX_FACES = 100  # "Amazon Rekognition Image detects the 100 largest faces in an image."


def detect_faces(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectFaces response for a validated request: ``{"FaceDetails": [...]}``, largest first."""
    image = load_image(request["Image"], limits_for("DetectFaces"))
    detections = find_faces(image.rgb, max_faces=MAX_FACES)
    result: dict[str, Any] = {"FaceDetails": face_details(image, detections, request.get("Attributes") or ("DEFAULT",))}
    # AWS documents OrientationCorrection as always null now; DecodedImage says when it is not.
    if image.orientation_correction is not None:
        result["OrientationCorrection"] = image.orientation_correction
    return result
