"""Project versions (models and adapters): their records and lifecycle.

CreateProjectVersion checks the request, records the version TRAINING_IN_PROGRESS and starts the
``custom_labels_training`` state machine (recognito.custom_labels.training runs it and ends in
``record_training_result``). Serving is a status: StartProjectVersion checks the trained model is
there and moves STARTING -> RUNNING (DetectCustomLabels answers only then), StopProjectVersion
STOPPING -> STOPPED; each moves within the request, so boto3's waiters (which poll
DescribeProjectVersions) see the end state on their first poll. CopyProjectVersion copies the model
and its evaluation, training nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from recognito.analysis.moderation_taxonomy import base_model_version
from recognito.aws import client
from recognito.custom_labels import datasets, policies, quotas
from recognito.custom_labels.manifests import split_s3_uri
from recognito.custom_labels.projects import (
    CONTENT_MODERATION,
    CUSTOM_LABELS,
    DATASET_ITEM,
    VERSION_ITEM,
    child_arn,
    children,
    get_project,
    lookup,
    now_ms,
    save_new,
)
from recognito.errors import (
    AccessDeniedException,
    InternalServerError,
    InvalidParameterException,
    InvalidS3ObjectException,
    ResourceInUseException,
    ResourceNotFoundException,
    ResourceNotReadyException,
)
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage.tables import DatasetRecord, ProjectRecord, ProjectVersionRecord

STATE_MACHINE = "custom-labels-training"
DEFAULT_PAGE_SIZE = 100
TRAINED = ("TRAINING_COMPLETED", "COPYING_COMPLETED")
STARTABLE = (*TRAINED, "STOPPED", "FAILED")
STOPPABLE = ("STARTING", "RUNNING")
HAS_MODEL = (*TRAINED, "STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED")
UNDELETABLE = ("TRAINING_IN_PROGRESS", "COPYING_IN_PROGRESS", "STARTING", "RUNNING", "STOPPING")


def state_machine_arn() -> str:
    config = settings()
    return config.custom_labels_state_machine or (
        f"arn:{config.partition}:states:{config.region}:{config.account_id}:stateMachine:"
        f"{config.table_prefix}-{STATE_MACHINE}"
    )


# ---- the record, for the training flow and DetectCustomLabels ---------------------------------------


def get(version_arn: str) -> ProjectVersionRecord:
    """The version of ``version_arn``, or ``ResourceNotFoundException``. A start, stop or copy that a
    dead request left half done (longer than any request runs) ends as it would have failed."""
    return _settled(lookup(ProjectVersionRecord, version_arn, "version", "project version"))


def adapter_record(version_arn: str) -> ProjectVersionRecord:
    """A Content Moderation adapter ready for DetectModerationLabels (adapters are used once trained,
    never started): ResourceNotFoundException for no such version, InvalidParameterException for a
    Custom Labels model, ResourceNotReadyException while it trains or when it failed."""
    record = get(version_arn)
    if record.feature != CONTENT_MODERATION:
        raise InvalidParameterException(
            f"ProjectVersion {version_arn} is a Custom Labels model, not a Content Moderation adapter"
        )
    if record.status != "TRAINING_COMPLETED" or not record.model_artifact:
        raise ResourceNotReadyException(f"The adapter {version_arn} is not ready: its status is {record.status}")
    return record


def _settled(record: ProjectVersionRecord) -> ProjectVersionRecord:
    if record.status in _ABANDONED and record.updated and datetime.now(UTC) - record.updated > datasets.STALE:
        _set_status(record, _ABANDONED[record.status], "The version's request ended before its work did")
    return record


# What a transition done within one request ends as when that request died half way.
_ABANDONED = {"STARTING": "FAILED", "STOPPING": "STOPPED", "COPYING_IN_PROGRESS": "COPYING_FAILED"}


def record_training_result(
    version_arn: str,
    *,
    status: str,
    message: str | None,
    evaluation: dict[str, Any] | None,
    training_result: dict[str, Any] | None,
    testing_result: dict[str, Any] | None,
    manifest_summary: dict[str, Any] | None,
    billable_seconds: int,
    model_artifact: str | None,
) -> None:
    """The end of training: TRAINING_COMPLETED with the model and its evaluation, or TRAINING_FAILED.
    Idempotent: once the version has left TRAINING_IN_PROGRESS, a repeated call changes nothing."""
    if status not in ("TRAINING_COMPLETED", "TRAINING_FAILED"):
        raise ValueError(f"not an end of training: {status}")
    record = get(version_arn)
    values = {
        "status": status,
        "status_message": message or _DEFAULT_MESSAGES[status],
        "evaluation": evaluation,
        "training_result": training_result,
        "testing_result": testing_result,
        "manifest_summary": manifest_summary,
        "billable_seconds": int(billable_seconds),
        "model_artifact": model_artifact,
        "training_end": datetime.now(UTC),
    }
    attributes = ProjectVersionRecord.get_attributes()
    actions = [
        attributes[name].set(value) if value is not None else attributes[name].remove()
        for name, value in values.items()
    ]
    try:
        record.update(actions=actions, condition=ProjectVersionRecord.status == "TRAINING_IN_PROGRESS")
    except UpdateError as error:
        # Only a version still training takes a result: a task that runs again after the version
        # ended (a retried last step) changes nothing.
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


_DEFAULT_MESSAGES = {
    "TRAINING_IN_PROGRESS": "The model is being trained.",
    "TRAINING_COMPLETED": "The model is ready to run.",
    "TRAINING_FAILED": "The model could not be trained.",
    "COPYING_IN_PROGRESS": "The model is being copied.",
    "COPYING_COMPLETED": "The model is ready to run.",
    "STARTING": "The model is starting.",
    "RUNNING": "The model is running.",
    "STOPPING": "The model is stopping.",
    "STOPPED": "The model is ready to run.",
}


def _set_status(record: ProjectVersionRecord, status: str, message: str | None = None, **changes: Any) -> None:
    record.status = status
    record.status_message = message or _DEFAULT_MESSAGES.get(status)
    record.updated = datetime.now(UTC)
    for name, value in changes.items():
        setattr(record, name, value)
    record.save()


# ---- CreateProjectVersion ----------------------------------------------------------------------------


def _legacy_dataset(version_arn: str, kind: str, data: dict[str, Any]) -> str:
    """The entries of TrainingData/TestingData's manifests, kept as a dataset of the version's own."""
    arn = f"{version_arn}#{kind}"
    for asset in data.get("Assets") or []:
        s3_object = ((asset.get("GroundTruthManifest") or {}).get("S3Object")) or {}
        datasets.write_entries(arn, datasets.read_manifest(s3_object))
    return arn


def _project_datasets(project: ProjectRecord) -> tuple[str, str | None]:
    """The project's TRAIN and TEST (None: split automatically) dataset ARNs, ready to train from."""
    found = {
        record.item.removeprefix(DATASET_ITEM): record
        for record in children(DatasetRecord, project.project, DATASET_ITEM)
    }
    if "TRAIN" not in found:
        raise InvalidParameterException("The project has no training dataset: create one or give TrainingData")
    for record in found.values():
        if record.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            raise ResourceInUseException(f"The dataset {record.arn} is {record.status}")
    return found["TRAIN"].arn, found["TEST"].arn if "TEST" in found else None


