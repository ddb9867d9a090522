"""Custom labels projects: CreateProject, DescribeProjects, DeleteProject, and the ARNs of a project's resources.

A project's ARN is ``arn:aws:rekognition:<region>:<account>:project/<name>/<created ms>``, its
datasets' ``.../project/<name>/dataset/<train|test>/<ms>``, its versions'
``.../project/<name>/version/<version name>/<ms>``. The creation time in each ARN tells a resource
from an earlier one of the same name: an ARN that names a deleted resource is not found.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import PutError

from recognito.errors import (
    InvalidParameterException,
    LimitExceededException,
    RekognitionError,
    ResourceInUseException,
    ResourceNotFoundException,
)
from recognito.pagination import decode_token, encode_token
from recognito.settings import settings
from recognito.storage.tables import CustomLabelsRecord, DatasetRecord, ProjectRecord

PROJECT_ITEM = "project"
DATASET_ITEM = "dataset#"
VERSION_ITEM = "version#"
POLICY_ITEM = "policy#"
CUSTOM_LABELS = "CUSTOM_LABELS"
CONTENT_MODERATION = "CONTENT_MODERATION"
DEFAULT_PAGE_SIZE = 100
Child = TypeVar("Child", bound=CustomLabelsRecord)

_ARN = re.compile(
    r"^arn:[a-z\d-]+:rekognition:(?P<region>[a-z\d-]+):(?P<account>\d{12}):project/(?P<project>[a-zA-Z0-9_.\-]{1,255})"
    r"(?:/(?P<kind>dataset|version)/(?P<name>[a-zA-Z0-9_.\-]{1,255}))?/(?P<ms>[0-9]+)$"
)


def now_ms() -> int:
    return int(time.time() * 1000)


def project_arn(name: str, created_ms: int) -> str:
    return settings().arn(f"project/{name}/{created_ms}")


def child_arn(project: str, kind: str, name: str, created_ms: int) -> str:
    """A dataset's (``kind`` "dataset", ``name`` "train"/"test") or a version's ARN in ``project``."""
    return settings().arn(f"project/{project}/{kind}/{name}/{created_ms}")


def parse_arn(arn: str) -> re.Match[str] | None:
    """The parts of a project, dataset or version ARN of this deployment; None for any other."""
    match = _ARN.match(arn or "")
    config = settings()
    if match is None or match["region"] != config.region or match["account"] != config.account_id:
        return None
    return match


def project_name(arn: str) -> str:
    """The project a project, dataset or version ARN names (``ResourceNotFoundException`` for a foreign one)."""
    match = parse_arn(arn)
    if match is None:
        raise ResourceNotFoundException(f"The resource {arn} does not exist")
    return match["project"]


def _item(match: re.Match[str]) -> str:
    """The ``item`` key of the resource a parsed ARN names."""
    if match["kind"] == "dataset":
        return DATASET_ITEM + match["name"].upper()
    if match["kind"] == "version":
        return VERSION_ITEM + match["name"]
    return PROJECT_ITEM


def lookup(model: type[Child], arn: str, kind: str | None, noun: str) -> Child:
    """The record of the ``kind`` of resource (None: a project) ``arn`` names, or ``ResourceNotFoundException``."""
    match = parse_arn(arn)
    record = None
    if match is not None and match["kind"] == kind:
        try:
            record = model.get(match["project"], _item(match), consistent_read=True)
        except model.DoesNotExist:
            record = None
    if record is None or record.arn != arn:
        raise ResourceNotFoundException(f"The {noun} {arn} does not exist")
    return record


def get_project(arn: str) -> ProjectRecord:
    return lookup(ProjectRecord, arn, None, "project")


def save_new(record: CustomLabelsRecord, taken: RekognitionError) -> None:
    """Saves a record that must be new, raising ``taken`` when its key is."""
    try:
        record.save(condition=type(record).item.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise taken from None
        raise


def children(model: type[Child], project: str, prefix: str) -> list[Child]:
    """A project's items of one kind (``prefix``: datasets, versions, policies), as ``model``."""
    return list(model.query(project, model.item.startswith(prefix), consistent_read=True))


# ---- the operations ---------------------------------------------------------------------------


