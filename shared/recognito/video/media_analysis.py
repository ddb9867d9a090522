"""Media analysis (bulk) jobs: DetectModerationLabels on every image an S3 manifest lists.

StartMediaAnalysisJob records the job (in the video jobs' table: the same record, idempotency,
concurrency limit and restart handling) and starts ``statemachines/media_analysis.asl.json``:

- ``read_manifest``: the JSON Lines manifest (``{"source-ref": "s3://bucket/key"}`` a line), its
  lines checked, the job IN_PROGRESS, the valid lines split into batches for the Map state;
- ``moderate_batch`` (one Map item): DetectModerationLabels' own service on each image of a batch,
  so a line's result is exactly what that operation answers for the image;
- ``write_outputs``: the output manifest (each valid line with its ``detect-moderation-labels``)
  and the manifest summary (statistics and per-line errors) written under
  ``OutputConfig.S3Bucket/S3KeyPrefix/<JobId>/``, as Rekognition's bulk analysis documents them;
- ``fail_analysis``: every Catch's target, the job FAILED with a ``FailureDetails`` code.

A line that is not JSON, has no ``s3://`` ``source-ref``, or names an image DetectModerationLabels
refuses (missing, too large, not JPEG/PNG) is an invalid line: counted and listed in the summary's
errors, the job still SUCCEEDED. A manifest with no valid line ends the job FAILED with
INVALID_MANIFEST.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from recognito.aws import sse_kms
from recognito.errors import (
    AccessDeniedException,
    InvalidPaginationTokenException,
    InvalidS3ObjectException,
    LimitExceededException,
    RekognitionError,
    ResourceNotFoundException,
)
from recognito.idempotency import by_client_request_token
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage.tables import VideoJobRecord
from recognito.video import jobs

API = "StartMediaAnalysisJob"
BATCH_IMAGES = 100  # images per Map item: DetectModerationLabels at ~0.2 s an image, ~20 s a batch
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_MANIFEST_LINES = 100_000
LIST_PAGE_SIZE = 100
RESULTS_NAME = "results.jsonl"
SUMMARY_NAME = "manifest-summary.json"
ENDED = ("SUCCEEDED", "FAILED")


class InvalidManifestException(RekognitionError):
    """The manifest cannot be used (StartMediaAnalysisJob's InvalidManifestException)."""


class InvalidOutputConfig(RekognitionError):
    """The output location cannot be written (the job's INVALID_OUTPUT_CONFIG)."""


class InvalidKmsKey(RekognitionError):
    """The KMS key cannot encrypt the outputs (the job's INVALID_KMS_KEY)."""


FAILURE_CODES = {
    "InvalidManifestException": "INVALID_MANIFEST",
    "InvalidS3ObjectException": "INVALID_S3_OBJECT",
    "InvalidOutputConfig": "INVALID_OUTPUT_CONFIG",
    "InvalidKmsKey": "INVALID_KMS_KEY",
    "AccessDeniedException": "ACCESS_DENIED",
    "ResourceNotFoundException": "RESOURCE_NOT_FOUND",
    "ResourceNotReadyException": "RESOURCE_NOT_READY",
    "ThrottlingException": "THROTTLED",
    "ProvisionedThroughputExceededException": "THROTTLED",
}
"""A worker's error type to the job's FailureDetails Code; anything else is INTERNAL_ERROR."""


def state_machine_arn() -> str:
    config = settings()
    return config.media_analysis_state_machine or (
        f"arn:{config.partition}:states:{config.region}:{config.account_id}:stateMachine:"
        f"{config.table_prefix}-media-analysis"
    )


# ---- StartMediaAnalysisJob -----------------------------------------------------------------------


@by_client_request_token(API)
def start_media_analysis_job(request: dict[str, Any]) -> dict[str, Any]:
    """Check the request, record the job and start its execution: ``{"JobId": ...}``."""
    config = (request.get("OperationsConfig") or {}).get("DetectModerationLabels") or {}
    if config.get("ProjectVersion"):  # an adapter: DetectModerationLabels' checks, before any image
        from recognito.custom_labels.versions import adapter_record

        adapter_record(config["ProjectVersion"])
    _check_manifest(request["Input"]["S3Object"])
    limit = int(settings().max_video_jobs)
    if VideoJobRecord.by_running.count(jobs.RUNNING, limit=limit) >= limit:
        raise LimitExceededException(f"There are already {limit} jobs in progress")
    job_id = uuid.uuid4().hex + uuid.uuid4().hex
    record = VideoJobRecord(
        job_id,
        api=API,
        status="CREATED",
        request=json.dumps(request, sort_keys=True),
        created=datetime.now(UTC),
        running=jobs.RUNNING,
    )
    record.save()
    jobs.client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn(), name=job_id, input=json.dumps({"JobId": job_id, "Api": API})
    )
    with contextlib.suppress(UpdateError):  # unless the execution's first state came first (IN_PROGRESS)
        record.update(actions=[VideoJobRecord.status.set("QUEUED")], condition=VideoJobRecord.status == "CREATED")
    return {"JobId": job_id}


