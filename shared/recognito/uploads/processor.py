"""The upload function: SQS batches of S3 notifications -> the operations the upload rules name.

For every SQS record, every object it announces and every rule that matches the object:

1. the rule's request is built (``Image.S3Object`` naming the object and its version) and
   validated against botocore's model, as an API request would be;
2. the operation's own service runs (``rules.resolve_service``: the function the API handler
   calls), and the response, serialized as the API would answer it, goes to the rule's result key;
3. the outcome goes to the uploads table (``UploadRecord``): SUCCEEDED with face ids, result
   key and a summary, or FAILED with the error.

Steps 1-3 are idempotent per (bucket, key, version id or ETag, rule) with Powertools
idempotency: S3 and SQS deliver at least once, and a duplicate gets the stored outcome without
running again. A failed record is reported in ``batchItemFailures`` (Powertools
``BatchProcessor``), so SQS retries just that message and, after the queue's ``maxReceiveCount``,
moves it to the dead-letter queue: a failure is retried, recorded, and never dropped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from recognito.errors import RekognitionError
from recognito.idempotency import idempotency_table_name
from recognito.logs import structured_logger
from recognito.uploads.events import CreatedObject, created_objects
from recognito.uploads.rules import Rule, parse_rules, resolve_service, rules_from_environment

IDEMPOTENCY_SECONDS = 7 * 24 * 3600
"""How long a processed object version is remembered: longer than SQS keeps a message (4 days by
default), so no redelivery of it can run twice."""

SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"

# The upload functions' own logger, as recognito.protocol's is the API functions': a child with no
# parent in the process refuses append_keys (OrphanedChildLoggerError) on the first batch.
logger = structured_logger()
# A batch whose every record failed is answered like any other (all ids listed) rather than
# raised: SQS treats both the same, and the local endpoint reads one shape.
_batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class UploadFailed(Exception):
    """Some rule failed on some object of an SQS record: the record goes back to the queue."""


def process_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler's body: ``{"batchItemFailures": [...]}`` for the records that failed."""
    _config().register_lambda_context(context)
    logger.append_keys(operation="S3Upload", request_id=getattr(context, "aws_request_id", None))
    return process_partial_response(event=event, record_handler=process_record, processor=_batch, context=context)


def process_record(record: SQSRecord) -> list[dict[str, Any]]:
    """Run every matching rule on every object of one SQS message; raise if any of them failed."""
    try:
        rules = rules_from_environment()
        objects = created_objects(record.body)
    except ValueError as error:  # UploadConfigError included: nothing can run until it is fixed
        logger.error("upload message not processed", extra={"message_id": record.message_id, "error": str(error)})
        raise
    attempt = int(record.attributes.approximate_receive_count or 1)
    outcomes, failures = [], []
    for obj in objects:
        for rule in rules:
            if not rule.matches(obj.bucket, obj.key):
                continue
            try:
                outcomes.append(run_rule(rule, obj, attempt))
            except Exception as error:  # every failure is recorded and retried, whatever it was
                failures.append(f"{rule.action} on s3://{obj.bucket}/{obj.key}: {_describe(error)}")
    if failures:
        raise UploadFailed("; ".join(failures))
    return outcomes


def run_rule(rule: Rule, obj: CreatedObject, attempt: int = 1) -> dict[str, Any]:
    """One rule on one object, at most once per object version; failures are recorded, then raised."""
    if not obj.version:
        raise ValueError(f"s3://{obj.bucket}/{obj.key}: the event has neither a versionId nor an eTag")
    job = {
        "bucket": obj.bucket,
        "key": obj.key,
        "version": obj.version,
        "version_id": obj.version_id,
        "rule": rule.as_dict(),
        "rule_id": rule.id,
        "attempt": attempt,
    }
    try:
        return _idempotent_execute()(job=job)
    except IdempotencyAlreadyInProgressError:
        raise  # another delivery is on it right now; SQS brings this one back later
    except Exception as error:
        _record(job, FAILED, error=error)
        logger.warning(
            "upload failed",
            extra={
                "bucket": obj.bucket,
                "key": obj.key,
                "action": rule.action,
                "attempt": attempt,
                "error": _describe(error),
            },
        )
        raise


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Steps 1-3 for one job; what it returns is what a duplicate delivery gets back."""
    from recognito.protocol import operation_model
    from recognito.protocol.serialization import serialize
    from recognito.protocol.validation import parse_input

    rule = parse_rules([job["rule"]])[0]
    model = operation_model(rule.action)
    request = parse_input(model.input_shape, rule.request(job["bucket"], job["key"], job["version_id"]))
    response = serialize(model.output_shape, resolve_service(rule.action)(request) or {})
    result_key = rule.result_key(job["key"])
    if result_key is not None:
        _s3().put_object(
            Bucket=job["bucket"],
            Key=result_key,
            Body=json.dumps(response, indent=1).encode(),
            ContentType="application/json",
        )
    outcome = {
        "status": SUCCEEDED,
        "action": rule.action,
        "collection_id": rule.collection,
        "external_image_id": request.get("ExternalImageId"),
        "face_ids": [r["Face"]["FaceId"] for r in response.get("FaceRecords", [])] if rule.collection else None,
        "result_key": result_key,
        "summary": {name: len(value) for name, value in response.items() if isinstance(value, list)},
    }
    _record(job, SUCCEEDED, outcome=outcome)
    logger.info("upload processed", extra={"bucket": job["bucket"], "key": job["key"], **outcome})
    return outcome


def _record(
    job: dict[str, Any], status: str, outcome: dict[str, Any] | None = None, error: Exception | None = None
) -> None:
    from recognito.storage.tables import UploadRecord

    outcome = outcome or {}
    UploadRecord(
        f"{job['bucket']}/{job['key']}",
        f"{job['version']}#{job['rule_id']}",
        bucket=job["bucket"],
        key=job["key"],
        version=job["version"],
        action=job["rule"]["action"],
        rule=job["rule"],
        status=status,
        attempts=job["attempt"],
        updated=datetime.now(UTC),
        collection_id=outcome.get("collection_id") or job["rule"].get("collection"),
        external_image_id=outcome.get("external_image_id"),
        face_ids=outcome.get("face_ids"),
        result_key=outcome.get("result_key"),
        summary=outcome.get("summary"),
        error_code=getattr(error, "code", type(error).__name__) if error else None,
        error_message=_message(error) if error else None,
    ).save()


def _message(error: Exception) -> str:
    return error.message if isinstance(error, RekognitionError) else str(error)


def _describe(error: Exception) -> str:
    return f"{getattr(error, 'code', type(error).__name__)}: {_message(error)}"


@cache
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[bucket, key, version, rule_id]",
        expires_after_seconds=IDEMPOTENCY_SECONDS,
        response_hook=_on_duplicate,
    )


def _on_duplicate(response: Any, data_record: Any) -> Any:
    logger.info("duplicate delivery skipped", extra={"outcome": response})
    return response


@cache
def _idempotent_execute() -> Any:
    """``execute`` made idempotent; built on first use, once the endpoint configuration is final."""
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table_name())
    return idempotent_function(data_keyword_argument="job", config=_config(), persistence_store=persistence)(
        lambda job: execute(job)
    )


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")