def create_project(request: dict[str, Any]) -> dict[str, Any]:
    name = request["ProjectName"]
    feature = request.get("Feature") or CUSTOM_LABELS
    auto_update = request.get("AutoUpdate")
    if auto_update and feature != CONTENT_MODERATION:
        raise InvalidParameterException("AutoUpdate applies only to CONTENT_MODERATION projects (adapters)")
    if feature == CONTENT_MODERATION and not auto_update:
        auto_update = "DISABLED"
    if feature == CUSTOM_LABELS:
        _check_project_quota()
    created = now_ms()
    record = ProjectRecord(
        name,
        PROJECT_ITEM,
        arn=project_arn(name, created),
        created=datetime.fromtimestamp(created / 1000, UTC),
        feature=feature,
        auto_update=auto_update,
        tags=request.get("Tags") or {},
    )
    save_new(record, ResourceInUseException(f"The project {name} already exists"))
    return {"ProjectArn": record.arn}


def _check_project_quota() -> None:
    """AWS's "Custom Labels projects per account" quota (the rest are in ``quotas``, which builds on this module)."""
    limit = int(settings().custom_labels_max_projects)
    found = ProjectRecord.scan(
        (ProjectRecord.item == PROJECT_ITEM) & (ProjectRecord.feature == CUSTOM_LABELS), consistent_read=True
    )
    if sum(1 for _ in found) >= limit:
        raise LimitExceededException(f"The account has {limit} Custom Labels projects, its quota")


def _dataset_metadata(dataset: DatasetRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "CreationTimestamp": dataset.created,
        "DatasetType": dataset.item.removeprefix(DATASET_ITEM),
        "DatasetArn": dataset.arn,
        "Status": dataset.status,
    }
    if dataset.status_message:
        metadata["StatusMessage"] = dataset.status_message
    if dataset.status_message_code:
        metadata["StatusMessageCode"] = dataset.status_message_code
    return metadata


def describe(project: ProjectRecord) -> dict[str, Any]:
    """A ``ProjectDescription``."""
    datasets = children(DatasetRecord, project.project, DATASET_ITEM)
    description: dict[str, Any] = {
        "ProjectArn": project.arn,
        "CreationTimestamp": project.created,
        "Status": "CREATED",
        "Datasets": [_dataset_metadata(dataset) for dataset in datasets],
        "Feature": project.feature,
    }
    if project.auto_update:
        description["AutoUpdate"] = project.auto_update
    return description


def describe_projects(request: dict[str, Any]) -> dict[str, Any]:
    """A page of the account's projects of the ``Features`` asked (CUSTOM_LABELS when none), in
    name order; ``ProjectNames`` reads just those."""
    features = set(request.get("Features") or [CUSTOM_LABELS])
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    after = decode_token("DescribeProjects", request["NextToken"]) if request.get("NextToken") else ""
    if request.get("ProjectNames"):
        names = sorted(set(request["ProjectNames"]))
        found = [record for record in ProjectRecord.batch_get((name, PROJECT_ITEM) for name in names)]
    else:
        found = list(ProjectRecord.scan(ProjectRecord.item == PROJECT_ITEM))
    projects = sorted(
        (record for record in found if record.feature in features and record.project > after),
        key=lambda record: record.project,
    )
    page = projects[:page_size]
    result: dict[str, Any] = {"ProjectDescriptions": [describe(record) for record in page]}
    if len(projects) > page_size:
        result["NextToken"] = encode_token("DescribeProjects", page[-1].project)
    return result


def delete_project(request: dict[str, Any]) -> dict[str, Any]:
    """Deletes a project with no versions and no datasets left, and its policies (as AWS)."""
    project = get_project(request["ProjectArn"])
    if children(CustomLabelsRecord, project.project, VERSION_ITEM):
        raise ResourceInUseException("The project has model versions: delete them first")
    if children(CustomLabelsRecord, project.project, DATASET_ITEM):
        raise ResourceInUseException("The project has datasets: delete them first")
    for policy in children(CustomLabelsRecord, project.project, POLICY_ITEM):
        policy.delete()
    project.delete()
    return {"Status": "DELETING"}