def _check_manifest(s3_object: dict[str, Any]) -> None:
    """The manifest is an object this service can read, of at most ``MAX_MANIFEST_BYTES``."""
    from botocore.exceptions import ClientError, ParamValidationError

    params = jobs.s3_object_params(s3_object)
    try:
        head = jobs.client("s3").head_object(**params)
    except ParamValidationError:
        raise InvalidS3ObjectException(jobs.S3_ACCESS_MESSAGE) from None
    except ClientError as error:
        if error.response["Error"]["Code"] in ("403", "AccessDenied"):
            raise AccessDeniedException("Access denied to the input manifest") from None
        raise InvalidS3ObjectException(jobs.S3_ACCESS_MESSAGE) from None
    if int(head["ContentLength"]) > MAX_MANIFEST_BYTES:
        raise InvalidManifestException(f"The manifest is larger than {MAX_MANIFEST_BYTES} bytes")


# ---- the workers ---------------------------------------------------------------------------------


def _entry(number: int, line: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A manifest line as ``(entry, None)`` or ``(None, error)``; ``number`` counts from 1."""
    try:
        value = json.loads(line)
    except ValueError:
        return None, {"line-number": number, "code": "INVALID_JSON_LINE", "message": "The line is not JSON."}
    source = value.get("source-ref") if isinstance(value, dict) else None
    if not isinstance(source, str) or not source.startswith("s3://") or "/" not in source[5:]:
        error = {"line-number": number, "code": "INVALID_SOURCE_REF"}
        return None, error | {"message": 'The line has no "source-ref" of the form s3://bucket/key.'}
    bucket, _, key = source[5:].partition("/")
    if not bucket or not key:
        return None, {"line-number": number, "source-ref": source, "code": "INVALID_SOURCE_REF", "message": "No key."}
    return {"line-number": number, "source-ref": source, "Bucket": bucket, "Name": key}, None


def read_manifest(event: dict[str, Any]) -> dict[str, Any]:
    """Mark the job IN_PROGRESS, check the manifest's lines and list the batches of valid ones."""
    from botocore.exceptions import ClientError

    record = jobs.load(event["JobId"])
    if record.status in ENDED:  # an execution replayed after it ended: nothing to do
        return {"JobId": record.job_id, "Batches": []}
    record.update(actions=[VideoJobRecord.status.set("IN_PROGRESS")])
    request = jobs.job_request(record)
    try:
        body = jobs.client("s3").get_object(**jobs.s3_object_params(request["Input"]["S3Object"]))["Body"].read()
    except ClientError:
        raise InvalidS3ObjectException(jobs.S3_ACCESS_MESSAGE) from None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidManifestException("The manifest is not UTF-8 text.") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) > MAX_MANIFEST_LINES:
        raise InvalidManifestException(f"The manifest has more than {MAX_MANIFEST_LINES} lines.")
    entries, errors = [], []
    for number, line in lines:
        entry, error = _entry(number, line)
        if entry is not None:
            entries.append(entry)
        else:
            errors.append(error)
    if not entries:
        raise InvalidManifestException("The manifest lists no image (no line has a valid source-ref).")
    state = {"Total": len(lines), "Entries": entries, "Errors": errors}
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=_manifest_key(record.job_id), Body=json.dumps(state))
    batches = [
        {"JobId": record.job_id, "Index": i, "First": first, "End": min(first + BATCH_IMAGES, len(entries))}
        for i, first in enumerate(range(0, len(entries), BATCH_IMAGES))
    ]
    return {"JobId": record.job_id, "Batches": batches}


