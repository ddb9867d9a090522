"""The Start*/Get* operations of Rekognition Video that recognito runs (recognito.video.jobs)."""

from __future__ import annotations

from typing import Any

from recognito.video import jobs

start_label_detection = jobs.starter("StartLabelDetection")
start_face_detection = jobs.starter("StartFaceDetection")
start_segment_detection = jobs.starter("StartSegmentDetection")

LABEL_MODEL_VERSION = "3.0"


def _label_items(found: list[dict[str, Any]], request: dict[str, Any]) -> list[dict[str, Any]]:
    items = _label_segments(found) if request.get("AggregateBy") == "SEGMENTS" else found
    if request.get("SortBy") == "NAME":
        return sorted(items, key=lambda i: (i["Label"]["Name"], i["Timestamp"]))
    return sorted(items, key=lambda i: (i["Timestamp"], i["Label"]["Name"]))


def _label_segments(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each label's runs of consecutive samples (no gap over one and a half sampling intervals),
    at the runs' best confidence; without Instances, as Rekognition aggregates."""
    gap = 1.5 * 1000 / jobs.SAMPLES_PER_SECOND["StartLabelDetection"]
    runs: dict[str, list[dict[str, Any]]] = {}
    segments = []
    for item in sorted(found, key=lambda i: i["Timestamp"]):
        label = item["Label"]
        open_runs = runs.setdefault(label["Name"], [])
        run = open_runs[-1] if open_runs else None
        if run is not None and item["Timestamp"] - run["EndTimestampMillis"] <= gap:
            run["EndTimestampMillis"] = item["Timestamp"]
            run["Label"]["Confidence"] = max(run["Label"]["Confidence"], label["Confidence"])
        else:
            summary = {key: value for key, value in label.items() if key != "Instances"}
            run = {"Timestamp": item["Timestamp"], "Label": summary, "StartTimestampMillis": item["Timestamp"]}
            run["EndTimestampMillis"] = item["Timestamp"]
            open_runs.append(run)
            segments.append(run)
    for run in segments:
        run["DurationMillis"] = run["EndTimestampMillis"] - run["StartTimestampMillis"]
    return segments


def get_label_detection(request: dict[str, Any]) -> dict[str, Any]:
    response, _, _ = jobs.get_job("StartLabelDetection", request, _label_items, "Labels")
    response.setdefault("Labels", [])
    response["LabelModelVersion"] = LABEL_MODEL_VERSION
    response["GetRequestMetadata"] = {
        "SortBy": request.get("SortBy") or "TIMESTAMP",
        "AggregateBy": request.get("AggregateBy") or "TIMESTAMPS",
    }
    return response


def get_face_detection(request: dict[str, Any]) -> dict[str, Any]:
    response, _, _ = jobs.get_job("StartFaceDetection", request, lambda found, _: found, "Faces")
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
