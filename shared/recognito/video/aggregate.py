"""The VideoJobs worker: the last states of a job, whichever way it ends.

``finish_job`` joins the ranges' findings (shots across range borders, black runs that span two
ranges, per-timestamp labels and faces in order), stores them with the job, marks it SUCCEEDED and
sends the completion message; ``fail_job`` is every Catch's target: the job FAILED with the
error's message, and the same message with FAILED.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from recognito.video import jobs, segments

SEGMENT_TYPES = ("TECHNICAL_CUE", "SHOT")


def _part(key: str) -> Any:
    s3 = jobs.client("s3")
    found = json.loads(s3.get_object(Bucket=jobs.bucket(), Key=key)["Body"].read())
    s3.delete_object(Bucket=jobs.bucket(), Key=key)
    return found


def finish_job(event: dict[str, Any]) -> dict[str, Any]:
    record = jobs.load(event["JobId"])
    if record.status != "IN_PROGRESS":  # ended already (an execution replayed after a restart)
        return {"JobId": record.job_id, "Status": record.status}
    parts = [_part(part["Key"]) for part in sorted(event["Parts"], key=lambda part: part["Index"])]
    if record.api == "StartSegmentDetection":
        found: Any = _segments(record, parts)
    else:  # per-frame findings: by timestamp, each frame's in its pipeline's order
        items = sorted((item for part in parts for item in part["Items"]), key=lambda item: item["Timestamp"])
        found = {"Items": items, "ModelVersion": next((part["ModelVersion"] for part in parts), None)}
        if record.api in ("StartFaceSearch", "StartPersonTracking"):
            number_persons(items, 2 * 1000 / jobs.SAMPLES_PER_SECOND[record.api])
    jobs.save_results(record, found)
    jobs.complete(record, "SUCCEEDED")
    return {"JobId": record.job_id, "Status": "SUCCEEDED"}


def _segments(record: Any, parts: list[dict[str, Any]]) -> dict[str, Any]:
    request = jobs.job_request(record)
    metadata = json.loads(record.video_metadata)
    rate = float(metadata["Video"]["FrameRate"])
    filters = request.get("Filters") or {}
    wanted = request.get("SegmentTypes") or list(SEGMENT_TYPES)
    found: list[dict[str, Any]] = []
    if "SHOT" in wanted:
        confidence = (filters.get("ShotFilter") or {}).get("MinSegmentConfidence", 80.0)
        cuts = [cut for part in parts for cut in part["Cuts"]]
        found += segments.shots(cuts, int(metadata["Frames"]), rate, confidence)
    if "TECHNICAL_CUE" in wanted:
        confidence = (filters.get("TechnicalCueFilter") or {}).get("MinSegmentConfidence", 80.0)
        cues = segments.black_frames([run for part in parts for run in part["Black"]], rate, confidence)
        cues += segments.color_bars([bar for part in parts for bar in part.get("Bars", [])], rate, confidence)
        text = sorted((sample for part in parts for sample in part.get("Text", [])), key=lambda s: s["Timestamp"])
        motion = [entry for part in parts for entry in part.get("Motion", [])]
        cues += segments.credits(motion, text, rate, int(metadata["Frames"]), confidence)
        cues += segments.slates([run for part in parts for run in part.get("Still", [])], text, rate, confidence)
        found += cues + segments.content(cues, int(metadata["Frames"]), rate)
    found.sort(key=lambda s: (s["StartTimestampMillis"], s["Type"]))
    versions = {"SHOT": segments.SHOT_MODEL_VERSION, "TECHNICAL_CUE": segments.TECHNICAL_CUE_MODEL_VERSION}
    return {
        "Segments": found,
        "SelectedSegmentTypes": [
            {"Type": kind, "ModelVersion": versions[kind]} for kind in SEGMENT_TYPES if kind in wanted
        ],
    }


def fail_job(event: dict[str, Any]) -> dict[str, Any]:
    """The job FAILED with the caught error's message (a Lambda error's ``errorMessage``)."""
    record = jobs.load(event["JobId"])
    if record.status != "IN_PROGRESS":
        return {"JobId": record.job_id, "Status": record.status}
    error = event.get("Error") or {}
    message = error.get("Cause") or error.get("Error") or "The job failed."
    with contextlib.suppress(ValueError, AttributeError):  # a Lambda error's Cause is its JSON payload
        message = json.loads(message).get("errorMessage") or message
    jobs.complete(record, "FAILED", str(message)[:1000])
    return {"JobId": record.job_id, "Status": "FAILED"}


TRACK_IOU = 0.3


def number_persons(items: list[dict[str, Any]], max_gap: float) -> None:
    """Give each ``Person`` an ``Index`` that stays with them: a face continues the track whose
    last box (seen at most ``max_gap`` ms before) it overlaps most, at IoU 0.3 or more; otherwise
    it starts a new person. Greedy, best overlap first, one face per track per frame; items are
    in timestamp order, across every range of the video."""
    tracks: list[tuple[int, float, dict[str, float]]] = []  # index, last seen, last box
    by_time: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        by_time.setdefault(item["Timestamp"], []).append(item)
    for stamp, faces in by_time.items():
        live = [(i, track) for i, track in enumerate(tracks) if stamp - track[1] <= max_gap]
        pairs = sorted(
            (
                (_iou(face["Person"]["BoundingBox"], track[2]), f, i)
                for f, face in enumerate(faces)
                for i, track in live
            ),
            reverse=True,
        )
        taken_faces: set[int] = set()
        taken_tracks: set[int] = set()
        for overlap, f, i in pairs:
            if overlap < TRACK_IOU:
                break
            if f in taken_faces or i in taken_tracks:
                continue
            taken_faces.add(f)
            taken_tracks.add(i)
            faces[f]["Person"]["Index"] = tracks[i][0]
            tracks[i] = (tracks[i][0], stamp, faces[f]["Person"]["BoundingBox"])
        for f, face in enumerate(faces):
            if f not in taken_faces:
                face["Person"]["Index"] = len(tracks)
                tracks.append((len(tracks), stamp, face["Person"]["BoundingBox"]))


def _iou(a: dict[str, float], b: dict[str, float]) -> float:
    width = min(a["Left"] + a["Width"], b["Left"] + b["Width"]) - max(a["Left"], b["Left"])
    height = min(a["Top"] + a["Height"], b["Top"] + b["Height"]) - max(a["Top"], b["Top"])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a["Width"] * a["Height"] + b["Width"] * b["Height"] - inter)
