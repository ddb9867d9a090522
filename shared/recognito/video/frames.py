"""The VideoAnalysis and VideoFaces workers: the image operations' own pipelines on sampled frames.

Each reads one range's frames (a zip of ``<timestamp ms>.jpg`` that VideoDecode wrote), runs
DetectLabels', DetectModerationLabels', DetectText's or DetectFaces' pipeline on each, and writes
the range's findings, per timestamp, as JSON next to them.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from recognito.images import decode_image
from recognito.video import jobs

VIDEO_MIN_CONFIDENCE = 50.0  # Rekognition Video's default MinConfidence


def _frames(key: str) -> Iterator[tuple[int, bytes]]:
    data = jobs.client("s3").get_object(Bucket=jobs.bucket(), Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            yield int(name.partition(".")[0]), archive.read(name)


def analyse_frames(event: dict[str, Any]) -> dict[str, Any]:
    """The findings of each sampled frame of a range, by the job's analysis."""
    record = jobs.load(event["JobId"])
    if record.api == "StartSegmentDetection":
        return _credits_text(record.job_id, event)
    request = jobs.job_request(record)
    analyse = ANALYSES[record.api]
    found = [item | {"Timestamp": ts} for ts, jpeg in _frames(event["Key"]) for item in analyse(jpeg, request)]
    part = {"Items": found, "ModelVersion": model_version(record.api)}
    key = f"jobs/{record.job_id}/parts/{int(event['Index']):06d}.json"
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=json.dumps(part).encode())
    jobs.client("s3").delete_object(Bucket=jobs.bucket(), Key=event["Key"])
    return {"JobId": record.job_id, "Api": record.api, "Index": event["Index"], "Key": key}


