"""RecognizeCelebrities and GetCelebrityInfo over a gallery the operator provides.

No shipped model knows who is famous, so recognito recognizes the people an operator adds
(``recognito celebrities add``): each celebrity is a user of a reserved gallery collection, with
their photographs' faces associated, and a ``CelebrityRecord`` holding name, URLs and gender. A face
in a query image is that celebrity when it matches their faces at Similarity 80 or more.

The gallery is a collection like any other, so it keeps the face model version it was created with
(a new gallery takes ``FACE_MODEL_VERSION``, "2.0"): celebrities added later and query faces are
embedded by that version, so a gallery built before the switch keeps recognizing its people.

GetCelebrityInfo only reads records, and its function takes the SharedLayer alone: the face pipeline
(inference layer) and the face search (search layer) are imported inside the functions that look
at faces, so this module imports without them (tests/test_layer_imports.py starts each function
with only its layers).
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from recognito.collections.faces import NewFace, add_faces
from recognito.collections.users import associate_faces, create_user
from recognito.errors import InvalidParameterException, ResourceNotFoundException
from recognito.faces.similarity import FACE_MODEL_VERSION, face_model
from recognito.images import limits_for, load_image
from recognito.storage import CelebrityRecord, CollectionRecord

# A collection id no API caller can create or name (':' is outside CollectionId's pattern).
GALLERY = "recognito:celebrities"
MAX_FACES = 64  # "RecognizeCelebrities returns the 64 largest faces in the image"
MATCH_THRESHOLD = 80.0
_ID_ALPHABET = string.ascii_letters + string.digits


def _ensure_gallery() -> CollectionRecord:
    """The gallery's collection, created with the current face model version if there is none."""
    try:
        CollectionRecord(GALLERY, created=datetime.now(UTC), face_model_version=FACE_MODEL_VERSION).save(
            condition=CollectionRecord.collection_id.does_not_exist()
        )
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return CollectionRecord.get(GALLERY, consistent_read=True)


def add_celebrity(name: str, photos: Sequence[bytes], urls: Sequence[str] = (), gender: str | None = None) -> str:
    """Adds a celebrity from photographs (the largest face of each); returns their Id."""
    from recognito_inference.face_detector import detect_faces

    from recognito.faces.details import face_details

    version = _ensure_gallery().face_model_version
    celebrity_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    faces = []
    for number, photo in enumerate(photos, 1):
        image = load_image({"Bytes": photo}, limits_for("RecognizeCelebrities"))
        detections = detect_faces(image.rgb, max_faces=1)
        if not detections:
            raise InvalidParameterException(f"No face found in photograph {number} of {name}")
        detail = face_details(image, detections)[0]
        embedding = face_model(version).embed(image.rgb, detections)[0]
        faces.append(NewFace(embedding, detail["BoundingBox"], detail["Confidence"]))
    described = add_faces(GALLERY, faces, version=version, image_id=str(uuid.uuid4()), external_image_id=celebrity_id)
    create_user({"CollectionId": GALLERY, "UserId": celebrity_id})
    face_ids = [face["FaceId"] for face in described]
    # The photographs are of one person by the operator's word: no resemblance threshold.
    associate_faces({"CollectionId": GALLERY, "UserId": celebrity_id, "FaceIds": face_ids, "UserMatchThreshold": 0})
    CelebrityRecord(celebrity_id, name=name, urls=list(urls), known_gender=gender, created=datetime.now(UTC)).save()
    return celebrity_id


def list_celebrities() -> list[CelebrityRecord]:
    return sorted(CelebrityRecord.scan(), key=lambda record: record.name)


def recognize_celebrities(request: dict[str, Any]) -> dict[str, Any]:
    from recognito_inference.face_detector import detect_faces

    from recognito.collections.search import user_matches
    from recognito.faces.details import face_details

    image = load_image(request["Image"], limits_for("RecognizeCelebrities"))
    detections = detect_faces(image.rgb, max_faces=MAX_FACES)
    details = face_details(image, detections)
    gallery = _gallery() if detections else None
    embeddings = face_model(gallery.face_model_version).embed(image.rgb, detections) if gallery else []
    recognized, unrecognized = [], []
    for index, detail in enumerate(details):
        best = user_matches(gallery, embeddings[index], 1, MATCH_THRESHOLD) if gallery else []
        if not best:
            unrecognized.append(detail)
            continue
        celebrity = _celebrity(best[0]["User"]["UserId"])
        recognized.append(
            {**_info(celebrity), "Id": celebrity.celebrity_id, "Face": detail, "MatchConfidence": best[0]["Similarity"]}
        )
    return {"CelebrityFaces": recognized, "UnrecognizedFaces": unrecognized}


def get_celebrity_info(request: dict[str, Any]) -> dict[str, Any]:
    return _info(_celebrity(request["Id"]))


def _gallery() -> CollectionRecord | None:
    try:
        return CollectionRecord.get(GALLERY)
    except CollectionRecord.DoesNotExist:
        return None


def _celebrity(celebrity_id: str) -> CelebrityRecord:
    # The model's pattern allows "", which DynamoDB refuses as a key: no celebrity has it.
    if celebrity_id:
        try:
            return CelebrityRecord.get(celebrity_id)
        except CelebrityRecord.DoesNotExist:
            pass
    raise ResourceNotFoundException(f"Celebrity '{celebrity_id}' was not found")


def _info(celebrity: CelebrityRecord) -> dict[str, Any]:
    info: dict[str, Any] = {"Name": celebrity.name, "Urls": list(celebrity.urls)}
    if celebrity.known_gender:
        info["KnownGender"] = {"Type": celebrity.known_gender}
    return info