def _manifest_key(job_id: str) -> str:
    return f"jobs/{job_id}/manifest.json"


def _part_key(job_id: str, index: int) -> str:
    return f"jobs/{job_id}/parts/{index:06d}.json"


def _read_json(key: str) -> Any:
    return json.loads(jobs.client("s3").get_object(Bucket=jobs.bucket(), Key=key)["Body"].read())


def moderate_batch(event: dict[str, Any]) -> dict[str, Any]:
    """DetectModerationLabels on the batch's images: each line's response, or its error."""
    from recognito.custom_labels.moderation import detect_moderation_labels

    record = jobs.load(event["JobId"])
    request = jobs.job_request(record)
    config = (request.get("OperationsConfig") or {}).get("DetectModerationLabels") or {}
    options = {key: config[key] for key in ("MinConfidence", "ProjectVersion") if key in config}
    entries = _read_json(_manifest_key(record.job_id))["Entries"][int(event["First"]) : int(event["End"])]
    results, errors = [], []
    for entry in entries:
        image = {"S3Object": {"Bucket": entry["Bucket"], "Name": entry["Name"]}}
        try:
            found = detect_moderation_labels({"Image": image, **options})
        except RekognitionError as error:  # this image, not the job: one line of the summary's errors
            where = {"line-number": entry["line-number"], "source-ref": entry["source-ref"]}
            errors.append(where | {"code": error.code, "message": error.message})
            continue
        results.append({"source-ref": entry["source-ref"], "detect-moderation-labels": found})
    key = _part_key(record.job_id, int(event["Index"]))
    part = json.dumps({"Results": results, "Errors": errors})
    jobs.client("s3").put_object(Bucket=jobs.bucket(), Key=key, Body=part)
    return {"JobId": record.job_id, "Index": event["Index"], "Key": key}


def output_prefix(request: dict[str, Any], job_id: str) -> str:
    prefix = (request["OutputConfig"].get("S3KeyPrefix") or "").strip("/")
    return f"{prefix}/{job_id}/" if prefix else f"{job_id}/"


def write_outputs(event: dict[str, Any]) -> dict[str, Any]:
    """The output manifest and its summary into the job's output location; the job SUCCEEDED."""
    from recognito.analysis.moderation import taxonomy

    record = jobs.load(event["JobId"])
    if record.status in ENDED:
        return {"JobId": record.job_id, "Status": record.status}
    request = jobs.job_request(record)
    state = _read_json(_manifest_key(record.job_id))
    parts = [_read_json(part["Key"]) for part in sorted(event["Parts"], key=lambda part: part["Index"])]
    results = [line for part in parts for line in part["Results"]]
    errors = sorted(state["Errors"] + [e for part in parts for e in part["Errors"]], key=lambda e: e["line-number"])
    summary = {
        "version": "1.0",
        "statistics": {
            "total-json-lines": state["Total"],
            "valid-json-lines": len(results),
            "invalid-json-lines": state["Total"] - len(results),
        },
        "errors": errors,
    }
    prefix = output_prefix(request, record.job_id)
    body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in results)
    outputs = {
        "Results": _put_output(request, prefix + RESULTS_NAME, body.encode()),
        "ManifestSummary": _put_output(request, prefix + SUMMARY_NAME, json.dumps(summary, indent=2).encode()),
    }
    outputs["Results"] = {"S3Object": outputs["Results"], "ModelVersions": {"Moderation": taxonomy()["model_version"]}}
    outputs["ManifestSummary"] = {"S3Object": outputs["ManifestSummary"]}
    jobs.save_results(record, outputs)
    jobs.complete(record, "SUCCEEDED")
    s3 = jobs.client("s3")
    for key in [_manifest_key(record.job_id), *(part["Key"] for part in event["Parts"])]:
        s3.delete_object(Bucket=jobs.bucket(), Key=key)
    return {"JobId": record.job_id, "Status": "SUCCEEDED"}


