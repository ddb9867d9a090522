"""The Start*/Get* operations of Rekognition Video that recognito runs (recognito.video.jobs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recognito.video import jobs

start_label_detection = jobs.starter("StartLabelDetection")
start_face_detection = jobs.starter("StartFaceDetection")
start_segment_detection = jobs.starter("StartSegmentDetection")
start_content_moderation = jobs.starter("StartContentModeration")
start_text_detection = jobs.starter("StartTextDetection")


def _collection_exists(request: dict[str, Any]) -> None:
    from recognito.collections.service import get_collection

    get_collection(request["CollectionId"])


start_face_search = jobs.starter("StartFaceSearch", _collection_exists)
start_person_tracking = jobs.starter("StartPersonTracking")
start_celebrity_recognition = jobs.starter("StartCelebrityRecognition")


def _named_items(member: str, api: str) -> Callable[[list[dict[str, Any]], dict[str, Any]], list[dict[str, Any]]]:
    """The listing of a Get* with SortBy (TIMESTAMP, NAME) and AggregateBy (TIMESTAMPS, SEGMENTS)
    over items ``{"Timestamp", member: {"Name", "Confidence", ...}}``."""

    def items(found: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
        listed = _segments(found["Items"], member, api) if request.get("AggregateBy") == "SEGMENTS" else found["Items"]
        if request.get("SortBy") == "NAME":
            return sorted(listed, key=lambda i: (i[member]["Name"], i["Timestamp"]))
        return sorted(listed, key=lambda i: (i["Timestamp"], i[member]["Name"]))

    return items


def _segments(found: list[dict[str, Any]], member: str, api: str) -> list[dict[str, Any]]:
    """Each name's runs of consecutive samples (no gap over one and a half sampling intervals),
    at the runs' best confidence; without Instances, as Rekognition aggregates."""
    gap = 1.5 * 1000 / jobs.SAMPLES_PER_SECOND[api]
    runs: dict[str, dict[str, Any]] = {}
    segments = []
    for item in sorted(found, key=lambda i: i["Timestamp"]):
        label = item[member]
        run = runs.get(label["Name"])
        if run is not None and item["Timestamp"] - run["EndTimestampMillis"] <= gap:
            run["EndTimestampMillis"] = item["Timestamp"]
            run[member]["Confidence"] = max(run[member]["Confidence"], label["Confidence"])
        else:
            summary = {key: value for key, value in label.items() if key != "Instances"}
            run = {key: value for key, value in item.items() if key != member}
            run |= {member: summary, "StartTimestampMillis": item["Timestamp"], "EndTimestampMillis": item["Timestamp"]}
            runs[label["Name"]] = run
            segments.append(run)
    for run in segments:
        run["DurationMillis"] = run["EndTimestampMillis"] - run["StartTimestampMillis"]
    return segments


def _request_metadata(request: dict[str, Any]) -> dict[str, str]:
    return {"SortBy": request.get("SortBy") or "TIMESTAMP", "AggregateBy": request.get("AggregateBy") or "TIMESTAMPS"}


def _get_named_detections(request: dict[str, Any], api: str, item: str, member: str, version: str) -> dict[str, Any]:
    """A Get* of named items (labels, moderation labels) with its model version and request metadata."""
    response, _, found = jobs.get_job(api, request, _named_items(item, api), member)
    response.setdefault(member, [])
    if found is not None:
        response[version] = found["ModelVersion"]
    response["GetRequestMetadata"] = _request_metadata(request)
    return response


def get_label_detection(request: dict[str, Any]) -> dict[str, Any]:
    return _get_named_detections(request, "StartLabelDetection", "Label", "Labels", "LabelModelVersion")


def get_content_moderation(request: dict[str, Any]) -> dict[str, Any]:
    return _get_named_detections(
        request, "StartContentModeration", "ModerationLabel", "ModerationLabels", "ModerationModelVersion"
    )


def get_text_detection(request: dict[str, Any]) -> dict[str, Any]:
    response, _, found = jobs.get_job("StartTextDetection", request, lambda found, _: found["Items"], "TextDetections")
    response.setdefault("TextDetections", [])
    if found is not None:
        response["TextModelVersion"] = found["ModelVersion"]
    return response


def get_face_detection(request: dict[str, Any]) -> dict[str, Any]:
    response, _, _ = jobs.get_job("StartFaceDetection", request, lambda found, _: found["Items"], "Faces")
    response.setdefault("Faces", [])
    return response


def get_segment_detection(request: dict[str, Any]) -> dict[str, Any]:
    response, record, found = jobs.get_job(
        "StartSegmentDetection", request, lambda found, _: found["Segments"], "Segments"
    )
    response.setdefault("Segments", [])
    if "VideoMetadata" in response:
        response["VideoMetadata"] = [response["VideoMetadata"]]
        response["AudioMetadata"] = jobs.audio_metadata(record)
    if found is not None:
        response["SelectedSegmentTypes"] = found["SelectedSegmentTypes"]
    return response


def _persons(found: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
    if request.get("SortBy") == "INDEX":
        return sorted(found["Items"], key=lambda i: (i["Person"]["Index"], i["Timestamp"]))
    return sorted(found["Items"], key=lambda i: (i["Timestamp"], i["Person"]["Index"]))


def get_face_search(request: dict[str, Any]) -> dict[str, Any]:
    response, _, _ = jobs.get_job("StartFaceSearch", request, _persons, "Persons")
    response.setdefault("Persons", [])
    return response


def get_person_tracking(request: dict[str, Any]) -> dict[str, Any]:
    response, _, _ = jobs.get_job("StartPersonTracking", request, _persons, "Persons")
    response.setdefault("Persons", [])
    return response


def get_celebrity_recognition(request: dict[str, Any]) -> dict[str, Any]:
    def celebrities(found: dict[str, Any], request: dict[str, Any]) -> list[dict[str, Any]]:
        if request.get("SortBy") == "ID":
            return sorted(found["Items"], key=lambda i: (i["Celebrity"]["Id"], i["Timestamp"]))
        return sorted(found["Items"], key=lambda i: (i["Timestamp"], i["Celebrity"]["Id"]))

    response, _, _ = jobs.get_job("StartCelebrityRecognition", request, celebrities, "Celebrities")
    response.setdefault("Celebrities", [])
    return response