def _new_version(project: ProjectRecord, request: dict[str, Any], **fields: Any) -> ProjectVersionRecord:
    """Records a new version named ``request["VersionName"]`` in ``project`` (``ResourceInUseException``
    when the name is taken), with the request's output, key and tags and the given ``fields``."""
    name = request["VersionName"]
    created = now_ms()
    record = ProjectVersionRecord(
        project.project,
        VERSION_ITEM + name,
        arn=child_arn(project.project, "version", name, created),
        created=datetime.fromtimestamp(created / 1000, UTC),
        updated=datetime.now(UTC),
        tags=request.get("Tags") or {},
        project_arn=project.arn,
        status_message=_DEFAULT_MESSAGES[fields["status"]],
        output_config=_output_config(request),
        kms_key_id=request.get("KmsKeyId"),
        **fields,
    )
    save_new(record, ResourceInUseException(f"The project already has a version named {name}"))
    return record


def create_project_version(request: dict[str, Any]) -> dict[str, Any]:
    project = get_project(request["ProjectArn"])
    _output_config(request)  # a bad one is refused before anything else
    feature_config = request.get("FeatureConfig")
    if feature_config and project.feature != CONTENT_MODERATION:
        raise InvalidParameterException("FeatureConfig applies only to CONTENT_MODERATION projects")
    legacy = request.get("TrainingData") is not None
    if legacy and children(DatasetRecord, project.project, DATASET_ITEM):
        raise InvalidParameterException("The project has datasets: train from them, without TrainingData")
    if not legacy and request.get("TestingData"):
        raise InvalidParameterException("TestingData needs TrainingData")
    quotas.check_new_version(project, training=True)
    train_arn, test_arn = ("", None) if legacy else _project_datasets(project)  # legacy: set below
    record = _new_version(
        project,
        request,
        status="TRAINING_IN_PROGRESS",
        feature=project.feature,
        feature_config=feature_config,
        train_dataset_arn=train_arn,
        test_dataset_arn=test_arn,
        description=request.get("VersionDescription"),
    )
    arn = record.arn
    if legacy:
        record.train_dataset_arn = f"{arn}#train"  # before reading, so a deletion finds what was read
        try:
            _legacy_dataset(arn, "train", request["TrainingData"])
            testing = request.get("TestingData") or {}
            if testing.get("Assets") and not testing.get("AutoCreate"):
                record.test_dataset_arn = _legacy_dataset(arn, "test", testing)
        except (InvalidS3ObjectException, datasets.DatasetFailure) as error:
            # A manifest file error is terminal: the version fails, as AWS reports it, untrained.
            if isinstance(error, InvalidS3ObjectException):
                error = datasets.DatasetFailure("ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT", error.message)
            _set_status(record, "TRAINING_FAILED", str(error))
            return {"ProjectVersionArn": arn}
        record.save()
    _start_training(record)
    return {"ProjectVersionArn": arn}


