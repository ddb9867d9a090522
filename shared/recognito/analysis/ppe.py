"""DetectProtectiveEquipment: people, their body parts and the covers they wear, with a summary.

What Rekognition documents, and how it is done here:

* Up to 15 persons, each with an ``Id`` (unique within the call: their index, highest confidence
  first), a ``BoundingBox``, a ``Confidence`` and ``BodyParts``: FACE, HEAD, LEFT_HAND and
  RIGHT_HAND (the person's own left and right), each only when it is seen. A body part carries
  ``EquipmentDetections``: FACE_COVER on the face, HEAD_COVER on the head, HAND_COVER on a hand,
  each with the equipment's own ``BoundingBox``, a ``Confidence`` and ``CoversBodyPart``.
* Only predictions with a confidence of at least 50 are returned ("DetectProtectiveEquipment
  returns predictions only where the detection confidence is between 50% - 100%").
* ``SummarizationAttributes`` (``MinConfidence``, below 50 counts as 50; ``RequiredEquipmentTypes``)
  adds ``Summary``. A person is *with* the required equipment when, for every required type,
  each body part it goes on (FACE, HEAD, both hands) is seen with at least ``MinConfidence`` and
  carries that type with detection and coverage confidences of at least ``MinConfidence``;
  *without* when some such body part is seen with enough confidence and lacks the type; and
  *indeterminate* otherwise: the person's own confidence is below ``MinConfidence``, or a body part
  the decision needs is not seen well enough.
* ``ProtectiveEquipmentModelVersion`` is "1.0", the version Rekognition reports.
* Image limits: 4 MB of bytes, 64 to 4096 px a side (``recognito.images.limits_for``).

Confidences: a person's is MoveNet's box score and a body part's its keypoints' mean score, both
rescaled so the detection threshold reads 50 (they rank, they are not calibrated probabilities);
an equipment's is its classifier's probability x 100, a glove's also scaled down when the wrist is
barely seen. An equipment's ``BoundingBox`` and ``CoversBodyPart`` are not derived from that
confidence: the cover is found in the image (a region of its colour grown from where it must pass)
and its box is that region's; whether it covers the part is judged from where it lies: a mask
over the nose and mouth, a helmet over the crown, a glove over the hand's skin. The measurements
themselves are ``recognito_inference.ppe``; how reliable each is, layers/inference/build/README.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from recognito_inference.pose import MIN_BOX_SCORE
from recognito_inference.ppe import (
    FACE,
    FACE_COVER,
    HAND_COVER,
    HEAD,
    HEAD_COVER,
    LEFT_HAND,
    MIN_POINT_SCORE,
    RIGHT_HAND,
    BodyPart,
    analyze,
)

from recognito.boxes import bounding_box
from recognito.images import limits_for, load_image

MODEL_VERSION = "1.0"
MAX_PERSONS = 15
MIN_REPORTED = 50.0
PART_ORDER = (FACE, HEAD, LEFT_HAND, RIGHT_HAND)
PARTS_FOR = {FACE_COVER: (FACE,), HEAD_COVER: (HEAD,), HAND_COVER: (LEFT_HAND, RIGHT_HAND)}
# Scores at which a person / a body part reads 100 (their thresholds read 50).
PERSON_FULL_SCORE = 0.6
PART_FULL_SCORE = 0.8


def _rescaled(score: float, floor: float, full: float) -> float:
    return float(np.clip(50.0 + 50.0 * (score - floor) / (full - floor), 0.0, 100.0))


def _body_part(part: BodyPart, width: int, height: int) -> dict[str, Any]:
    detections = []
    for item in part.equipment:
        confidence = 100.0 * item.score
        if confidence < MIN_REPORTED:
            continue
        detections.append(
            {
                "BoundingBox": bounding_box(item.box, width, height),
                "Confidence": confidence,
                "Type": item.type,
                # Confidence is in the Value given, as at AWS: a mask judged off the nose at
                # 0.1 is "false" with 90.
                "CoversBodyPart": {
                    "Confidence": 100.0 * max(item.covers, 1.0 - item.covers),
                    "Value": item.covers >= 0.5,
                },
            }
        )
    return {
        "Name": part.name,
        "Confidence": _rescaled(part.score, MIN_POINT_SCORE, PART_FULL_SCORE),
        "EquipmentDetections": detections,
    }


def _verdict(person: dict[str, Any], required: list[str], min_confidence: float) -> str:
    """ "with", "without" or "indeterminate" for one response person (see the module doc)."""
    if person["Confidence"] < min_confidence:
        return "indeterminate"
    parts = {p["Name"]: p for p in person["BodyParts"]}
    unseen = False
    for kind in required:
        for name in PARTS_FOR[kind]:
            part = parts.get(name)
            if part is None or part["Confidence"] < min_confidence:
                unseen = True
                continue
            worn = any(
                d["Type"] == kind
                and d["Confidence"] >= min_confidence
                and d["CoversBodyPart"]["Value"]
                and d["CoversBodyPart"]["Confidence"] >= min_confidence
                for d in part["EquipmentDetections"]
            )
            if not worn:
                return "without"
    return "indeterminate" if unseen else "with"


def summarize(persons: list[dict[str, Any]], attributes: dict[str, Any]) -> dict[str, list[int]]:
    """The ``Summary`` of response persons for ``SummarizationAttributes``."""
    min_confidence = max(float(attributes["MinConfidence"]), MIN_REPORTED)
    required = list(dict.fromkeys(attributes["RequiredEquipmentTypes"]))
    groups: dict[str, list[int]] = {"with": [], "without": [], "indeterminate": []}
    for person in persons:
        groups[_verdict(person, required, min_confidence)].append(person["Id"])
    return {
        "PersonsWithRequiredEquipment": groups["with"],
        "PersonsWithoutRequiredEquipment": groups["without"],
        "PersonsIndeterminate": groups["indeterminate"],
    }


def detect_protective_equipment(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectProtectiveEquipment response for a validated request."""
    image = load_image(request["Image"], limits_for("DetectProtectiveEquipment"))
    width, height = image.width, image.height
    persons = []
    for found in analyze(image.rgb, max_people=MAX_PERSONS):
        confidence = _rescaled(found.person.score, MIN_BOX_SCORE, PERSON_FULL_SCORE)
        if confidence < MIN_REPORTED:
            continue
        parts = [_body_part(found.parts[name], width, height) for name in PART_ORDER if name in found.parts]
        persons.append(
            {
                "BodyParts": [p for p in parts if p["Confidence"] >= MIN_REPORTED],
                "BoundingBox": bounding_box(found.person.box, width, height),
                "Confidence": confidence,
                "Id": len(persons),
            }
        )
    result: dict[str, Any] = {"ProtectiveEquipmentModelVersion": MODEL_VERSION, "Persons": persons}
    attributes = request.get("SummarizationAttributes")
    if attributes is not None:
        result["Summary"] = summarize(persons, attributes)
    return result
