"""Searching a collection: faces by face, users by face or user.

Searches never scan DynamoDB: each warm function keeps the collection's index in memory
(``recognito.search``) and catches up on the changes since its last look (``DynamoFaceFeed``),
so a face indexed by one call is found by the next, in any function. Match metadata for the few
faces returned is read with one BatchGetItem. A collection's index, thresholds and Similarity are
those of its own face model version (``recognito.faces.similarity.face_model``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from recognito.collections.faces import face_description, live_faces
from recognito.collections.service import get_collection
from recognito.collections.store import DynamoFaceFeed
from recognito.collections.users import require_user, user_status
from recognito.errors import InvalidParameterException
from recognito.faces.similarity import cosine_for_similarity, face_model, similarity_percent
from recognito.search.cache import IndexCache
from recognito.search.index import FaceIndex
from recognito.search.snapshot import S3SnapshotStore, SnapshotStore
from recognito.settings import settings
from recognito.storage import CollectionRecord, UserRecord

DEFAULT_MAX_FACES = 80
DEFAULT_FACE_MATCH_THRESHOLD = 80.0
DEFAULT_MAX_USERS = 100
DEFAULT_USER_MATCH_THRESHOLD = 80.0
# A user is found through its faces: look this far past MaxUsers so that users with several
# matching faces cannot crowd the others out.
_FACES_PER_USER_SEARCHED = 8


@cache
def snapshot_store() -> SnapshotStore | None:
    """The S3 store of index snapshots (``RECOGNITO_INDEX_BUCKET``), or None without one."""
    bucket = settings().index_bucket
    return S3SnapshotStore(bucket, prefix="indexes/") if bucket else None


_indexes = IndexCache()
_feed = DynamoFaceFeed()


def collection_index(collection: CollectionRecord) -> FaceIndex:
    """The collection's search index (of its face model version's size), up to date with every
    committed write."""
    dim = face_model(collection.face_model_version).dim
    return _indexes.get(collection.collection_id, _feed, snapshot_store(), dim)


def face_matches(
    collection: CollectionRecord,
    query: np.ndarray,
    max_faces: int,
    threshold: float,
    exclude: str | None = None,
    index: FaceIndex | None = None,
) -> list[dict[str, Any]]:
    """``FaceMatches``: the collection's faces at or above ``threshold`` Similarity, best first;
    ``index`` when the caller already holds the collection's (a run of video frames searched together)."""
    index = index or collection_index(collection)
    version = collection.face_model_version
    wanted = max_faces + (1 if exclude else 0)
    hits = index.search(query, wanted, cosine_for_similarity(threshold, version))
    hits = [(face_id, cosine) for face_id, cosine in hits if face_id != exclude][:max_faces]
    records = live_faces(collection.collection_id, [face_id for face_id, _ in hits])
    return [
        {"Similarity": float(similarity_percent(cosine, version)), "Face": face_description(records[face_id])}
        for face_id, cosine in hits
        if face_id in records  # deleted between the index's read and this one
    ]


def requested_face_matches(
    request: dict[str, Any],
    collection: CollectionRecord,
    query: np.ndarray,
    exclude: str | None = None,
    index: FaceIndex | None = None,
) -> list[dict[str, Any]]:
    """``face_matches`` with the request's ``MaxFaces`` and ``FaceMatchThreshold`` (or AWS's defaults)."""
    return face_matches(
        collection,
        query,
        request.get("MaxFaces", DEFAULT_MAX_FACES),
        request.get("FaceMatchThreshold", DEFAULT_FACE_MATCH_THRESHOLD),
        exclude=exclude,
        index=index,
    )


def _indexed_embedding(index: FaceIndex, face_id: str) -> np.ndarray:
    if face_id not in index:
        raise InvalidParameterException("faceId was not found in the collection.")
    return index.embedding(face_id)


def search_faces(request: dict[str, Any]) -> dict[str, Any]:
    collection = get_collection(request["CollectionId"])
    face_id = request["FaceId"]
    query = _indexed_embedding(collection_index(collection), face_id)
    matches = requested_face_matches(request, collection, query, exclude=face_id)
    return {"SearchedFaceId": face_id, "FaceMatches": matches, "FaceModelVersion": collection.face_model_version}


def user_matches(
    collection: CollectionRecord,
    queries: np.ndarray,
    max_users: int,
    threshold: float,
    exclude_user: str | None = None,
) -> list[dict[str, Any]]:
    """``UserMatches``: users whose faces resemble any of ``queries``, by their best face, best first."""
    index = collection_index(collection)
    version = collection.face_model_version
    floor = cosine_for_similarity(threshold, version)
    best: dict[str, float] = {}
    for query in np.atleast_2d(queries):
        for face_id, cosine in index.search(query, max_users * _FACES_PER_USER_SEARCHED, floor):
            user_id = index.user_of(face_id) if face_id in index else None
            if user_id and user_id != exclude_user and cosine > best.get(user_id, -1.0):
                best[user_id] = cosine
    ranked = sorted(best.items(), key=lambda item: -item[1])[:max_users]
    keys = [(collection.collection_id, user_id) for user_id, _ in ranked]
    users = {user.user_id: user for user in UserRecord.batch_get(keys)}
    return [
        {
            "Similarity": float(similarity_percent(cosine, version)),
            "User": {"UserId": user_id, "UserStatus": user_status(users[user_id])},
        }
        for user_id, cosine in ranked
        if user_id in users
    ]


def requested_user_matches(
    request: dict[str, Any], collection: CollectionRecord, queries: np.ndarray, exclude_user: str | None = None
) -> list[dict[str, Any]]:
    """``user_matches`` with the request's ``MaxUsers`` and ``UserMatchThreshold`` (or AWS's defaults)."""
    return user_matches(
        collection,
        queries,
        request.get("MaxUsers", DEFAULT_MAX_USERS),
        request.get("UserMatchThreshold", DEFAULT_USER_MATCH_THRESHOLD),
        exclude_user=exclude_user,
    )


def search_users(request: dict[str, Any]) -> dict[str, Any]:
    """Users resembling a face of the collection (``FaceId``) or another user (``UserId``)."""
    collection = get_collection(request["CollectionId"])
    collection_id = collection.collection_id
    if bool(request.get("FaceId")) == bool(request.get("UserId")):
        raise InvalidParameterException("Provide exactly one of FaceId and UserId")
    index = collection_index(collection)
    result: dict[str, Any] = {"FaceModelVersion": collection.face_model_version}
    if request.get("FaceId"):
        queries, exclude = _indexed_embedding(index, request["FaceId"]), None
        result["SearchedFace"] = {"FaceId": request["FaceId"]}
    else:
        user = require_user(collection_id, request["UserId"])
        face_ids = [face_id for face_id in sorted(user.face_ids) if face_id in index]
        if not face_ids:
            raise InvalidParameterException(f"User {user.user_id} has no faces to search with")
        queries, exclude = np.stack([index.embedding(face_id) for face_id in face_ids]), user.user_id
        result["SearchedUser"] = {"UserId": user.user_id}
    result["UserMatches"] = requested_user_matches(request, collection, queries, exclude_user=exclude)
    return result
