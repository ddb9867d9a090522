"""Face Liveness sessions: CreateFaceLivenessSession, GetFaceLivenessSessionResults, and the
state changes the streaming side makes (started, decided).

A session lives ``SESSION_LIFETIME`` (3 minutes, as AWS documents: "a SessionId expires 3 minutes
after it's sent, making all Liveness data associated with the session ... unavailable"). Within
it a client may stream once; after it every session reads ``EXPIRED`` without results, and the
item is left to DynamoDB's TTL a day later (until then Get answers EXPIRED, after it
``SessionNotFoundException``).

Images: with ``Settings.OutputConfig`` the reference and audit images are written to
``s3://<S3Bucket>/<S3KeyPrefix><SessionId>/reference.jpg`` and ``.../audit_images/<n>.jpg`` and
returned as ``S3Object``; without it they are returned as ``Bytes`` (kept in the item, each under
the model's 200 KB ``LivenessImageBlob`` limit).
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from recognito.aws import client, sse_kms
from recognito.errors import AccessDeniedException, InvalidParameterException, SessionNotFoundException
from recognito.idempotency import by_client_request_token
from recognito.storage.tables import LivenessSessionRecord, get_or_raise

SESSION_LIFETIME = timedelta(minutes=3)
RECORD_RETENTION = timedelta(days=1)  # after expiry, until DynamoDB's TTL removes the item
DEFAULT_CHALLENGE = ("FaceMovementAndLightChallenge", "2.0.0")
SUPPORTED_CHALLENGES = {"FaceMovementAndLightChallenge": "2.0.0", "FaceMovementChallenge": "1.0.0"}

CREATED, IN_PROGRESS, SUCCEEDED, FAILED, EXPIRED = "CREATED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "EXPIRED"


def now() -> datetime:
    """The clock sessions expire by (tests move it)."""
    return datetime.now(UTC)


# ---- the API ---------------------------------------------------------------------------------
@by_client_request_token("CreateFaceLivenessSession")
def create_face_liveness_session(request: dict[str, Any]) -> dict[str, Any]:
    """A new session for ``Settings``; the same ``ClientRequestToken`` gets the same session back."""
    settings = request.get("Settings") or {}
    _check_challenges(settings.get("ChallengePreferences") or [])
    output = settings.get("OutputConfig")
    if output:
        _check_bucket(output["S3Bucket"])
    created = now()
    record = LivenessSessionRecord(
        session_id=str(uuid.uuid4()),
        status=CREATED,
        settings=json.dumps(settings, sort_keys=True),
        created=created,
        kms_key_id=request.get("KmsKeyId"),
        expires=int((created + SESSION_LIFETIME + RECORD_RETENTION).timestamp()),
    )
    record.save(condition=LivenessSessionRecord.session_id.does_not_exist())
    return {"SessionId": record.session_id}


def get_face_liveness_session_results(request: dict[str, Any]) -> dict[str, Any]:
    """The session's status and, once decided, its Confidence, reference and audit images."""
    record = load(request["SessionId"])
    status = current_status(record)
    result: dict[str, Any] = {"SessionId": record.session_id, "Status": status}
    if status in (SUCCEEDED, FAILED) and record.results:
        stored = json.loads(record.results)
        result["Confidence"] = stored["Confidence"]
        for key in ("ReferenceImage", "Challenge"):
            if key in stored:
                result[key] = stored[key]
        if stored.get("AuditImages"):
            result["AuditImages"] = stored["AuditImages"]
        for image in [result.get("ReferenceImage"), *result.get("AuditImages", [])]:
            if image and "Bytes" in image:
                image["Bytes"] = base64.b64decode(image["Bytes"])
    elif record.challenge:
        result["Challenge"] = _challenge_summary(json.loads(record.challenge))
    return result


# ---- what the streaming side reads and writes ------------------------------------------------
@dataclass(frozen=True)
class SessionSettings:
    """What a session was created with, as the stream and the decision need it."""

    session_id: str
    audit_images_limit: int
    bucket: str | None
    key_prefix: str
    challenges: tuple[tuple[str, str], ...]  # (type, version) the caller accepts, preferred first
    kms_key_id: str | None = None  # encrypts the images written to the bucket (SSE-KMS)


def load(session_id: str) -> LivenessSessionRecord:
    missing = SessionNotFoundException(f"Session {session_id} was not found.")
    return get_or_raise(LivenessSessionRecord, session_id, missing)


def current_status(record: LivenessSessionRecord) -> str:
    """The stored status, or EXPIRED once the session's 3 minutes are over."""
    if now() >= record.created + SESSION_LIFETIME:
        return EXPIRED
    return record.status