def execution_name(version_arn: str) -> str:
    """The name of a version's (first) training execution: its ARN's digest, so that `recognito serve`
    finds the execution a restart interrupted (a name cannot hold the ARN's "/" and ":")."""
    return "version-" + hashlib.sha256(version_arn.encode()).hexdigest()[:40]


def training_input(version_arn: str) -> str:
    return json.dumps({"ProjectVersionArn": version_arn})


def training() -> Iterator[ProjectVersionRecord]:
    """Every version still TRAINING_IN_PROGRESS (what `recognito serve` resumes after a restart)."""
    return ProjectVersionRecord.scan(
        ProjectVersionRecord.item.startswith(VERSION_ITEM) & (ProjectVersionRecord.status == "TRAINING_IN_PROGRESS")
    )


def fail_training(version_arn: str, message: str) -> None:
    """TRAINING_FAILED with ``message``, nothing trained."""
    record_training_result(
        version_arn,
        status="TRAINING_FAILED",
        message=message,
        evaluation=None,
        training_result=None,
        testing_result=None,
        manifest_summary=None,
        billable_seconds=0,
        model_artifact=None,
    )


def _start_training(record: ProjectVersionRecord) -> None:
    """Starts the training flow; a version it cannot start fails at once rather than train forever."""
    from botocore.exceptions import ClientError

    try:
        client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn(), name=execution_name(record.arn), input=training_input(record.arn)
        )
    except ClientError as error:
        _set_status(record, "TRAINING_FAILED", "The training could not be started (a service error)")
        raise InternalServerError(f"The training state machine could not be started: {error}") from None


def _output_config(request: dict[str, Any]) -> dict[str, Any]:
    output = request["OutputConfig"]
    if not output.get("S3Bucket"):
        raise InvalidParameterException("OutputConfig needs an S3Bucket")
    return output


# ---- DescribeProjectVersions -------------------------------------------------------------------------


