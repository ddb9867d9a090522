"""SageMaker Ground Truth manifest lines, as Rekognition Custom Labels reads them.

One JSON object a line: ``source-ref`` (the image in S3) and any number of label attributes, each a
key ``X`` with its metadata under ``X-metadata`` whose ``type`` says the format:

- ``groundtruth/image-classification``: ``X`` is a class id, the label is ``X-metadata.class-name``;
- ``groundtruth/image-classification-multilabel``: ``X`` is a list of class ids, the labels come from
  ``X-metadata.class-map``;
- ``groundtruth/object-detection``: ``X`` holds ``image_size`` and pixel ``annotations`` whose
  ``class_id`` names a label through ``X-metadata.class-map``.

Custom Moderation (adapter) manifests label images instead with ``content-moderation-groundtruth``:
``{"ModerationLabels": [{"Name": <a taxonomy label>}, ...]}``; an empty list is an image annotated
as safe, which is labeled (a true negative, or the correction of a false positive), not unlabeled.

A line with no label attribute is an unlabeled image (a dataset may hold those). A line that breaks the
format is never dropped: it becomes an entry whose ``errors`` say why, each as AWS's non-terminal
JSON line validation codes ("ERROR_MISSING_SOURCE_REF: ...").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
DETECTION = "groundtruth/object-detection"
SUPPORTED_TYPES = (CLASSIFICATION, MULTILABEL, DETECTION)
MODERATION = "content-moderation-groundtruth"  # an attribute without "-metadata": adapters' manifests

# Custom Labels' quotas: a label name is 1..256 characters; at most 50 boxes an image.
MAX_LABEL_LENGTH = 256
MAX_BOXES = 50


@dataclass(frozen=True)
class LabeledBox:
    """One object of an object-localization line, as ratios of the image (Rekognition's BoundingBox)."""

    label: str
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class ManifestEntry:
    source_ref: str  # "s3://bucket/key" ("" when the line has none)
    labels: tuple[str, ...]  # image-level labels, or the labels of its boxes; first-seen order
    boxes: tuple[LabeledBox, ...]  # empty for image-level lines
    errors: tuple[str, ...]  # why the line is an error entry (empty when valid)
    line: str  # the JSON line as stored (ListDatasetEntries returns it)
    moderation: bool = False  # annotated with content-moderation-groundtruth (no labels: safe)

    @property
    def labeled(self) -> bool:
        return bool(self.labels) or self.moderation

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)


class _LineError(Exception):
    """One validation failure of an attribute; collected, never raised out of ``parse_line``."""


def _error(code: str, message: str) -> str:
    return f"{code}: {message}"