def settings_of(record: LivenessSessionRecord) -> SessionSettings:
    settings = json.loads(record.settings)
    output = settings.get("OutputConfig") or {}
    preferences = settings.get("ChallengePreferences") or [{"Type": DEFAULT_CHALLENGE[0]}]
    return SessionSettings(
        session_id=record.session_id,
        audit_images_limit=int(settings.get("AuditImagesLimit", 0)),
        bucket=output.get("S3Bucket"),
        key_prefix=output.get("S3KeyPrefix", ""),
        challenges=tuple((p["Type"], SUPPORTED_CHALLENGES[p["Type"]]) for p in preferences),
        kms_key_id=record.kms_key_id,
    )


def start(session_id: str, challenge: dict[str, Any]) -> None:
    """Mark a CREATED, unexpired session IN_PROGRESS with the challenge sent; a session streams once."""
    record = load(session_id)
    if current_status(record) != CREATED:
        raise SessionNotFoundException(f"Session {session_id} was not found or has already been used.")
    try:
        record.update(
            actions=[
                LivenessSessionRecord.status.set(IN_PROGRESS),
                LivenessSessionRecord.challenge.set(json.dumps(challenge)),
            ],
            condition=LivenessSessionRecord.status == CREATED,
        )
    except UpdateError:
        raise SessionNotFoundException(f"Session {session_id} has already been used.") from None


def finish(session_id: str, succeeded: bool, results: dict[str, Any]) -> None:
    """Store a decided session's results (images already in S3 or base64 in ``results``)."""
    record = load(session_id)
    record.update(
        actions=[
            LivenessSessionRecord.status.set(SUCCEEDED if succeeded else FAILED),
            LivenessSessionRecord.results.set(json.dumps(results)),
        ],
        condition=LivenessSessionRecord.status == IN_PROGRESS,
    )


def fail(session_id: str) -> None:
    """An IN_PROGRESS session whose stream ended without a decision (client gone, bad video)."""
    with contextlib.suppress(UpdateError, SessionNotFoundException):
        load(session_id).update(
            actions=[LivenessSessionRecord.status.set(FAILED)], condition=LivenessSessionRecord.status == IN_PROGRESS
        )


def store_image(settings: SessionSettings, name: str, jpeg: bytes, box: dict[str, float]) -> dict[str, Any]:
    """An ``AuditImage``: the JPEG in the caller's bucket when configured (SSE-KMS under the
    session's ``KmsKeyId`` when it has one), else its bytes (base64)."""
    if settings.bucket is None:
        return {"Bytes": base64.b64encode(jpeg).decode("ascii"), "BoundingBox": box}
    from botocore.exceptions import ClientError

    key = f"{settings.key_prefix}{settings.session_id}/{name}.jpg"
    try:
        written = client("s3").put_object(
            Bucket=settings.bucket, Key=key, Body=jpeg, ContentType="image/jpeg", **sse_kms(settings.kms_key_id)
        )
    except ClientError as error:  # the bucket's policy or the key refuses: the caller's to fix
        code = error.response["Error"]["Code"]
        raise AccessDeniedException(f"Unable to write s3://{settings.bucket}/{key}: {code}.") from None
    s3_object = {"Bucket": settings.bucket, "Name": key}
    if written.get("VersionId"):
        s3_object["Version"] = written["VersionId"]
    return {"S3Object": s3_object, "BoundingBox": box}


# ---- checks ----------------------------------------------------------------------------------
def _check_challenges(preferences: list[dict[str, Any]]) -> None:
    """Each preferred challenge must be one this server gives in a version within its range."""
    for preference in preferences:
        version = SUPPORTED_CHALLENGES[preference["Type"]]
        versions = preference.get("Versions") or {}
        low, high = versions.get("Minimum"), versions.get("Maximum")
        if low and high and _semver(low) > _semver(high):
            raise InvalidParameterException(f"Versions.Minimum {low} is above Versions.Maximum {high}.")
        if (low and _semver(version) < _semver(low)) or (high and _semver(version) > _semver(high)):
            raise InvalidParameterException(
                f"No supported version of {preference['Type']} in [{low or '-'}, {high or '-'}]; supported: {version}."
            )


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _check_bucket(bucket: str) -> None:
    """The output bucket must be reachable now, not fail the session at its end."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        boto3.client("s3").head_bucket(Bucket=bucket)
    except ClientError:
        raise AccessDeniedException(f"Unable to access the S3 bucket {bucket} of OutputConfig.") from None


def _challenge_summary(challenge: dict[str, Any]) -> dict[str, str]:
    return {"Type": challenge["Type"], "Version": challenge["Version"]}