def _put_output(request: dict[str, Any], key: str, body: bytes) -> dict[str, str]:
    """One output object, KMS-encrypted with the job's key when it names one: its S3Object."""
    from botocore.exceptions import ClientError

    bucket = request["OutputConfig"]["S3Bucket"]
    try:
        response = jobs.client("s3").put_object(Bucket=bucket, Key=key, Body=body, **sse_kms(request.get("KmsKeyId")))
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code.startswith("KMS") or "kms" in str(error).lower():
            raise InvalidKmsKey(f"The KMS key {request['KmsKeyId']} cannot encrypt the outputs: {code}") from None
        raise InvalidOutputConfig(f"Cannot write s3://{bucket}/{key}: {code}") from None
    s3_object = {"Bucket": bucket, "Name": key}
    if response.get("VersionId"):
        s3_object["Version"] = response["VersionId"]
    return s3_object


def fail_analysis(event: dict[str, Any]) -> dict[str, Any]:
    """The job FAILED with the caught error's FailureDetails (a Lambda error's type and message)."""
    record = jobs.load(event["JobId"])
    if record.status in ENDED:
        return {"JobId": record.job_id, "Status": record.status}
    error = event.get("Error") or {}
    kind, message = error.get("Error") or "", error.get("Cause") or "The job failed."
    try:  # a Lambda error's Cause is its JSON payload
        payload = json.loads(message)
        kind, message = payload.get("errorType") or kind, payload.get("errorMessage") or message
    except (ValueError, AttributeError):
        pass
    record.failure_code = FAILURE_CODES.get(kind, "INTERNAL_ERROR")
    jobs.complete(record, "FAILED", str(message)[:1000])
    return {"JobId": record.job_id, "Status": "FAILED"}


# ---- GetMediaAnalysisJob / ListMediaAnalysisJobs -------------------------------------------------


def describe(record: VideoJobRecord) -> dict[str, Any]:
    """The job as a MediaAnalysisJobDescription."""
    request = jobs.job_request(record)
    found: dict[str, Any] = {
        "JobId": record.job_id,
        "OperationsConfig": request["OperationsConfig"],
        "Status": record.status,
        "CreationTimestamp": record.created,
        "Input": request["Input"],
        "OutputConfig": request["OutputConfig"],
    }
    for member in ("JobName", "KmsKeyId"):
        if request.get(member):
            found[member] = request[member]
    if record.completed is not None:
        found["CompletionTimestamp"] = record.completed
    if record.status == "FAILED":
        found["FailureDetails"] = {"Code": record.failure_code or "INTERNAL_ERROR", "Message": record.status_message}
    if record.status == "SUCCEEDED":
        found |= jobs.results(record)
    return found


def get_media_analysis_job(request: dict[str, Any]) -> dict[str, Any]:
    record = jobs.load(request["JobId"])
    if record.api != API:
        raise ResourceNotFoundException(f"Job {record.job_id} not found")
    return describe(record)


def list_media_analysis_jobs(request: dict[str, Any]) -> dict[str, Any]:
    """The jobs newest first (by CreationTimestamp), a page at a time."""
    records = sorted(VideoJobRecord.scan(VideoJobRecord.api == API), key=lambda r: (r.created, r.job_id), reverse=True)
    offset = 0
    if request.get("NextToken"):
        position = decode_token("ListMediaAnalysisJobs", request["NextToken"])
        # The token holds the last job listed: later pages stay right as new jobs are started.
        offset = next((i + 1 for i, r in enumerate(records) if [r.created.isoformat(), r.job_id] == position), None)
        if offset is None:
            raise InvalidPaginationTokenException("Invalid pagination token provided")
    size = int(request.get("MaxResults") or LIST_PAGE_SIZE)
    page = records[offset : offset + size]
    response: dict[str, Any] = {"MediaAnalysisJobs": [describe(record) for record in page]}
    if offset + size < len(records):
        last = page[-1]
        response["NextToken"] = encode_token("ListMediaAnalysisJobs", [last.created.isoformat(), last.job_id])
    return response
