"""A connected home processor's analysis: people, pets and packages, told once each per session.

The classes come from DetectLabels' own models (recognito.analysis.labels, the labels of stored
video's StartLabelDetection), mapped honestly onto Rekognition's three:

- PERSON: the "Person" label, from the object detector (COCO "person"), with boxes;
- PET: "Pet" and every label whose parent is Pet (the detector's dogs and cats, the classifier's
  breeds), with boxes where the detector found them;
- PACKAGE: "Box" (the Open Images detector's boxes, with their boxes), and the classifier's
  "Package" (ImageNet "packet") and "Cardboard" (ImageNet "carton"), which have no box and so
  no cropped image. No model here was trained on parcels at doors: a box is the nearest class.

The first time a class is seen in a session, its frame (and the crop of its box) goes to the
processor's S3 destination and a LABEL_DETECTED message to its SNS topic; when the session ends,
a STREAM_PROCESSING_COMPLETE message lists every class seen.
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image

from recognito.aws import sse_kms
from recognito.storage.tables import StreamProcessorRecord
from recognito.streams import batches, processors
from recognito.streams.regions import in_regions
from recognito.video import jobs
from recognito.video.frames import ANALYSES

API_VERSION = "2016-06-27"
CLASSES = ("PERSON", "PET", "PACKAGE")
PACKAGE_LABELS = frozenset({"Box", "Package", "Cardboard"})


def label_class(label: dict[str, Any]) -> str | None:
    """Which of Rekognition's connected home classes a DetectLabels label is, if any."""
    if label["Name"] == "Person":
        return "PERSON"
    if label["Name"] == "Pet" or any(parent["Name"] == "Pet" for parent in label.get("Parents", [])):
        return "PET"
    if label["Name"] in PACKAGE_LABELS:
        return "PACKAGE"
    return None


def detections(labels: list[dict[str, Any]], wanted: set[str], regions: list[dict[str, Any]]) -> dict[str, dict]:
    """Per wanted class, its most confident finding in the frame: ``{"Confidence", "BoundingBox"}``."""
    best: dict[str, dict[str, Any]] = {}
    for label in labels:
        name = label_class(label)
        if name not in wanted:
            continue
        found = [{"Confidence": i["Confidence"], "BoundingBox": i["BoundingBox"]} for i in label.get("Instances", [])]
        found = found or [{"Confidence": label["Confidence"], "BoundingBox": None}]
        for candidate in found:
            if in_regions(candidate["BoundingBox"], regions) and candidate["Confidence"] > best.get(name, {}).get(
                "Confidence", -1
            ):
                best[name] = candidate
    return best


def analyse(event: dict[str, Any]) -> dict[str, Any]:
    record = processors.load(event["Name"])
    configuration = processors.config(record)
    home = configuration["Settings"][processors.CONNECTED_HOME]
    wanted = set(CLASSES) if "ALL" in home["Labels"] else set(home["Labels"])
    min_confidence = home.get("MinConfidence", processors.DEFAULT_MIN_CONFIDENCE)
    regions = configuration.get("RegionsOfInterest") or []
    state = json.loads(record.session or "{}")
    seen: dict[str, Any] = state.setdefault("Detected", {})
    told = 0
    for info, jpeg in batches.frames(event["Key"]):
        labels = [item["Label"] for item in ANALYSES["StartLabelDetection"](jpeg, {"MinConfidence": min_confidence})]
        for name, finding in detections(labels, wanted, regions).items():
            if name in seen:
                seen[name]["Frames"] += 1
                continue
            label = _publish_label(record, configuration, event["SessionId"], name, finding, info, jpeg)
            seen[name] = {**label, "Frames": 1}
            told += 1
    if record.session_id == event["SessionId"]:
        record.update(actions=[StreamProcessorRecord.session.set(json.dumps(state))])
    return {"Notified": told}


def _prefix(configuration: dict[str, Any], name: str, session_id: str) -> str:
    prefix = configuration["Output"]["S3Destination"].get("KeyPrefix") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{name}/{session_id}/"


def _put(configuration: dict[str, Any], key: str, body: bytes, content_type: str) -> str:
    """An object in the processor's bucket, under its KMS key where it has one; its s3:// URI."""
    bucket = configuration["Output"]["S3Destination"]["Bucket"]
    extra = sse_kms(configuration.get("KmsKeyId"))
    jobs.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)
    return f"s3://{bucket}/{key}"


