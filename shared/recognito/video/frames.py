"""The VideoLabels and VideoFaces workers: the image operations' own pipelines on sampled frames.

Each reads one range's frames (a zip of ``<timestamp ms>.jpg`` that VideoDecode wrote), runs
DetectLabels' or DetectFaces' pipeline on each, and writes the range's findings, per timestamp,
as JSON next to them.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from recognito.images import DecodedImage, decode_image
from recognito.video import jobs

VIDEO_MIN_CONFIDENCE = 50.0  # Rekognition Video's default MinConfidence


def _frames(key: str) -> Iterator[tuple[int, DecodedImage]]:
    data = jobs.client("s3").get_object(Bucket=jobs.bucket(), Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            yield int(name.partition(".")[0]), decode_image(archive.read(name))


def _run(
    event: dict[str, Any], analyse: Callable[[DecodedImage, dict[str, Any]], list[dict[str, Any]]]
) -> dict[str, Any]:
    record = jobs.load(event["JobId"])
    request = jobs.job_request(record)
    found = [item | {"Timestamp": ts} for ts, image in _frames(event["Key"]) for item in analyse(image, request)]
    key = f"jobs/{record.job_id}/parts/{int(event['Index']):06d}.json"
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=json.dumps(found).encode())
    jobs.client("s3").delete_object(Bucket=jobs.bucket(), Key=event["Key"])
    return {"JobId": record.job_id, "Api": record.api, "Index": event["Index"], "Key": key}


def _labels(image: DecodedImage, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito_inference.object_detector import detect_objects

    from recognito.analysis.labels import DETECTOR_MIN_SCORE, general_labels

    confidence = request.get("MinConfidence")
    options = {
        "MinConfidence": VIDEO_MIN_CONFIDENCE if confidence is None else confidence,
        "Settings": request.get("Settings") or {},
    }
    detections = detect_objects(image.rgb, min_score=DETECTOR_MIN_SCORE)
    return [{"Label": label} for label in general_labels(None, image.rgb, detections, options, False, 0)]


def _faces(image: DecodedImage, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito_inference.face_detector import detect_faces

    from recognito.faces.details import face_details
    from recognito.faces.detect import MAX_FACES

    attributes = [request.get("FaceAttributes") or "DEFAULT"]
    return [{"Face": face} for face in face_details(image, detect_faces(image.rgb, max_faces=MAX_FACES), attributes)]


def label_frames(event: dict[str, Any]) -> dict[str, Any]:
    """Labels of each sampled frame of a range."""
    return _run(event, _labels)


def face_frames(event: dict[str, Any]) -> dict[str, Any]:
    """FaceDetails of each sampled frame of a range."""
    return _run(event, _faces)
