"""The VideoDecode worker: probe a job's video and split it into ranges; decode one range.

A range is analysed where it is decoded when the analysis is numpy on every frame (segments); for
the analyses that run models on sampled frames (labels, faces), the sampled frames go to S3 as
JPEG in one zip per range, for the function that carries those models (PyAV and ONNX Runtime
together pass Lambda's 250 MB).
"""

from __future__ import annotations

import io
import json
import zipfile
from fractions import Fraction
from typing import Any

import numpy as np

from recognito.errors import InvalidParameterException, VideoTooLargeException
from recognito.video import jobs, media, segments

RANGE_SECONDS = 120  # decoding and analysing 2 min of 1080p stays far within Lambda's 900 s
JPEG_QUALITY = 92
SAMPLE_MAX_SIDE = {"StartTextDetection": 1920}
"""Sampled frames are scaled down to this long side (960 unless listed): the label and moderation
models look at 416 px and less, and the face detector then runs one pass instead of two on 1080p
(faces from about 40 px tall in 1080p video are found, 20 px in the sample); text keeps 1080p."""
DEFAULT_SAMPLE_MAX_SIDE = 960


class S3Video(io.RawIOBase):
    """The job's video read straight from S3 with ranged GETs, for PyAV: a range's worker reads
    the container index and its own stretch of the file, never the whole video (up to 10 GB,
    more than a Lambda's /tmp). Wrapped in a BufferedReader of ``READ_BLOCK`` bytes."""

    def __init__(self, s3_object: dict[str, Any]) -> None:
        self._params = {"Bucket": s3_object["Bucket"], "Key": s3_object["Name"]}
        if s3_object.get("Version"):
            self._params["VersionId"] = s3_object["Version"]
        self._size = int(jobs.client("s3").head_object(**self._params)["ContentLength"])
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size or not len(buffer):
            return 0
        last = min(self._size, self._position + len(buffer)) - 1
        body = jobs.client("s3").get_object(Range=f"bytes={self._position}-{last}", **self._params)["Body"]
        data = body.read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


READ_BLOCK = 8 * 1024 * 1024


def open_video(s3_object: dict[str, Any]) -> io.BufferedReader:
    return io.BufferedReader(S3Video(s3_object), buffer_size=READ_BLOCK)


def probe_video(event: dict[str, Any]) -> dict[str, Any]:
    """Read the video's metadata into the job and list the ranges for the Map state."""
    record = jobs.load(event["JobId"])
    if record.status != "IN_PROGRESS":  # ended already (an execution replayed after a restart): no work
        return {"JobId": record.job_id, "Api": record.api, "Ranges": []}
    request = jobs.job_request(record)
    with open_video(request["Video"]["S3Object"]) as source:
        found = media.probe(source)
    if found.duration_millis > media.MAX_DURATION_MILLIS:
        raise VideoTooLargeException("Video duration exceeds the maximum of 6 hours")
    record.video_metadata = json.dumps({"Video": found.video, "Audio": found.audio, "Frames": found.frame_count})
    record.save()
    step = int(RANGE_SECONDS * found.frame_rate)
    bounds = range(0, max(found.frame_count, 1), step)
    ranges = [
        {
            "JobId": record.job_id,
            "Api": record.api,
            "Index": i,
            "First": first,
            "End": min(first + step, found.frame_count),
        }
        for i, first in enumerate(bounds)
    ]
    return {"JobId": record.job_id, "Api": record.api, "Ranges": ranges}


def decode_range(event: dict[str, Any]) -> dict[str, Any]:
    """Decode frames ``First`` .. ``End - 1``: scan them for segments, or sample them for a model."""
    record = jobs.load(event["JobId"])
    request = jobs.job_request(record)
    metadata = json.loads(record.video_metadata)["Video"]
    rate = Fraction(metadata["FrameRate"]).limit_denominator(1001)
    first, end, index = int(event["First"]), int(event["End"]), int(event["Index"])
    with open_video(request["Video"]["S3Object"]) as source:
        if record.api == "StartSegmentDetection":
            found, text_frames = _scan(source, rate, first, end, request, metadata["ColorRange"])
            body = json.dumps(found).encode()
            key = f"jobs/{record.job_id}/parts/{index:06d}.json"
            if text_frames is not None:  # frames that may hold credits: the text detector's next
                frames_key = f"jobs/{record.job_id}/frames/{index:06d}.zip"
                jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=frames_key, Body=text_frames)
                jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=body)
                return {"JobId": record.job_id, "Api": record.api, "Index": index, "Key": frames_key, "Frames": True}
        elif record.api in jobs.SAMPLES_PER_SECOND:
            max_side = SAMPLE_MAX_SIDE.get(record.api, DEFAULT_SAMPLE_MAX_SIDE)
            body = _sample(source, rate, first, end, jobs.SAMPLES_PER_SECOND[record.api], max_side)
            key = f"jobs/{record.job_id}/frames/{index:06d}.zip"
        else:
            raise InvalidParameterException(f"{record.api} is not a video analysis")
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=body)
    return {"JobId": record.job_id, "Api": record.api, "Index": index, "Key": key}