def _credits_text(job_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """A segment job's range: the lines of text (boxes, 0..1) DetectText's line detector finds on
    the frames that may show credits, added to the range's scan as ``Text``."""
    text = [{"Timestamp": stamp, "Lines": text_lines(jpeg)} for stamp, jpeg in _frames(event["Key"])]
    s3 = jobs.client("s3")
    key = f"jobs/{job_id}/parts/{int(event['Index']):06d}.json"
    part = json.loads(s3.get_object(Bucket=jobs.bucket(), Key=key)["Body"].read())
    part["Text"] = text
    s3.put_object(Bucket=jobs.bucket(), Key=key, Body=json.dumps(part).encode())
    s3.delete_object(Bucket=jobs.bucket(), Key=event["Key"])
    return {"JobId": job_id, "Api": event.get("Api"), "Index": event["Index"], "Key": key}


def text_lines(jpeg: bytes) -> list[list[float]]:
    """The boxes ``[left, top, right, bottom]`` (0..1) of the lines DetectText's detector finds."""
    from recognito_inference.text import detect_lines

    image = decode_image(jpeg)
    lines = []
    for region in detect_lines(image.rgb[..., ::-1]):
        (left, top), (right, bottom) = region.quad.min(axis=0), region.quad.max(axis=0)
        box = [left / image.width, top / image.height, right / image.width, bottom / image.height]
        lines.append([round(float(v), 5) for v in box])
    return lines


def _labels(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito.analysis.labels import found_objects, general_labels

    confidence = request.get("MinConfidence")
    options = {
        "MinConfidence": VIDEO_MIN_CONFIDENCE if confidence is None else confidence,
        "Settings": request.get("Settings") or {},
    }
    image = decode_image(jpeg)
    detections = found_objects(image.rgb)
    return [{"Label": label} for label in general_labels(None, image.rgb, detections, options, False, 0)]


def _faces(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito_inference.face_detector import detect_faces

    from recognito.faces.details import face_details
    from recognito.faces.detect import MAX_FACES

    attributes = [request.get("FaceAttributes") or "DEFAULT"]
    image = decode_image(jpeg)
    return [{"Face": face} for face in face_details(image, detect_faces(image.rgb, max_faces=MAX_FACES), attributes)]


def _moderation(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito.analysis.moderation import detect_moderation_labels

    confidence = request.get("MinConfidence")
    found = detect_moderation_labels(
        {"Image": {"Bytes": jpeg}, "MinConfidence": VIDEO_MIN_CONFIDENCE if confidence is None else confidence}
    )
    content_types = found["ContentTypes"]
    return [{"ModerationLabel": label, "ContentTypes": content_types} for label in found["ModerationLabels"]]


def _text(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    from recognito.analysis.text import detect_text

    found = detect_text({"Image": {"Bytes": jpeg}, "Filters": request.get("Filters") or {}})
    return [{"TextDetection": detection} for detection in found["TextDetections"]]


def _face_search(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every face of the frame (DEFAULT FaceDetail) with the collection's faces it matches; the
    Person Index is the finish step's, which sees the whole video."""
    return face_searcher(request)(jpeg)


def face_searcher(request: dict[str, Any]) -> Callable[[bytes], list[dict[str, Any]]]:
    """``_face_search`` for a run of frames analysed together (a stream processor's read): the
    collection and its index are read once for all of them, not once a frame."""
    from recognito_inference.face_detector import detect_faces

    from recognito.collections.search import collection_index, requested_face_matches
    from recognito.collections.service import get_collection
    from recognito.faces.details import face_details
    from recognito.faces.detect import MAX_FACES
    from recognito.faces.similarity import face_model

    collection = get_collection(request["CollectionId"])  # its faces' model embeds the frame's
    index = collection_index(collection)
    search = {"FaceMatchThreshold": request.get("FaceMatchThreshold", 80.0)}

    def search_frame(jpeg: bytes) -> list[dict[str, Any]]:
        image = decode_image(jpeg)
        detections = detect_faces(image.rgb, max_faces=MAX_FACES)
        if not detections:
            return []
        details = face_details(image, detections)
        embeddings = face_model(collection.face_model_version).embed(image.rgb, detections)
        return [
            {
                "Person": {"BoundingBox": detail["BoundingBox"], "Face": detail},
                "FaceMatches": requested_face_matches(search, collection, embedding, index=index),
            }
            for detail, embedding in zip(details, embeddings, strict=True)
        ]

    return search_frame


def _celebrities(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    """RecognizeCelebrities on the frame, each recognized face as a CelebrityDetail."""
    from recognito.celebrities import recognize_celebrities

    found = recognize_celebrities({"Image": {"Bytes": jpeg}})["CelebrityFaces"]
    return [
        {
            "Celebrity": {
                **{key: value for key, value in face.items() if key not in ("Face", "MatchConfidence")},
                "Confidence": face["MatchConfidence"],
                "BoundingBox": face["Face"]["BoundingBox"],
                "Face": face["Face"],
            }
        }
        for face in found
    ]


PERSON_MIN_CONFIDENCE = 50.0


def _persons(jpeg: bytes, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The people DetectLabels' object detector finds (its Person instances at 50 or more); the
    Index is the finish step's tracking."""
    from recognito_inference.object_detector import detect_objects

    from recognito.analysis.labels import DETECTOR_MIN_SCORE, detector_confidence, taxonomy
    from recognito.boxes import bounding_box

    image = decode_image(jpeg)
    names = taxonomy().coco_labels
    return [
        {"Person": {"BoundingBox": bounding_box(d.box, image.width, image.height)}}
        for d in detect_objects(image.rgb, min_score=DETECTOR_MIN_SCORE)
        if names[d.class_id] == "Person" and detector_confidence(d.score) >= PERSON_MIN_CONFIDENCE
    ]


ANALYSES: dict[str, Callable[[bytes, dict[str, Any]], list[dict[str, Any]]]] = {
    "StartLabelDetection": _labels,
    "StartFaceDetection": _faces,
    "StartContentModeration": _moderation,
    "StartTextDetection": _text,
    "StartFaceSearch": _face_search,
    "StartPersonTracking": _persons,
    "StartCelebrityRecognition": _celebrities,
}


def model_version(api: str) -> str | None:
    """The version of the models behind an analysis, as its Get* reports it (faces: none)."""
    if api == "StartLabelDetection":
        from recognito.analysis.labels import LABEL_MODEL_VERSION

        return LABEL_MODEL_VERSION
    if api == "StartContentModeration":
        from recognito.analysis.moderation import taxonomy

        return taxonomy()["model_version"]
    if api == "StartTextDetection":
        from recognito.analysis.text import TEXT_MODEL_VERSION

        return TEXT_MODEL_VERSION
    return None
