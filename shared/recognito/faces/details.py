"""Rekognition's FaceDetail for detected faces (DEFAULT, ALL or chosen attributes), and the QualityFilter.

DetectFaces, CompareFaces, IndexFaces and SearchFacesByImage all describe a face the same way:
``BoundingBox`` and ``Landmarks`` as ratios of the image's width and height (origin top-left, in
the EXIF-corrected frame), ``Pose`` in degrees, ``Quality`` 0..100 and ``Confidence`` 0..100.
As at AWS, a box or landmark of a face at the image's edge may lie partly outside 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from recognito_inference.face_attributes import analyze, mesh_pose
from recognito_inference.face_detector import FaceDetection
from recognito_inference.face_geometry import face_quality, head_pose

from recognito.boxes import bounding_box
from recognito.faces.attributes import (
    AFTER_CONFIDENCE,
    BEFORE_LANDMARKS,
    NEEDS,
    face_attribute_values,
    full_landmarks,
    requested_attributes,
)
from recognito.images import DecodedImage

# The detector's point order (eyeLeft, eyeRight, nose, mouthLeft, mouthRight) -> AWS's response
# order. "eyeLeft" is the eye on the image's left, as in AWS's responses.
_LANDMARKS = (("eyeLeft", 0), ("eyeRight", 1), ("mouthLeft", 3), ("mouthRight", 4), ("nose", 2))

QUALITY_FILTERS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")

# What each QualityFilter level requires of a face. AWS documents the reasons a face is left out
# (UnindexedFaces' Reasons) but not the bars, so these are ours, set on this detector's outputs:
# - Confidence (bars written as detector scores): the detector reports faces from 0.40; faceless
#   test images never passed 0.37, clearly visible faces score 0.80-0.97, tiny (~24 px) or
#   half-hidden ones 0.40-0.70.
# - Brightness: mean luma of the face's centre; under ~20 a face is mostly shadow, over ~95 blown.
# - Sharpness: fitted by bench/calibrate_detection.py (2026-12-03) on Gaussian-blurred copies of
#   50 photos of ../shared/datasets/faces (no test uses them; sharp, they read 88-100): a logistic
#   fit of the chance that the face misses its person's other photos at Similarity 80 puts 0.25
#   (about the sharp photos' 0.14, so HIGH) at 81, 0.5 (MEDIUM: more often missed than matched) at
#   63 and 0.9 (LOW: all but never matched) at 28. The previous 40/15/5 let through faces missed
#   in 81%/95%/97% of pairs.
# - Pose: yaw is estimated from five points, to ~10 degrees; a profile face reads 70-80.
#   Embeddings of faces turned more than ~45 degrees match poorly.
# - Size: the box's height in image pixels; the detector finds faces from ~20-24 px, AWS
#   documents 40 px (in a 1920x1080 image) as the smallest face it detects.
# AUTO is MEDIUM: "Amazon Rekognition chooses the quality bar".


# CenterFace's score is not Rekognition's Confidence: clear faces score 0.80-0.97 where AWS
# reports 99+, so code that keeps faces above 90 would drop real ones. A logistic recalibration
# keeps the order and puts the detector's own threshold (0.40) at 50 and a clear face (0.70) at 99.
_SCORE_AT_50 = 0.40
_CONFIDENCE_SLOPE = float(np.log(99.0) / (0.70 - _SCORE_AT_50))


def face_confidence(score: float) -> float:
    """Rekognition-style Confidence (0-100) of a detector score (0-1)."""
    return float(100.0 / (1.0 + np.exp(-_CONFIDENCE_SLOPE * (score - _SCORE_AT_50))))


@dataclass(frozen=True)
class QualityBar:
    """What one QualityFilter level requires of a face."""

    confidence: float
    brightness_min: float
    brightness_max: float
    sharpness: float
    yaw: float  # largest |Yaw|, degrees
    pitch: float  # largest |Pitch|, degrees
    min_height_px: float  # smallest box height in image pixels


_BARS = {
    "LOW": QualityBar(face_confidence(0.40), 8.0, 99.5, 28.0, yaw=80.0, pitch=60.0, min_height_px=16.0),
    "MEDIUM": QualityBar(face_confidence(0.50), 18.0, 97.0, 63.0, yaw=65.0, pitch=45.0, min_height_px=24.0),
    "HIGH": QualityBar(face_confidence(0.70), 28.0, 94.0, 81.0, yaw=40.0, pitch=30.0, min_height_px=40.0),
}
_BARS["AUTO"] = _BARS["MEDIUM"]


def face_details(
    image: DecodedImage, detections: Sequence[FaceDetection], attributes: Sequence[str] = ("DEFAULT",)
) -> list[dict[str, Any]]:
    """The FaceDetail of each detection, in the same order, with the requested ``attributes``.

    ``attributes`` as DetectFaces' ``Attributes`` / IndexFaces' ``DetectionAttributes``: DEFAULT
    (always included), ALL, or single attributes (AGE_RANGE, EMOTIONS, ...). Only the models the
    request needs run; DEFAULT runs none beyond the detector.
    """
    if not detections:
        return []
    boxes = np.stack([d.box for d in detections]).astype(np.float64)
    points = np.stack([d.landmarks for d in detections]).astype(np.float64)
    wanted = requested_attributes(attributes)
    everything = "ALL" in {str(a) for a in attributes}
    needs = {step for name in wanted for step in NEEDS[name]} | ({"iris"} if everything else set())
    analysis = analyze(image.rgb, boxes, points, needs) if needs else None
    if everything and analysis is not None:
        # The full landmark set comes from the mesh; its five DEFAULT points and the pose with it.
        named = full_landmarks(analysis.mesh, analysis.irises)
        names = list(named)
        landmark_px = np.stack([named[name] for name in names], axis=1)
        poses = mesh_pose(analysis.mesh)
    else:
        names = [name for name, _ in _LANDMARKS]
        landmark_px = points[:, [k for _, k in _LANDMARKS]]
        poses = head_pose(points)
    qualities = face_quality(image.rgb, boxes)
    size = np.array([image.width, image.height], dtype=np.float64)
    landmark_xy = landmark_px / size
    extra = face_attribute_values(analysis, wanted) if analysis is not None else [{} for _ in detections]
    details = []
    for i, detection in enumerate(detections):
        detail: dict[str, Any] = {"BoundingBox": bounding_box(boxes[i], image.width, image.height, clip=False)}
        detail.update({key: extra[i][key] for key in BEFORE_LANDMARKS if key in extra[i]})
        detail["Landmarks"] = [
            {"Type": name, "X": float(landmark_xy[i, k, 0]), "Y": float(landmark_xy[i, k, 1])}
            for k, name in enumerate(names)
        ]
        detail["Pose"] = {"Roll": float(poses[i, 0]), "Yaw": float(poses[i, 1]), "Pitch": float(poses[i, 2])}
        detail["Quality"] = {"Brightness": float(qualities[i, 0]), "Sharpness": float(qualities[i, 1])}
        detail["Confidence"] = face_confidence(detection.score)
        detail.update({key: extra[i][key] for key in AFTER_CONFIDENCE if key in extra[i]})
        details.append(detail)
    return details


def quality_filter_reasons(detail: dict[str, Any], level: str, image_size: tuple[int, int] | None = None) -> list[str]:
    """Why QualityFilter ``level`` (NONE, AUTO, LOW, MEDIUM, HIGH) leaves the face out, as IndexFaces'
    ``UnindexedFaces`` Reasons; [] if it passes. The bars are ``_BARS`` above.

    ``image_size`` (width, height) enables the SMALL_BOUNDING_BOX check, which needs pixels.
    """
    if level not in QUALITY_FILTERS:
        raise ValueError(f"unknown QualityFilter {level!r}")
    if level == "NONE":
        return []
    bar = _BARS[level]
    reasons = []
    if detail["Confidence"] < bar.confidence:
        reasons.append("LOW_CONFIDENCE")
    pose = detail["Pose"]
    if abs(pose["Yaw"]) > bar.yaw or abs(pose["Pitch"]) > bar.pitch:
        reasons.append("EXTREME_POSE")
    quality = detail["Quality"]
    if not bar.brightness_min <= quality["Brightness"] <= bar.brightness_max:
        reasons.append("LOW_BRIGHTNESS")
    if quality["Sharpness"] < bar.sharpness:
        reasons.append("LOW_SHARPNESS")
    if image_size is not None:
        box = detail["BoundingBox"]
        if box["Height"] * image_size[1] < bar.min_height_px:
            reasons.append("SMALL_BOUNDING_BOX")
    return reasons


@dataclass(frozen=True)
class DescribedFace:
    """A detected face, its FaceDetail, and why the request's QualityFilter leaves it out ([]: kept)."""

    detection: FaceDetection
    detail: dict[str, Any]
    reasons: list[str]


def describe_faces(
    image: DecodedImage,
    detections: Sequence[FaceDetection],
    quality_filter: str = "NONE",
    attributes: Sequence[str] = ("DEFAULT",),
) -> list[DescribedFace]:
    """Each detection (largest first, as the detector gives them) with its FaceDetail and the
    filter's verdict: what every face operation that filters (CompareFaces, IndexFaces, the image
    searches) does before it embeds; the first with no reasons is the largest face that passes."""
    size = (image.width, image.height)
    return [
        DescribedFace(detection, detail, quality_filter_reasons(detail, quality_filter, size))
        for detection, detail in zip(detections, face_details(image, detections, attributes), strict=True)
    ]
