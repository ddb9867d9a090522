"""DetectCustomLabels: a RUNNING version's model applied to one image; and the moderation adapters
DetectModerationLabels applies (``adapter_for``).

The model (``model/model.npz`` that training wrote, or its copy) is read from S3 once per process
and kept, keyed by its S3 URI: a version's artifact never changes after training or copying.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from recognito.custom_labels import versions
from recognito.custom_labels.manifests import split_s3_uri
from recognito.custom_labels.training import backbone
from recognito.custom_labels.training.adapter import Adapter
from recognito.custom_labels.training.model import DETECTION, Model
from recognito.errors import ResourceNotReadyException
from recognito.images import limits_for, load_image

Loaded = TypeVar("Loaded")
_models: dict[str, Any] = {}
_lock = threading.Lock()


def _model(uri: str, read: Callable[[bytes], Loaded] = Model.from_bytes) -> Loaded:
    model = _models.get(uri)
    if model is None:
        from recognito.custom_labels.training.flow import s3_client

        where = split_s3_uri(uri)
        assert where is not None, uri
        bucket, key = where
        if key.endswith("/"):  # a folder prefix: the model file in it
            key += "model.npz"
        model = read(s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())
        with _lock:
            _models[uri] = model
    return model


def adapter_for(version_arn: str) -> Adapter:
    """The adapter of a CONTENT_MODERATION version (``versions.adapter_record`` says which are usable)."""
    return _model(versions.adapter_record(version_arn).model_artifact, Adapter.from_bytes)


def detect_custom_labels(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectCustomLabels response: labels at or above ``MinConfidence`` (by default each label's
    assumed threshold), best first, at most ``MaxResults``; a detector's labels carry boxes."""
    # The image is checked first: a bad image is the caller's error whatever the version's state.
    image = load_image(request["Image"], limits_for("DetectCustomLabels"))
    record = versions.get(request["ProjectVersionArn"])
    if record.status != "RUNNING" or not record.model_artifact:
        raise ResourceNotReadyException(
            f"ProjectVersion {request['ProjectVersionArn']} is not ready: its status is {record.status}"
        )
    model = _model(record.model_artifact)
    found = model.predict(backbone.embed([image.rgb], maps=model.kind == DETECTION))[0]
    min_confidence = request.get("MinConfidence")
    labels = []
    for name, confidence, box in found:
        floor = model.thresholds[name] * 100 if min_confidence is None else float(min_confidence)
        if confidence * 100 < floor:
            continue
        label: dict[str, Any] = {"Name": name, "Confidence": round(confidence * 100, 3)}
        if box is not None:
            left, top, width, height = (float(v) for v in box)
            label["Geometry"] = {"BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top}}
        labels.append(label)
    max_results = request.get("MaxResults")
    if max_results is not None:
        labels = labels[: int(max_results)]
    return {"CustomLabels": labels}