def describe(record: ProjectVersionRecord) -> dict[str, Any]:
    """A ``ProjectVersionDescription``: only what the version has."""
    description: dict[str, Any] = {
        "ProjectVersionArn": record.arn,
        "CreationTimestamp": record.created,
        "Status": record.status,
        "StatusMessage": record.status_message,
        "OutputConfig": record.output_config,
        "Feature": record.feature,
    }
    optional = {
        "MinInferenceUnits": record.min_inference_units,
        "MaxInferenceUnits": record.max_inference_units,
        "BillableTrainingTimeInSeconds": record.billable_seconds,
        "TrainingEndTimestamp": record.training_end,
        "TrainingDataResult": record.training_result,
        "TestingDataResult": record.testing_result,
        "EvaluationResult": record.evaluation,
        "ManifestSummary": record.manifest_summary,
        "KmsKeyId": record.kms_key_id,
        "SourceProjectVersionArn": record.source_version_arn,
        "VersionDescription": record.description,
        "FeatureConfig": record.feature_config,
    }
    if record.feature == CONTENT_MODERATION:  # the one base model here: every adapter is trained on it
        description["BaseModelVersion"] = base_model_version()
    description.update({name: value for name, value in optional.items() if value is not None})
    return description


def _newest_first(record: ProjectVersionRecord) -> tuple[float, str]:
    return (-record.created.timestamp(), record.item)


def describe_project_versions(request: dict[str, Any]) -> dict[str, Any]:
    """A page of a project's versions, newest first; ``VersionNames`` reads just those."""
    project = get_project(request["ProjectArn"])
    scope = f"DescribeProjectVersions:{project.arn}"
    after = tuple(decode_token(scope, request["NextToken"])) if request.get("NextToken") else None
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    names = set(request.get("VersionNames") or [])
    found = sorted(
        (
            _settled(record)
            for record in children(ProjectVersionRecord, project.project, VERSION_ITEM)
            if not names or record.item.removeprefix(VERSION_ITEM) in names
        ),
        key=_newest_first,
    )
    if after is not None:
        found = [record for record in found if _newest_first(record) > after]
    page = found[:page_size]
    result: dict[str, Any] = {"ProjectVersionDescriptions": [describe(record) for record in page]}
    if len(found) > page_size:
        result["NextToken"] = encode_token(scope, list(_newest_first(page[-1])))
    return result


# ---- Start / Stop / Delete ---------------------------------------------------------------------------


def _artifact_exists(uri: str | None) -> bool:
    from botocore.exceptions import ClientError

    parts = split_s3_uri(uri or "")
    if parts is None:
        return False
    bucket, key = parts
    try:
        listed = client("s3").list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    except ClientError:
        return False
    return bool(listed.get("KeyCount"))


def start_project_version(request: dict[str, Any]) -> dict[str, Any]:
    record = get(request["ProjectVersionArn"])
    if record.feature != CUSTOM_LABELS:
        raise InvalidParameterException("Adapters are not started: DetectModerationLabels uses them directly")
    low, high = request["MinInferenceUnits"], request.get("MaxInferenceUnits")
    if high is not None and high < low:
        raise InvalidParameterException("MaxInferenceUnits must be at least MinInferenceUnits")
    if record.status not in STARTABLE:
        raise ResourceInUseException(f"The project version is {record.status}")
    quotas.check_start(low, high)
    _set_status(record, "STARTING", min_inference_units=low, max_inference_units=high or low)
    # Starting is making sure the model can be loaded; the serving functions load it on first use.
    if _artifact_exists(record.model_artifact):
        _set_status(record, "RUNNING")
    else:
        _set_status(record, "FAILED", f"The model artifact {record.model_artifact} cannot be read")
    return {"Status": "STARTING"}


def stop_project_version(request: dict[str, Any]) -> dict[str, Any]:
    record = get(request["ProjectVersionArn"])
    if record.status not in STOPPABLE:
        raise ResourceInUseException(f"The project version is {record.status}, not running")
    _set_status(record, "STOPPING")
    _set_status(record, "STOPPED")
    return {"Status": "STOPPING"}


