"""Users: named groups of up to 100 faces of one person, searched as one identity."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recognito.collections.faces import live_faces
from recognito.collections.service import get_collection
from recognito.collections.store import Plan, Read, chunks, commit, decode_embedding, prefetched
from recognito.errors import ConflictException, ResourceNotFoundException, ServiceQuotaExceededException
from recognito.faces.similarity import face_model, similarity_percent
from recognito.idempotency import by_client_request_token
from recognito.pagination import decode_token, encode_token
from recognito.storage import CollectionRecord, FaceRecord, UserRecord

MAX_FACES_PER_USER = 100
DEFAULT_USER_MATCH_THRESHOLD = 75.0
DEFAULT_PAGE_SIZE = 500


def _user(collection_id: str, user_id: str) -> UserRecord | None:
    read, user = prefetched(UserRecord, collection_id, user_id)
    if read:
        return user
    try:
        return UserRecord.get(collection_id, user_id, consistent_read=True)
    except UserRecord.DoesNotExist:
        return None


def require_user(collection_id: str, user_id: str) -> UserRecord:
    user = _user(collection_id, user_id)
    if user is None:
        raise ResourceNotFoundException(f"The user id: {user_id} does not exist in collection {collection_id}")
    return user


def user_status(user: UserRecord) -> str:
    return "ACTIVE" if user.face_ids else "CREATED"


@by_client_request_token("CreateUser")
def create_user(request: dict[str, Any]) -> dict[str, Any]:
    collection_id, user_id = request["CollectionId"], request["UserId"]

    def plan(_: Any) -> Plan:
        if _user(collection_id, user_id) is not None:
            raise ConflictException(f"The user id: {user_id} already exists in collection {collection_id}")
        record = UserRecord(collection_id, user_id, created=datetime.now(UTC))
        return Plan(
            user_delta=1,
            writes=[lambda tx, _: tx.save(record, condition=UserRecord.user_id.does_not_exist())],
            keys=_user_key(user_id),
        )

    commit(collection_id, plan, reads=_reads(user_id))
    return {}


@by_client_request_token("DeleteUser")
def delete_user(request: dict[str, Any]) -> dict[str, Any]:
    """Deletes the user; its faces stay in the collection, no longer associated with anyone."""
    collection_id, user_id = request["CollectionId"], request["UserId"]
    user = require_user(collection_id, user_id)
    # A user's faces are let go first, a transaction at a time, so the last one stays small.
    for face_ids in chunks(sorted(user.face_ids)):
        _disassociate(collection_id, user_id, face_ids)

    def plan(_: Any) -> Plan:
        current = require_user(collection_id, user_id)
        if current.face_ids:
            raise ConflictException(f"The user {user_id} is being updated; retry the request")
        return Plan(
            user_delta=-1,
            writes=[lambda tx, _: tx.delete(current, condition=UserRecord.face_ids.does_not_exist())],
            keys=_user_key(user_id),
        )

    commit(collection_id, plan, reads=_reads(user_id))
    return {}


def list_users(request: dict[str, Any]) -> dict[str, Any]:
    collection_id = request["CollectionId"]
    get_collection(collection_id)
    scope = f"ListUsers:{collection_id}"
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    start = decode_token(scope, request["NextToken"]) if request.get("NextToken") else None
    page = UserRecord.query(collection_id, limit=page_size, last_evaluated_key=start, page_size=page_size)
    users = [{"UserId": user.user_id, "UserStatus": user_status(user)} for user in page]
    result: dict[str, Any] = {"Users": users}
    if page.last_evaluated_key and len(users) == page_size:
        result["NextToken"] = encode_token(scope, page.last_evaluated_key)
    return result


@by_client_request_token("AssociateFaces")
def associate_faces(request: dict[str, Any]) -> dict[str, Any]:
    """Adds faces to a user. Once a user has faces, a new face must resemble them
    (``UserMatchThreshold``, default 75) or it is refused with LOW_MATCH_CONFIDENCE."""
    collection_id, user_id = request["CollectionId"], request["UserId"]
    threshold = request.get("UserMatchThreshold", DEFAULT_USER_MATCH_THRESHOLD)
    result: dict[str, Any] = {"AssociatedFaces": [], "UnsuccessfulFaceAssociations": []}
    for wanted in chunks(list(dict.fromkeys(request["FaceIds"]))):
        associated, refused, status = commit(
            collection_id,
            lambda collection, wanted=wanted: _plan_association(collection, user_id, wanted, threshold),
            reads=_reads(user_id, wanted),
        )
        result["AssociatedFaces"] += associated
        result["UnsuccessfulFaceAssociations"] += refused
        result["UserStatus"] = status
    return result


def _plan_association(collection: CollectionRecord, user_id: str, wanted: list[str], threshold: float) -> Plan:
    collection_id, version = collection.collection_id, collection.face_model_version
    user = require_user(collection_id, user_id)
    faces = live_faces(collection_id, wanted)
    known = _vectors(live_faces(collection_id, sorted(user.face_ids)).values(), face_model(version).dim)
    if len(user.face_ids) >= MAX_FACES_PER_USER:
        raise ServiceQuotaExceededException(
            f"User {user_id} already has {MAX_FACES_PER_USER} faces, the most a user can have"
        )
    room = MAX_FACES_PER_USER - len(user.face_ids)
    associated, refused, to_write = [], [], []
    for face_id in wanted:
        face = faces.get(face_id)
        if face is None:
            refused.append(_refusal(face_id, user_id, "FACE_NOT_FOUND"))
        elif face.user_id == user_id:
            continue  # "already associated with the given UserID: ignored and not returned"
        elif face.user_id:
            refused.append(_refusal(face_id, user_id, "ASSOCIATED_TO_A_DIFFERENT_USER"))
        elif (confidence := _resemblance(face, known, version)) is not None and confidence < threshold:
            refused.append(_refusal(face_id, user_id, "LOW_MATCH_CONFIDENCE", confidence))
        elif len(to_write) >= room:
            # Past a user's 100 faces AWS returns the face as unsuccessful; no reason in its enum fits.
            refused.append({"FaceId": face_id, "UserId": user_id, "Reasons": []})
        else:
            associated.append({"FaceId": face_id})
            to_write.append(face)
    if not to_write:
        return Plan(result=(associated, refused, user_status(user)))
    new_ids = {face.face_id for face in to_write}
    return Plan(
        sequence_numbers=len(to_write),
        writes=[
            *[_set_user(face, user_id) for face in to_write],
            lambda tx, _: tx.update(
                user, actions=[UserRecord.face_ids.add(new_ids)], condition=UserRecord.user_id.exists()
            ),
        ],
        result=(associated, refused, "ACTIVE"),
        keys=_user_key(user_id, [*wanted, *user.face_ids]),
    )


@by_client_request_token("DisassociateFaces")
def disassociate_faces(request: dict[str, Any]) -> dict[str, Any]:
    collection_id, user_id = request["CollectionId"], request["UserId"]
    return _disassociate(collection_id, user_id, list(dict.fromkeys(request["FaceIds"])))


def _disassociate(collection_id: str, user_id: str, wanted: list[str]) -> dict[str, Any]:
    def plan(_: Any) -> Plan:
        user = require_user(collection_id, user_id)
        faces = live_faces(collection_id, wanted)
        released, refused, to_write = [], [], []
        for face_id in wanted:
            face = faces.get(face_id)
            if face is None:
                refused.append(_refusal(face_id, user_id, "FACE_NOT_FOUND"))
            elif face.user_id not in (None, user_id):
                refused.append(_refusal(face_id, user_id, "ASSOCIATED_TO_A_DIFFERENT_USER"))
            else:
                released.append({"FaceId": face_id})
                if face.user_id == user_id:
                    to_write.append(face)
        remaining = set(user.face_ids) - {face.face_id for face in to_write}
        result = {
            "DisassociatedFaces": released,
            "UnsuccessfulFaceDisassociations": refused,
            "UserStatus": "ACTIVE" if remaining else "CREATED",
        }
        if not to_write:
            return Plan(result=result)
        return Plan(
            sequence_numbers=len(to_write),
            writes=[
                *[_set_user(face, None) for face in to_write],
                lambda tx, _: tx.update(
                    user,
                    actions=[UserRecord.face_ids.delete({face.face_id for face in to_write})],
                    condition=UserRecord.user_id.exists(),
                ),
            ],
            result=result,
            keys=_user_key(user_id, wanted),
        )

    return commit(collection_id, plan, reads=_reads(user_id, wanted))


def _user_key(user_id: str, face_ids: Iterable[str] = ()) -> frozenset[tuple[str, str]]:
    """``Plan.keys`` of a plan that reads and writes a user and some faces."""
    return frozenset([("user", user_id), *(("face", face_id) for face_id in face_ids)])


def _reads(user_id: str, face_ids: Iterable[str] = ()) -> list[Read]:
    """What a plan for a user reads first (``commit``'s ``reads``): the user, the faces asked for."""
    return [(UserRecord, user_id), *((FaceRecord, face_id) for face_id in face_ids)]


def _set_user(face: FaceRecord, user_id: str | None):
    def write(tx: Any, numbers: Any) -> None:
        user_action = FaceRecord.user_id.set(user_id) if user_id else FaceRecord.user_id.remove()
        tx.update(face, actions=[user_action, FaceRecord.seq.set(next(numbers))], condition=FaceRecord.deleted == False)  # noqa: E712

    return write


def _vectors(faces: Iterable[FaceRecord], dim: int) -> np.ndarray:
    return np.array([decode_embedding(face.embedding) for face in faces], dtype=np.float32).reshape(-1, dim)


def _resemblance(face: FaceRecord, known: np.ndarray, version: str) -> float | None:
    """How much a face looks like a user's faces (0-100, the best match, on the collection's face
    model version's scale), or None while the user has none."""
    if len(known) == 0:
        return None
    return float(similarity_percent(known @ decode_embedding(face.embedding), version).max())


def _refusal(face_id: str, user_id: str, reason: str, confidence: float | None = None) -> dict[str, Any]:
    refusal: dict[str, Any] = {"FaceId": face_id, "UserId": user_id, "Reasons": [reason]}
    if confidence is not None:
        refusal["Confidence"] = confidence
    return refusal
