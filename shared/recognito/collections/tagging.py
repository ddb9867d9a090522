"""TagResource, UntagResource and ListTagsForResource.

Tags live with their resource's record; a resource is found from its ARN. Collections, stream
processors and custom labels projects, datasets and project versions carry tags.
"""

from __future__ import annotations

from typing import Any

from recognito.collections.service import get_collection
from recognito.errors import InvalidParameterException, ResourceNotFoundException, ServiceQuotaExceededException
from recognito.storage import CollectionRecord
from recognito.storage.tables import CustomLabelsRecord, StreamProcessorRecord, get_or_raise

MAX_TAGS = 50


def _stream_processor(name: str) -> StreamProcessorRecord:
    # Read from storage here: recognito.streams sits above collections (it searches them).
    return get_or_raise(StreamProcessorRecord, name, ResourceNotFoundException(f"Stream processor {name} not found"))


_LOADERS = {"collection": get_collection, "streamprocessor": _stream_processor}


def _resource(arn: str) -> CollectionRecord | StreamProcessorRecord | CustomLabelsRecord:
    # CreateCollection hands out its ARN without the "arn:" prefix, so accept both spellings.
    full = arn if arn.startswith("arn:") else f"arn:{arn}"
    parts = full.split(":", 5)
    if len(parts) != 6 or parts[2] != "rekognition":
        raise InvalidParameterException(f"Invalid resource ARN: {arn}")
    kind, _, name = parts[5].partition("/")
    if kind == "project":
        from recognito.custom_labels.tagging import tagged

        return tagged(full)
    if kind not in _LOADERS or not name:
        raise InvalidParameterException(f"Tagging is not supported for resource {arn}")
    return _LOADERS[kind](name)


def tag_resource(request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(request["ResourceArn"])
    if len(record.tags.as_dict().keys() | request["Tags"].keys()) > MAX_TAGS:
        raise ServiceQuotaExceededException(f"A resource can have at most {MAX_TAGS} tags")
    # One update action per key, so concurrent taggers of one resource never undo each other.
    actions = [type(record).tags[key].set(value) for key, value in request["Tags"].items()]
    if actions:  # "Tags": {} is valid (the model's min is 0) and changes nothing
        record.update(actions=actions)
    return {}


def untag_resource(request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(request["ResourceArn"])
    present = record.tags.as_dict().keys() & set(request["TagKeys"])
    if present:
        record.update(actions=[type(record).tags[key].remove() for key in present])
    return {}


def list_tags_for_resource(request: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": _resource(request["ResourceArn"]).tags.as_dict()}
