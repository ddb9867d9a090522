"""The collection operations over the ``CollectionRecord`` table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError

from recognito.errors import ResourceAlreadyExistsException, ResourceNotFoundException
from recognito.faces.similarity import FACE_MODEL_VERSION
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage import CollectionRecord, FaceRecord, UserRecord

DEFAULT_PAGE_SIZE = 1000


def collection_arn(collection_id: str) -> str:
    return settings().arn(f"collection/{collection_id}")


def get_collection(collection_id: str) -> CollectionRecord:
    """The collection's record, or the ``ResourceNotFoundException`` AWS gives for it."""
    try:
        return CollectionRecord.get(collection_id, consistent_read=True)
    except CollectionRecord.DoesNotExist:
        raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist") from None


def _is_conditional_failure(error: PutError | DeleteError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def create_collection(request: dict[str, Any]) -> dict[str, Any]:
    collection_id = request["CollectionId"]
    record = CollectionRecord(
        collection_id,
        created=datetime.now(UTC),
        face_model_version=FACE_MODEL_VERSION,
        tags=request.get("Tags") or {},
    )
    try:
        record.save(condition=CollectionRecord.collection_id.does_not_exist())
    except PutError as error:
        if _is_conditional_failure(error):
            raise ResourceAlreadyExistsException(f"The collection id: {collection_id} already exists") from None
        raise
    # AWS's own CreateCollection answers with the ARN minus its "arn:" prefix; SDK users compare
    # against it, so recognito keeps the quirk.
    return {
        "StatusCode": 200,
        "CollectionArn": collection_arn(collection_id).removeprefix("arn:"),
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


def describe_collection(request: dict[str, Any]) -> dict[str, Any]:
    record = get_collection(request["CollectionId"])
    return {
        "FaceCount": int(record.face_count),
        "UserCount": int(record.user_count),
        "FaceModelVersion": record.face_model_version,
        "CollectionARN": collection_arn(record.collection_id),
        "CreationTimestamp": record.created,
    }


def list_collections(request: dict[str, Any]) -> dict[str, Any]:
    """A page of collection IDs; ``NextToken`` resumes the scan where DynamoDB stopped."""
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    start = decode_token("ListCollections", request["NextToken"]) if request.get("NextToken") else None
    page = CollectionRecord.scan(limit=page_size, last_evaluated_key=start, page_size=page_size)
    # Reserved collections (the celebrity gallery) have ids no caller can give: not the caller's.
    records = [record for record in page if ":" not in record.collection_id]
    result: dict[str, Any] = {
        "CollectionIds": [record.collection_id for record in records],
        "FaceModelVersions": [record.face_model_version for record in records],
    }
    if page.last_evaluated_key:
        result["NextToken"] = encode_token("ListCollections", page.last_evaluated_key)
    return result


def delete_collection(request: dict[str, Any]) -> dict[str, Any]:
    """Deletes the collection, then its faces and users.

    The collection record goes first, so every search index drops the collection at once (its
    incarnation is gone) and a re-created collection of the same id starts a new one.
    """
    collection_id = request["CollectionId"]
    try:
        CollectionRecord(collection_id).delete(condition=CollectionRecord.collection_id.exists())
    except DeleteError as error:
        if _is_conditional_failure(error):
            raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist") from None
        raise
    for model in (FaceRecord, UserRecord):
        with model.batch_write() as batch:
            for record in model.query(collection_id):
                batch.delete(record)
    return {"StatusCode": 200}