def delete_project_version(request: dict[str, Any]) -> dict[str, Any]:
    record = get(request["ProjectVersionArn"])
    if record.status in UNDELETABLE:
        raise ResourceInUseException(f"The project version is {record.status}: stop it or let it finish first")
    for arn in (record.train_dataset_arn, record.test_dataset_arn):
        if arn and arn.startswith(f"{record.arn}#"):  # TrainingData's own entries
            datasets.delete_entries(arn)
    record.delete()
    return {"Status": "DELETING"}


# ---- CopyProjectVersion ------------------------------------------------------------------------------


def _copy_objects(uri: str, bucket: str, prefix: str) -> str:
    """Copies the object(s) at ``uri`` (an object or a folder) under ``s3://bucket/prefix``; the new URI."""
    source_bucket, source_key = split_s3_uri(uri) or ("", "")
    s3 = client("s3")
    base = source_key.rstrip("/").rpartition("/")[0]
    target = f"{prefix}{source_key.rstrip('/').rpartition('/')[2]}" + ("/" if source_key.endswith("/") else "")
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=source_bucket, Prefix=source_key):
        for item in page.get("Contents", []):
            relative = item["Key"][len(base) + 1 :] if base else item["Key"]
            s3.copy_object(
                Bucket=bucket, Key=f"{prefix}{relative}", CopySource={"Bucket": source_bucket, "Key": item["Key"]}
            )
    return f"s3://{bucket}/{target}"


def _copy_evaluation(evaluation: dict[str, Any] | None, bucket: str, prefix: str) -> dict[str, Any] | None:
    summary = ((evaluation or {}).get("Summary") or {}).get("S3Object")
    if not summary:
        return evaluation
    copied = _copy_objects(f"s3://{summary['Bucket']}/{summary['Name']}", bucket, prefix)
    _, key = split_s3_uri(copied) or ("", "")
    return {**evaluation, "Summary": {"S3Object": {"Bucket": bucket, "Name": key}}}  # type: ignore[dict-item]


def copy_project_version(request: dict[str, Any]) -> dict[str, Any]:
    """A new version of the destination project with the source version's model and evaluation."""
    source_project = get_project(request["SourceProjectArn"])
    source = get(request["SourceProjectVersionArn"])
    if source.project_arn != source_project.arn:
        raise ResourceNotFoundException("The project version is not a version of SourceProjectArn")
    destination = get_project(request["DestinationProjectArn"])
    if CONTENT_MODERATION in (source_project.feature, destination.feature):
        raise InvalidParameterException("Only Custom Labels models can be copied")
    if not policies.permits_copy(source_project, source.arn, destination.arn):
        raise AccessDeniedException(
            f"The project policies of {source_project.arn} do not allow copying {source.arn} to {destination.arn}"
        )
    if source.status not in HAS_MODEL:
        raise ResourceInUseException(f"The project version is {source.status}: it has no model to copy")
    output = _output_config(request)
    quotas.check_new_version(destination, training=False)
    record = _new_version(
        destination,
        request,
        status="COPYING_IN_PROGRESS",
        feature=source.feature,
        train_dataset_arn=source.train_dataset_arn,
        test_dataset_arn=source.test_dataset_arn,
        description=source.description,
        source_version_arn=source.arn,
    )
    name = request["VersionName"]
    from botocore.exceptions import ClientError

    prefix = f"{output.get('S3KeyPrefix') or ''}{destination.project}/{name}/"
    try:
        artifact = _copy_objects(source.model_artifact, output["S3Bucket"], prefix) if source.model_artifact else None
        evaluation = _copy_evaluation(source.evaluation, output["S3Bucket"], prefix)
    except ClientError as error:
        _set_status(record, "COPYING_FAILED", f"The model could not be copied to s3://{output['S3Bucket']}: {error}")
        return {"ProjectVersionArn": record.arn}
    _set_status(
        record,
        "COPYING_COMPLETED",
        model_artifact=artifact,
        evaluation=evaluation,
        training_result=source.training_result,
        testing_result=source.testing_result,
        manifest_summary=source.manifest_summary,
        billable_seconds=0,
        training_end=source.training_end,
    )
    return {"ProjectVersionArn": record.arn}
