"""Stored video jobs: Start* records a job and starts the state machine; Get* pages its results.

Each Start*/Get* pair of Rekognition Video is one ``Analysis`` here (what to run, how its results
are shaped); the flow is the same for all: ``statemachines/video_jobs.asl.json`` probes the
video, analyses it range by range, aggregates, and ends in ``finish`` or ``fail`` below, which
mark the job and publish Rekognition's completion message to the job's SNS topic.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from recognito.aws import client
from recognito.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    InvalidS3ObjectException,
    LimitExceededException,
    ResourceNotFoundException,
    VideoTooLargeException,
)
from recognito.idempotency import by_client_request_token
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage.tables import VideoJobRecord, get_or_raise

MAX_RESULTS = 1000
RUNNING = "1"
SAMPLES_PER_SECOND = {
    "StartLabelDetection": 2.0,
    "StartFaceDetection": 5.0,
    "StartContentModeration": 2.0,
    "StartTextDetection": 1.0,
    "StartFaceSearch": 2.0,
    "StartPersonTracking": 5.0,
    "StartCelebrityRecognition": 2.0,
}
"""Frames analysed per second of video; segment detection looks at every frame."""
MAX_VIDEO_BYTES = 10 * 1024**3
INLINE_RESULTS_BYTES = 300_000  # compressed; an item may hold 400 KB in all
S3_ACCESS_MESSAGE = "Unable to get object metadata from S3. Check object key, region and/or access permissions."
UNSUPPORTED_MESSAGE = "Unsupported codec/format."
# The first box of an MP4 or MOV file (ISO/IEC 14496-12; QuickTime files may open with any of these).
_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


def state_machine_arn() -> str:
    config = settings()
    return config.video_state_machine or (
        f"arn:{config.partition}:states:{config.region}:{config.account_id}:stateMachine:{config.table_prefix}-video-jobs"
    )


def bucket() -> str:
    config = settings()
    return config.video_bucket or f"{config.table_prefix}-video-jobs"


# ---- Start* --------------------------------------------------------------------------------------


def start_job(api: str, request: dict[str, Any]) -> dict[str, Any]:
    """Check the video, record the job IN_PROGRESS and start its execution: ``{"JobId": ...}``."""
    _check_video(request["Video"])
    limit = int(settings().max_video_jobs)
    if VideoJobRecord.by_running.count(RUNNING, limit=limit) >= limit:
        raise LimitExceededException(f"There are already {limit} video jobs in progress")
    job_id = uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex digits, as Rekognition's JobIds
    record = VideoJobRecord(
        job_id,
        api=api,
        status="IN_PROGRESS",
        request=json.dumps(request, sort_keys=True),
        created=datetime.now(UTC),
        job_tag=request.get("JobTag"),
        running=RUNNING,
    )
    record.save()
    client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn(), name=job_id, input=json.dumps({"JobId": job_id, "Api": api})
    )
    return {"JobId": job_id}


def starter(
    api: str, check: Callable[[dict[str, Any]], object] | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The service of Start<api>: idempotent on ClientRequestToken; ``check`` refuses a request
    before anything is recorded (a missing collection, say)."""

    @by_client_request_token(api)
    def start(request: dict[str, Any]) -> dict[str, Any]:
        if check is not None:
            check(request)
        return start_job(api, request)

    start.__name__ = start.__qualname__ = api
    return start


def s3_object_params(s3_object: dict[str, Any] | None) -> dict[str, str]:
    """An ``S3Object`` member as S3's ``Bucket``/``Key``/``VersionId``; one without both names cannot be read."""
    s3_object = s3_object or {}
    if not s3_object.get("Bucket") or not s3_object.get("Name"):
        raise InvalidS3ObjectException(S3_ACCESS_MESSAGE)
    params = {"Bucket": s3_object["Bucket"], "Key": s3_object["Name"]}
    if s3_object.get("Version"):
        params["VersionId"] = s3_object["Version"]
    return params


def _check_video(video: dict[str, Any]) -> None:
    """The object exists, is at most 10 GB and opens like an MP4/MOV file; the codec is the probe's."""
    from botocore.exceptions import ClientError, ParamValidationError

    params = s3_object_params((video or {}).get("S3Object"))
    try:
        response = client("s3").get_object(Range="bytes=0-11", **params)
        head = response["Body"].read()
    except (ClientError, ParamValidationError):
        raise InvalidS3ObjectException(S3_ACCESS_MESSAGE) from None
    size = int(response.get("ContentRange", "/0").rpartition("/")[2] or 0)
    if size > MAX_VIDEO_BYTES:
        raise VideoTooLargeException(f"Video size of {size} bytes exceeds the maximum of {MAX_VIDEO_BYTES} bytes")
    if len(head) < 8 or head[4:8] not in _MP4_BOXES:
        raise InvalidParameterException(UNSUPPORTED_MESSAGE)


