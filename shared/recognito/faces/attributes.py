"""FaceDetail attributes beyond DEFAULT, from what ``recognito_inference.face_attributes`` measured.

Where each value comes from (the models and measurements are described there):

| attribute | source | Value / Confidence |
| --- | --- | --- |
| AgeRange | face-api AgeGenderNet's age | the estimate -/+ max(3, 15% of it) years |
| Gender | face-api AgeGenderNet's P(male) | the likelier; its probability |
| Emotions | oarriaga's FER2013 classifier | every class it has, Rekognition's names (no CONFUSED, UNKNOWN) |
| Smile | the same model's HAPPY probability | smiling when >= 0.5; the probability of the answer |
| EyesOpen | eyelid gap / eye width (MediaPipe Iris contours) | logistic around EYES_OPEN_AT |
| MouthOpen | inner-lip gap / mouth width (FaceMesh) | logistic fitted on faces labelled by eye |
| EyeDirection | iris centre between the eye corners | yaw, pitch; confidence falls as the eyes close |
| Eyeglasses, Beard, Mustache | logistic regressions on mesh-region brightness | their probability |
| Sunglasses | eye regions much darker than the skin and flat | hand-set logistic (SUNGLASSES_*) |
| FaceOccluded | face-mask classifier, mesh face score, mesh outside the image | fitted logistic (OCCLUDED_MODEL) |
| Landmarks (ALL) | FaceMesh points and MediaPipe Iris pupils | all 30 types |

Confidences are the models' probabilities, or for the geometric measurements a logistic whose
midpoint and slope were set on the labelled faces we have (tests and bench).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from recognito_inference.face_attributes import (
    EMOTIONS,
    TRAIT_FEATURES,
    TRAIT_MODELS,
    FaceAnalysis,
    eye_direction,
    eye_openness,
    mouth_openness,
)

# Rekognition's request values, and the FaceDetail keys they add, in the response's key order.
ATTRIBUTE_KEYS = {
    "AGE_RANGE": "AgeRange",
    "SMILE": "Smile",
    "EYEGLASSES": "Eyeglasses",
    "SUNGLASSES": "Sunglasses",
    "GENDER": "Gender",
    "BEARD": "Beard",
    "MUSTACHE": "Mustache",
    "EYES_OPEN": "EyesOpen",
    "MOUTH_OPEN": "MouthOpen",
    "EMOTIONS": "Emotions",
    "EYE_DIRECTION": "EyeDirection",
    "FACE_OCCLUDED": "FaceOccluded",
}
BEFORE_LANDMARKS = [
    "AgeRange", "Smile", "Eyeglasses", "Sunglasses", "Gender", "Beard", "Mustache", "EyesOpen", "MouthOpen", "Emotions",
]  # fmt: skip
AFTER_CONFIDENCE = ["FaceOccluded", "EyeDirection"]

# What each attribute needs run (face_attributes.analyze's steps).
NEEDS: dict[str, set[str]] = {
    "AGE_RANGE": {"age_gender"},
    "GENDER": {"age_gender"},
    "EMOTIONS": {"emotion"},
    "SMILE": {"emotion"},
    "EYES_OPEN": {"iris"},
    "EYE_DIRECTION": {"iris"},
    "MOUTH_OPEN": {"mesh"},
    "EYEGLASSES": {"traits"},
    "SUNGLASSES": {"traits"},
    "BEARD": {"traits"},
    "MUSTACHE": {"traits"},
    "FACE_OCCLUDED": {"occlusion"},
}

EMOTION_TYPES = {
    "angry": "ANGRY",
    "disgust": "DISGUSTED",
    "fear": "FEAR",
    "happy": "HAPPY",
    "sad": "SAD",
    "surprise": "SURPRISED",
    "neutral": "CALM",
}

# Eyelid gap / eye width: closed and nearly closed eyes in our photos read <= 0.08, open ones
# >= 0.14 (tests/test_face_attributes.py, bench/face_attributes.py).
EYES_OPEN_AT, EYES_OPEN_SCALE = 0.11, 0.015
# Inner-lip gap / mouth width: closed lips ~0-0.1, talking or laughing mouths 0.3-0.45; lips
# parted over the teeth in a broad smile fall between, and count as open (as labelled by eye).
# A logistic fitted by bench/face_attribute_heads.py on the 145 faces of ../shared/datasets/faces
# in bench/data/face_attributes_by_eye.csv whose mouth we could call (leave-one-person-out
# accuracy 0.834; the previous hand-set 0.2, 0.04 read 0.636 on all 173 labelled faces).
MOUTH_OPEN_AT, MOUTH_OPEN_SCALE = 0.1014, 0.0369
# Sunglasses: eye regions darker than the skin (eye_dark over SUNGLASSES_DARK, in units of the
# face's contrast) and next to textureless (eye_flat under SUNGLASSES_FLAT). Bare eyes in our 28
# real faces read eye_flat 0.24-2.9 (eye_dark 0.3-3.6, so darkness alone cannot tell); black
# lenses painted over their eyes read eye_flat 0-0.08 and eye_dark 2.1-5. No photograph of real
# sunglasses was at hand: hand-set between those, not fitted, and real lenses with reflections
# read less flat than paint.
SUNGLASSES_DARK, SUNGLASSES_DARK_SCALE = 1.5, 0.25
SUNGLASSES_FLAT, SUNGLASSES_FLAT_SCALE = 0.15, 0.04
# FaceOccluded: a logistic regression on occlusion_features (bias, weights in OCCLUSION_FEATURES
# order), fitted by bench/face_occlusion.py (which prints these numbers again) on the 145 faces of
# ../shared/datasets/faces labelled by eye and 407 occluded copies of them (a real playing card
# pasted over the eyes, nose and mouth or one side; a painted surgical mask; the photo cropped
# through the face). Leave-one-person-out: 0.966 (533/552); clear faces 143/144 right, cards
# 103/120, masks 144/144, cut faces 143/143; the package photos' 28 faces (2 really occluded, a hand
# at the mouth and hair over an eye), held out, 28/28.
OCCLUSION_FEATURES = ("mask_logit", "mesh_logit", "outside_share")
OCCLUDED_MODEL: tuple[float, tuple[float, ...]] = (11.044, (0.860, -0.747, 35.917))

# The 30 landmark types and their FaceMesh points (image-left is the subject's right); the eye
# centres are their corners' midpoints, the pupils MediaPipe Iris' centres.
MESH_LANDMARKS = {
    "mouthLeft": 61,
    "mouthRight": 291,
    "nose": 1,
    "leftEyeBrowLeft": 70,
    "leftEyeBrowRight": 107,
    "leftEyeBrowUp": 105,
    "rightEyeBrowLeft": 336,
    "rightEyeBrowRight": 300,
    "rightEyeBrowUp": 334,
    "leftEyeLeft": 33,
    "leftEyeRight": 133,
    "leftEyeUp": 159,
    "leftEyeDown": 145,
    "rightEyeLeft": 362,
    "rightEyeRight": 263,
    "rightEyeUp": 386,
    "rightEyeDown": 374,
    "noseLeft": 98,
    "noseRight": 327,
    "mouthUp": 0,
    "mouthDown": 17,
    "upperJawlineLeft": 234,
    "midJawlineLeft": 172,
    "chinBottom": 152,
    "midJawlineRight": 397,
    "upperJawlineRight": 454,
}
LANDMARK_ORDER = [
    "eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose",
    "leftEyeBrowLeft", "leftEyeBrowRight", "leftEyeBrowUp", "rightEyeBrowLeft", "rightEyeBrowRight", "rightEyeBrowUp",
    "leftEyeLeft", "leftEyeRight", "leftEyeUp", "leftEyeDown", "rightEyeLeft", "rightEyeRight", "rightEyeUp",
    "rightEyeDown", "noseLeft", "noseRight", "mouthUp", "mouthDown", "leftPupil", "rightPupil",
    "upperJawlineLeft", "midJawlineLeft", "chinBottom", "midJawlineRight", "upperJawlineRight",
]  # fmt: skip


def requested_attributes(attributes: Sequence[str]) -> set[str]:
    """The non-DEFAULT attributes a request's ``Attributes`` list asks for (ALL: every one we return)."""
    names = {str(a) for a in attributes}
    if "ALL" in names:
        return set(ATTRIBUTE_KEYS)
    return names & set(ATTRIBUTE_KEYS)