def _scan(
    source: media.Source, rate: Fraction, first: int, end: int, request: dict[str, Any], color_range: str
) -> tuple[dict[str, Any], bytes | None]:
    """The range's cuts, black runs, still runs and colour bar frames; and, when technical cues
    are asked for, a zip of the frames that may show credits (light detail on a dark picture) or a
    slate (still, early in the video), sampled ``CREDITS_SAMPLES_PER_SECOND``, for the text
    detector (None when there are none)."""
    black = ((request.get("Filters") or {}).get("TechnicalCueFilter") or {}).get("BlackFrame") or {}
    threshold = black.get("MaxPixelThreshold", segments.DEFAULT_MAX_PIXEL_THRESHOLD)
    coverage = black.get("MinCoveragePercentage", segments.DEFAULT_MIN_COVERAGE)
    max_value = segments.max_black_value(threshold, color_range)
    scan = segments.RangeScan()
    previous = None
    cues = "TECHNICAL_CUE" in (request.get("SegmentTypes") or ["TECHNICAL_CUE"])
    wanted = media.sample_numbers(rate, first, end, segments.CREDITS_SAMPLES_PER_SECOND) if cues else set()
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED)
    sampled = 0
    slate_frames = segments.SLATE_WINDOW_SECONDS * rate
    last_profile: tuple[int, np.ndarray] | None = None  # the frame before's luma row profile, if a candidate
    # One frame of warm-up: a cut on this range's first frame is this range's to find.
    for frame in media.frames(source, rate, first, end, warmup=1):
        luma = frame.luma()
        thumb = frame.thumbnail(segments.BLOCK)
        # Credits' motion from the frame before, the warm-up frame included (no gap at range borders).
        candidate = cues and segments.may_show_credits(thumb)
        profile = luma.mean(axis=1, dtype=np.float32) if candidate else None
        if frame.number >= first and profile is not None and last_profile and last_profile[0] == frame.number - 1:
            shift, correlation = segments.vertical_motion(last_profile[1], profile)
            scan.motion.append([frame.number, round(shift / profile.size, 6), correlation])
        last_profile = (frame.number, profile) if profile is not None else None
        if frame.number >= first:
            black = segments.is_black(luma, thumb, max_value, coverage, color_range)
            layout = segments.bars_layout(thumb)  # most frames stop here: colours only for candidates
            bars = segments.color_bars_match(frame.rgb_thumbnail(segments.BLOCK), layout) if layout else 0.0
            still = scan.add(frame.number, thumb, previous, black, bars)
            slate = (  # a still card, early on: a slate?
                cues
                and still
                and not black
                and frame.number < slate_frames
                and segments.backdrop_share(thumb) >= segments.SLATE_MIN_BACKDROP
            )
            if (candidate or slate) and frame.number in wanted:
                jpeg = io.BytesIO()
                frame.sample_image(DEFAULT_SAMPLE_MAX_SIDE).save(jpeg, "JPEG", quality=JPEG_QUALITY)
                archive.writestr(f"{frame.timestamp_millis:012d}.jpg", jpeg.getvalue())
                sampled += 1
        previous = thumb
    archive.close()
    return scan.to_json(), buffer.getvalue() if sampled else None


def _sample(source: media.Source, rate: Fraction, first: int, end: int, per_second: float, max_side: int) -> bytes:
    """The sampled frames as ``<timestamp ms>.jpg`` entries of one zip."""
    wanted = media.sample_numbers(rate, first, end, per_second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for frame in media.frames(source, rate, first, end):
            if frame.number in wanted:
                jpeg = io.BytesIO()
                frame.sample_image(max_side).save(jpeg, "JPEG", quality=JPEG_QUALITY)
                archive.writestr(f"{frame.timestamp_millis:012d}.jpg", jpeg.getvalue())
    return buffer.getvalue()
