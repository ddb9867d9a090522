"""The faces of a collection: listing and deleting (indexing and search live beside, with the models)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from recognito.collections.service import get_collection
from recognito.collections.store import Plan, chunks, commit, encode_embedding, prefetched
from recognito.errors import InvalidParameterException
from recognito.pagination import decode_token, encode_token
from recognito.storage import FaceRecord

DEFAULT_PAGE_SIZE = 1000


def live_faces(collection_id: str, face_ids: list[str]) -> dict[str, FaceRecord]:
    """The faces of ``face_ids`` that exist and are not deleted, read consistently (or with the
    round being planned: ``store.prefetched``)."""
    found: dict[str, FaceRecord] = {}
    unread = []
    for face_id in face_ids:
        read, record = prefetched(FaceRecord, collection_id, face_id)
        if not read:
            unread.append(face_id)
        elif record is not None and not record.deleted:
            found[face_id] = record
    for face_ids_chunk in chunks(unread, 100):
        keys = [(collection_id, face_id) for face_id in face_ids_chunk]
        for record in FaceRecord.batch_get(keys, consistent_read=True):
            if not record.deleted:
                found[record.face_id] = record
    return found


def face_description(record: FaceRecord) -> dict[str, Any]:
    """Rekognition's ``Face``: what a collection knows of an indexed face."""
    return {
        "FaceId": record.face_id,
        "BoundingBox": record.bounding_box.as_dict() if record.bounding_box else None,
        "ImageId": record.image_id,
        "ExternalImageId": record.external_image_id,
        "Confidence": float(record.confidence) if record.confidence is not None else None,
        "IndexFacesModelVersion": record.model_version,
        "UserId": record.user_id,
    }


@dataclass(frozen=True)
class NewFace:
    """A detected, embedded face about to join a collection."""

    embedding: np.ndarray
    bounding_box: dict[str, float]
    confidence: float


def add_faces(
    collection_id: str, faces: list[NewFace], *, version: str, image_id: str, external_image_id: str | None
) -> list[dict[str, Any]]:
    """Store faces of one image, embedded by face model ``version``, with fresh FaceIds; returns
    their ``Face`` descriptions."""
    collection = get_collection(collection_id)
    if collection.face_model_version != version:  # re-created with another model since it was read
        raise InvalidParameterException(
            f"Collection {collection_id} holds {collection.face_model_version} faces, not {version}; retry the request"
        )
    records = [
        FaceRecord(
            collection_id,
            str(uuid.uuid4()),
            image_id=image_id,
            external_image_id=external_image_id,
            bounding_box=face.bounding_box,
            confidence=face.confidence,
            model_version=version,
            embedding=encode_embedding(face.embedding),
            seq=0,
        )
        for face in faces
    ]
    for batch in chunks(records):

        def plan(_: Any, batch: list[FaceRecord] = batch) -> Plan:
            def put(record: FaceRecord):
                def write(tx: Any, numbers: Any) -> None:
                    record.seq = next(numbers)
                    tx.save(record, condition=FaceRecord.face_id.does_not_exist())

                return write

            return Plan(
                sequence_numbers=len(batch),
                face_delta=len(batch),
                writes=[put(record) for record in batch],
                keys=frozenset(("face", record.face_id) for record in batch),  # new ids: commits with others
            )

        commit(collection_id, plan)
    return [face_description(record) for record in records]


def list_faces(request: dict[str, Any]) -> dict[str, Any]:
    """A page of the collection's faces, optionally only a user's or only the given ids."""
    collection = get_collection(request["CollectionId"])
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    scope = f"ListFaces:{collection.collection_id}:{request.get('UserId', '')}:{','.join(request.get('FaceIds', []))}"
    start = decode_token(scope, request["NextToken"]) if request.get("NextToken") else None
    result: dict[str, Any] = {"FaceModelVersion": collection.face_model_version}

    if request.get("FaceIds"):
        # Asked-for ids are few (at most 4096): fetch them, page over them in id order.
        found = live_faces(collection.collection_id, sorted(set(request["FaceIds"])))
        records = [found[face_id] for face_id in sorted(found)]
        if request.get("UserId"):
            records = [record for record in records if record.user_id == request["UserId"]]
        offset = start or 0
        result["Faces"] = [face_description(record) for record in records[offset : offset + page_size]]
        if offset + page_size < len(records):
            result["NextToken"] = encode_token(scope, offset + page_size)
        return result

    condition = FaceRecord.deleted == False  # noqa: E712
    if request.get("UserId"):
        condition &= FaceRecord.user_id == request["UserId"]
    page = FaceRecord.query(
        collection.collection_id,
        filter_condition=condition,
        limit=page_size,
        last_evaluated_key=start,
        consistent_read=True,
    )
    result["Faces"] = [face_description(record) for record in page]
    if page.last_evaluated_key and len(result["Faces"]) == page_size:
        result["NextToken"] = encode_token(scope, page.last_evaluated_key)
    return result


def delete_faces(request: dict[str, Any]) -> dict[str, Any]:
    """Deletes faces, leaving tombstones that tell every search index to drop them.

    A face that belongs to a user is not deleted (ASSOCIATED_TO_AN_EXISTING_USER), as at AWS:
    disassociate it first.
    """
    collection_id = request["CollectionId"]
    get_collection(collection_id)
    deleted: list[str] = []
    refused: list[dict[str, Any]] = []
    for wanted in chunks(list(dict.fromkeys(request["FaceIds"]))):
        chunk_deleted, chunk_refused = commit(
            collection_id,
            lambda _, wanted=wanted: _plan_deletion(collection_id, wanted),
            reads=[(FaceRecord, face_id) for face_id in wanted],
        )
        deleted += chunk_deleted
        refused += chunk_refused
    # botocore's model gives DeletedFaces at least one item: when nothing was deleted it is left out.
    result: dict[str, Any] = {"UnsuccessfulFaceDeletions": refused}
    if deleted:
        result["DeletedFaces"] = deleted
    return result


def _plan_deletion(collection_id: str, wanted: list[str]) -> Plan:
    faces = live_faces(collection_id, wanted)
    doomed = [faces[face_id] for face_id in wanted if face_id in faces and not faces[face_id].user_id]
    refused = [
        {
            "FaceId": face_id,
            "UserId": faces[face_id].user_id if face_id in faces else None,
            "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER" if face_id in faces else "FACE_NOT_FOUND"],
        }
        for face_id in wanted
        if face_id not in faces or faces[face_id].user_id
    ]

    def tombstone(face: FaceRecord):
        def write(tx: Any, numbers: Any) -> None:
            tx.update(
                face,
                actions=[
                    FaceRecord.deleted.set(True),
                    FaceRecord.seq.set(next(numbers)),
                    FaceRecord.embedding.remove(),
                ],
                condition=(FaceRecord.deleted == False) & FaceRecord.user_id.does_not_exist(),  # noqa: E712
            )

        return write

    return Plan(
        sequence_numbers=len(doomed),
        face_delta=-len(doomed),
        writes=[tombstone(face) for face in doomed],
        result=([face.face_id for face in doomed], refused),
        keys=frozenset(("face", face_id) for face_id in wanted),
    )