def _publish_label(
    record: StreamProcessorRecord,
    configuration: dict[str, Any],
    session_id: str,
    name: str,
    finding: dict[str, Any],
    info: dict[str, Any],
    jpeg: bytes,
) -> dict[str, Any]:
    offset_millis = int(round(info["FrameOffsetInSeconds"] * 1000))
    base = _prefix(configuration, record.name, session_id)
    stamp = f"{int(round(info['ProducerTimestamp'] * 1000)) + offset_millis}"
    label: dict[str, Any] = {
        "id": f"{name}-{stamp}",
        "name": name,
        "confidence": round(float(finding["Confidence"]), 3),
        "frameImageUri": _put(configuration, f"{base}frames/{name}_{stamp}.jpg", jpeg, "image/jpeg"),
        "videoMapping": {"kinesisVideoMapping": _mapping(info, offset_millis)},
    }
    box = finding["BoundingBox"]
    if box is not None:
        label["croppedImageUri"] = _put(
            configuration, f"{base}cropped/{name}_{stamp}.jpg", _crop(jpeg, box), "image/jpeg"
        )
        label["boundingBox"] = {"left": box["Left"], "top": box["Top"], "width": box["Width"], "height": box["Height"]}
    message = {
        "inputInformation": {"kinesisVideo": _input(configuration, info)},
        "eventNamespace": {"type": "LABEL_DETECTED"},
        "labels": [label],
        "rekognitionApiVersion": API_VERSION,
        "streamProcessorArn": record.arn,
        "sessionId": session_id,
    }
    _notify(configuration, f"{base}notifications/LABEL_DETECTED_{name}_{stamp}.json", message)
    return label


def _mapping(info: dict[str, Any], offset_millis: int) -> dict[str, Any]:
    return {
        "fragmentNumber": info["FragmentNumber"],
        "serverTimestamp": int(round(info["ServerTimestamp"] * 1000)),
        "producerTimestamp": int(round(info["ProducerTimestamp"] * 1000)),
        "frameOffsetMillis": offset_millis,
    }


def _input(configuration: dict[str, Any], info: dict[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {"streamArn": configuration["Input"]["KinesisVideoStream"]["Arn"]}
    if info is not None:
        found |= {
            "fragmentNumber": info["FragmentNumber"],
            "fragmentProducerTimestamp": int(round(info["ProducerTimestamp"] * 1000)),
            "fragmentServerTimestamp": int(round(info["ServerTimestamp"] * 1000)),
            "frameOffsetInSeconds": info["FrameOffsetInSeconds"],
        }
    return found


def _notify(configuration: dict[str, Any], key: str, message: dict[str, Any]) -> None:
    body = json.dumps(message)
    _put(configuration, key, body.encode(), "application/json")
    jobs.client("sns").publish(TopicArn=configuration["NotificationChannel"]["SNSTopicArn"], Message=body)


def _crop(jpeg: bytes, box: dict[str, float]) -> bytes:
    image = Image.open(io.BytesIO(jpeg))
    width, height = image.size
    left, top = int(box["Left"] * width), int(box["Top"] * height)
    right, bottom = int((box["Left"] + box["Width"]) * width), int((box["Top"] + box["Height"]) * height)
    buffer = io.BytesIO()
    image.crop((left, top, max(right, left + 1), max(bottom, top + 1))).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def session_ended(event: dict[str, Any]) -> None:
    """STREAM_PROCESSING_COMPLETE: how much video the session processed and what it saw."""
    record = processors.load(event["Name"])
    if record.session_id != event["SessionId"]:
        return
    configuration = processors.config(record)
    state = json.loads(record.session or "{}")
    position = event.get("Position") or {}
    processed = position.get("LastMillis", 0) - position.get("FirstMillis", 0)
    message = {
        "inputInformation": {
            "kinesisVideo": {**_input(configuration, None), "processedVideoDurationMillis": processed}
        },
        "eventNamespace": {"type": "STREAM_PROCESSING_COMPLETE"},
        "streamProcessingResults": {"message": "Stream Processing Success."},
        "labels": [{k: v for k, v in label.items() if k != "Frames"} for label in state.get("Detected", {}).values()],
        "rekognitionApiVersion": API_VERSION,
        "streamProcessorArn": record.arn,
        "sessionId": event["SessionId"],
    }
    _notify(
        configuration,
        f"{_prefix(configuration, record.name, event['SessionId'])}notifications/STREAM_PROCESSING_COMPLETE.json",
        message,
    )