def full_landmarks(mesh: np.ndarray, irises: np.ndarray | None) -> dict[str, np.ndarray]:
    """Every landmark type, in Rekognition's order, as (n, 2) image pixels."""
    points = {name: mesh[:, index, :2] for name, index in MESH_LANDMARKS.items()}
    points["eyeLeft"] = (mesh[:, 33, :2] + mesh[:, 133, :2]) / 2
    points["eyeRight"] = (mesh[:, 362, :2] + mesh[:, 263, :2]) / 2
    # Without the iris model, the mesh's eye-contour centre stands in for the pupil.
    points["leftPupil"] = irises[:, 0, 0] if irises is not None else points["eyeLeft"]
    points["rightPupil"] = irises[:, 1, 0] if irises is not None else points["eyeRight"]
    return {name: points[name] for name in LANDMARK_ORDER}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def _yes_no(p: float) -> dict[str, Any]:
    """Rekognition's {Value, Confidence} for a probability that the attribute is present."""
    return {"Value": bool(p >= 0.5), "Confidence": float(100.0 * max(p, 1.0 - p))}


def sunglasses_score(features: np.ndarray) -> np.ndarray:
    """(n,) the sunglasses logit of trait_features: eye regions dark AND flat (the lesser of both)."""
    column = {name: features[:, j] for j, name in enumerate(TRAIT_FEATURES)}
    dark = (column["eye_dark"] - SUNGLASSES_DARK) / SUNGLASSES_DARK_SCALE
    flat = (SUNGLASSES_FLAT - column["eye_flat"]) / SUNGLASSES_FLAT_SCALE
    return np.minimum(dark, flat)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def occlusion_features(analysis: FaceAnalysis) -> np.ndarray:
    """(n, len(OCCLUSION_FEATURES)) FaceOccluded's signals, as logits: the mask classifier's P(face
    cover), the face mesh's P(face) (it drops when part of the face is hidden) and the share of the
    mesh outside the image (a face the frame cuts is "partially captured")."""
    return np.stack([_logit(analysis.extra["mask"]), _logit(analysis.mesh_score), analysis.extra["outside"]], axis=1)