# ---- the job's record, as the workers see it -----------------------------------------------------


def load(job_id: str) -> VideoJobRecord:
    return get_or_raise(VideoJobRecord, job_id, ResourceNotFoundException(f"Job {job_id} not found"))


def job_request(record: VideoJobRecord) -> dict[str, Any]:
    return json.loads(record.request)


def save_results(record: VideoJobRecord, results: Any) -> None:
    """Findings inline when they fit an item comfortably, else to S3."""
    data = zlib.compress(json.dumps(results, separators=(",", ":")).encode(), 6)
    if len(data) <= INLINE_RESULTS_BYTES:
        record.results, record.results_key = data, None
    else:
        key = f"jobs/{record.job_id}/results.json.z"
        client("s3").put_object(Bucket=bucket(), Key=key, Body=data)
        record.results, record.results_key = None, key


@cache
def _results_from_s3(key: str) -> Any:
    # Results never change once written: one read per process, whatever the number of pages.
    data = client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read()
    return json.loads(zlib.decompress(data))


def results(record: VideoJobRecord) -> Any:
    if record.results_key:
        return _results_from_s3(record.results_key)
    return json.loads(zlib.decompress(record.results)) if record.results else None


def complete(record: VideoJobRecord, status: str, message: str | None = None) -> None:
    """Mark the job SUCCEEDED or FAILED and tell its SNS topic, in Rekognition's words."""
    record.status = status
    record.running = None
    record.status_message = message
    record.completed = datetime.now(UTC)
    record.save()
    request = job_request(record)
    channel = request.get("NotificationChannel")
    if channel and channel.get("SNSTopicArn"):
        s3_object = request["Video"]["S3Object"]
        message_body = {
            "JobId": record.job_id,
            "Status": status,
            "API": record.api,
            "JobTag": record.job_tag,
            "Timestamp": int(record.completed.timestamp() * 1000),
            "Video": {"S3ObjectName": s3_object["Name"], "S3Bucket": s3_object["Bucket"]},
        }
        client("sns").publish(TopicArn=channel["SNSTopicArn"], Message=json.dumps(message_body))


def audio_metadata(record: VideoJobRecord) -> list[dict[str, Any]]:
    return json.loads(record.video_metadata)["Audio"] if record.video_metadata else []


# ---- Get* ----------------------------------------------------------------------------------------


def get_job(
    api: str,
    request: dict[str, Any],
    items: Callable[[Any, dict[str, Any]], list[dict[str, Any]]],
    member: str,
) -> tuple[dict[str, Any], VideoJobRecord, Any]:
    """The members every Get* answer has, and a page of ``member`` from ``items(results, request)``.

    Returns the response, the job and its results, for the operation's own members."""
    record = load(request["JobId"])
    if record.api != api:
        raise ResourceNotFoundException(f"Job {record.job_id} not found")
    response: dict[str, Any] = {"JobStatus": record.status, "JobId": record.job_id}
    start_request = job_request(record)
    response["Video"] = start_request["Video"]
    if record.job_tag is not None:
        response["JobTag"] = record.job_tag
    if record.status_message:
        response["StatusMessage"] = record.status_message
    metadata = json.loads(record.video_metadata) if record.video_metadata else None
    if metadata:
        response["VideoMetadata"] = metadata["Video"]
    found = results(record) if record.status == "SUCCEEDED" else None
    if found is None:
        return response, record, None
    listing = items(found, request)
    scope = f"{api}:{record.job_id}:{request.get('SortBy', '')}:{request.get('AggregateBy', '')}"
    offset = decode_token(scope, request["NextToken"]) if request.get("NextToken") else 0
    if not isinstance(offset, int) or not 0 <= offset <= len(listing):
        raise InvalidPaginationTokenException("Invalid pagination token provided")
    size = min(int(request.get("MaxResults") or MAX_RESULTS), MAX_RESULTS)
    response[member] = listing[offset : offset + size]
    if offset + size < len(listing):
        response["NextToken"] = encode_token(scope, offset + size)
    return response, record, found