def split_s3_uri(uri: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of ``s3://bucket/key``, or None when ``uri`` is not of that form."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        return None
    return bucket, key


def _class_map(metadata: dict[str, Any]) -> dict[str, str]:
    class_map = metadata.get("class-map")
    if not isinstance(class_map, dict) or not all(isinstance(v, str) for v in class_map.values()):
        raise _LineError(
            _error("ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT", "class-map is missing or not a map of names")
        )
    return {str(k): v for k, v in class_map.items()}


def _class_name(class_map: dict[str, str], class_id: Any) -> str:
    if isinstance(class_id, bool) or not isinstance(class_id, int | str):
        raise _LineError(_error("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", f"class id {class_id!r} is not an id"))
    name = class_map.get(str(class_id))
    if name is None:
        raise _LineError(_error("ERROR_MISSING_CLASS_MAP_ID", f"class id {class_id} is not in the class-map"))
    return _label_name(name)


def _label_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_LABEL_LENGTH:
        raise _LineError(_error("ERROR_INVALID_LABEL_NAME_LENGTH", "a label name has 1 to 256 characters"))
    return name


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _LineError(_error("ERROR_INVALID_BOUNDING_BOX", f"{value!r} is not a number"))
    return float(value)


def _classification(value: Any, metadata: dict[str, Any]) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _LineError(_error("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", "the class id is not a number"))
    return [_label_name(metadata.get("class-name"))]


def _multilabel(value: Any, metadata: dict[str, Any]) -> list[str]:
    if not isinstance(value, list):
        raise _LineError(_error("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", "the class ids are not a list"))
    class_map = _class_map(metadata)
    return [_class_name(class_map, class_id) for class_id in value]


def _image_size(value: dict[str, Any]) -> tuple[float, float]:
    sizes = value.get("image_size")
    size = sizes[0] if isinstance(sizes, list) and sizes and isinstance(sizes[0], dict) else None
    try:
        width, height = _number(size["width"]), _number(size["height"])  # type: ignore[index]
    except (TypeError, KeyError, _LineError):
        width = height = 0.0
    if width <= 0 or height <= 0:
        raise _LineError(_error("ERROR_INVALID_IMAGE_DIMENSION", "image_size has no positive width and height"))
    return width, height


def _detection(value: Any, metadata: dict[str, Any]) -> list[LabeledBox]:
    if not isinstance(value, dict) or not isinstance(value.get("annotations"), list):
        raise _LineError(_error("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", "no annotations list"))
    width, height = _image_size(value)
    class_map = _class_map(metadata)
    annotations = value["annotations"]
    if len(annotations) > MAX_BOXES:
        raise _LineError(_error("ERROR_TOO_MANY_BOUNDING_BOXES", f"more than {MAX_BOXES} bounding boxes"))
    boxes = []
    for annotation in annotations:
        if not isinstance(annotation, dict):
            raise _LineError(_error("ERROR_INVALID_ANNOTATIONS", "an annotation is not an object"))
        try:
            left, top, w, h = (_number(annotation[k]) for k in ("left", "top", "width", "height"))
        except KeyError as missing:
            raise _LineError(_error("ERROR_INVALID_BOUNDING_BOX", f"an annotation has no {missing}")) from None
        # A box must have an area and lie within the image (a pixel of slack for rounded annotations).
        if w <= 0 or h <= 0 or left < -1 or top < -1 or left + w > width + 1 or top + h > height + 1:
            raise _LineError(_error("ERROR_INVALID_BOUNDING_BOX", "a bounding box is empty or outside the image"))
        x1, y1 = max(left, 0.0), max(top, 0.0)
        x2, y2 = min(left + w, width), min(top + h, height)
        label = _class_name(class_map, annotation.get("class_id"))
        boxes.append(LabeledBox(label, x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height))
    return boxes


def _moderation_labels(value: Any) -> list[str]:
    labels = value.get("ModerationLabels") if isinstance(value, dict) else None
    if not isinstance(labels, list) or not all(isinstance(label, dict) for label in labels):
        raise _LineError(
            _error("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", f"{MODERATION} has no ModerationLabels list of objects")
        )
    return [_label_name(label.get("Name")) for label in labels]


def _attributes(document: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(name, value, metadata)`` of every label attribute: a key with its ``-metadata`` twin."""
    return [
        (key, value, document[f"{key}-metadata"])
        for key, value in document.items()
        if key != "source-ref" and not key.endswith("-metadata") and f"{key}-metadata" in document
    ]


def parse_line(line: str) -> ManifestEntry:
    """The entry of one manifest line. Never raises on a bad line: its ``errors`` say what is wrong."""
    stored = line.strip()
    try:
        document = json.loads(stored)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return ManifestEntry("", (), (), (_error("ERROR_INVALID_JSON_LINE", "the line is not a JSON object"),), stored)
    errors: list[str] = []
    source_ref = document.get("source-ref")
    if source_ref is None:
        errors.append(_error("ERROR_MISSING_SOURCE_REF", "the source-ref key is missing"))
        source_ref = ""
    elif split_s3_uri(source_ref) is None:
        errors.append(_error("ERROR_INVALID_SOURCE_REF_FORMAT", "source-ref is not an s3://bucket/key URI"))
        source_ref = source_ref if isinstance(source_ref, str) else ""
    labels: list[str] = []
    boxes: list[LabeledBox] = []
    moderation = MODERATION in document
    if moderation:
        try:
            labels.extend(_moderation_labels(document[MODERATION]))
        except _LineError as failure:
            errors.append(str(failure))
    for name, value, metadata in _attributes(document):
        try:
            if not isinstance(metadata, dict):
                raise _LineError(
                    _error("ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT", f"{name}-metadata is not an object")
                )
            kind = metadata.get("type")
            if kind == CLASSIFICATION:
                labels.extend(_classification(value, metadata))
            elif kind == MULTILABEL:
                labels.extend(_multilabel(value, metadata))
            elif kind == DETECTION:
                found = _detection(value, metadata)
                boxes.extend(found)
                labels.extend(box.label for box in found)
            else:
                raise _LineError(_error("ERROR_UNSUPPORTED_USE_CASE_TYPE", f"{name} has type {kind!r}"))
        except _LineError as failure:
            errors.append(str(failure))
    return ManifestEntry(source_ref, tuple(dict.fromkeys(labels)), tuple(boxes), tuple(errors), stored, moderation)


def parse_manifest(text: str) -> list[ManifestEntry]:
    """Every non-blank line of a manifest, in order. Lines end at "\n" only (JSON strings may hold
    U+2028 and other characters ``str.splitlines`` would break at)."""
    return [parse_line(line) for line in text.split("\n") if line.strip()]