def occlusion_probability(features: np.ndarray) -> np.ndarray:
    """(n,) P(occluded) of occlusion_features, by the head OCCLUDED_MODEL."""
    bias, weights = OCCLUDED_MODEL
    return _sigmoid(bias + features @ np.asarray(weights))


def trait_probabilities(features: np.ndarray) -> dict[str, np.ndarray]:
    """P(eyeglasses), P(sunglasses), P(beard), P(mustache) per face from trait_features."""
    column = {name: features[:, j] for j, name in enumerate(TRAIT_FEATURES)}
    probs = {}
    for name, (bias, weights) in TRAIT_MODELS.items():
        probs[name] = _sigmoid(bias + sum(w * column[f] for f, w in weights.items()))
    probs["sunglasses"] = _sigmoid(sunglasses_score(features))
    # Sunglasses are eyeglasses too (as at AWS).
    probs["eyeglasses"] = np.maximum(probs["eyeglasses"], probs["sunglasses"])
    return probs


def face_attribute_values(analysis: FaceAnalysis, wanted: set[str]) -> list[dict[str, Any]]:
    """Per face, the FaceDetail entries (``AgeRange``, ``Smile``, ...) of the ``wanted`` attributes."""
    n = len(next(v for v in (analysis.mesh, analysis.ages) if v is not None))
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    if analysis.ages is not None:
        spread = np.maximum(3.0, 0.15 * analysis.ages)
        low = np.clip(np.floor(analysis.ages - spread), 0, None).astype(int)
        high = np.ceil(analysis.ages + spread).astype(int)
        for i in range(n):
            if "AGE_RANGE" in wanted:
                out[i]["AgeRange"] = {"Low": int(low[i]), "High": int(high[i])}
            if "GENDER" in wanted:
                male = float(analysis.male[i])
                out[i]["Gender"] = {
                    "Value": "Male" if male >= 0.5 else "Female",
                    "Confidence": 100.0 * max(male, 1.0 - male),
                }
    if analysis.emotions is not None:
        order = np.argsort(-analysis.emotions, axis=1, kind="stable")
        happy = analysis.emotions[:, EMOTIONS.index("happy")]
        for i in range(n):
            if "EMOTIONS" in wanted:
                out[i]["Emotions"] = [
                    {"Type": EMOTION_TYPES[EMOTIONS[k]], "Confidence": float(100.0 * analysis.emotions[i, k])}
                    for k in order[i]
                ]
            if "SMILE" in wanted:
                out[i]["Smile"] = _yes_no(float(happy[i]))
    if "MOUTH_OPEN" in wanted:
        p_mouth = _sigmoid((mouth_openness(analysis.mesh) - MOUTH_OPEN_AT) / MOUTH_OPEN_SCALE)
        for i in range(n):
            out[i]["MouthOpen"] = _yes_no(float(p_mouth[i]))
    if analysis.eye_contours is not None:
        p_open = _sigmoid((eye_openness(analysis.eye_contours).mean(axis=1) - EYES_OPEN_AT) / EYES_OPEN_SCALE)
        gaze = eye_direction(analysis.eye_contours, analysis.irises)
        for i in range(n):
            if "EYES_OPEN" in wanted:
                out[i]["EyesOpen"] = _yes_no(float(p_open[i]))
            if "EYE_DIRECTION" in wanted:
                # A gaze read off closed eyes means little: the confidence follows the eyes' openness
                # and the mesh's own confidence that this is a face.
                confidence = 100.0 * float(p_open[i]) * float(analysis.mesh_score[i])
                out[i]["EyeDirection"] = {
                    "Yaw": float(gaze[i, 0]),
                    "Pitch": float(gaze[i, 1]),
                    "Confidence": confidence,
                }
    if "traits" in analysis.extra:
        probs = trait_probabilities(analysis.extra["traits"])
        for key in ("EYEGLASSES", "SUNGLASSES", "BEARD", "MUSTACHE"):
            if key in wanted:
                for i in range(n):
                    out[i][ATTRIBUTE_KEYS[key]] = _yes_no(float(probs[key.lower()][i]))
    if "FACE_OCCLUDED" in wanted and "outside" in analysis.extra:
        p_occluded = occlusion_probability(occlusion_features(analysis))
        for i in range(n):
            out[i]["FaceOccluded"] = _yes_no(float(p_occluded[i]))
    return out
