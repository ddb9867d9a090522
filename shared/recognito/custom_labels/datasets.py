"""Custom labels datasets: a project's TRAIN and TEST sets of manifest lines.

A dataset is made from a SageMaker Ground Truth manifest in S3, copied from another dataset, or
empty (to be filled by UpdateDatasetEntries or DistributeDatasetEntries). Each line is kept as one
``DatasetEntryRecord`` keyed by its ``source-ref``, so a later line of the same image replaces the
earlier one. Lines that break the format stay as error entries (``recognito.custom_labels.manifests``).

The work AWS does in the background (reading the manifest, splitting) is done within the request:
the dataset is recorded ``*_IN_PROGRESS`` first and leaves it before the answer, so DescribeDataset
shows the outcome at once; a crash in between leaves it in progress, as an interrupted job would.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from recognito.aws import client
from recognito.custom_labels import quotas
from recognito.custom_labels.manifests import MODERATION, ManifestEntry, parse_line, parse_manifest, split_s3_uri
from recognito.custom_labels.projects import DATASET_ITEM, child_arn, get_project, lookup, now_ms, save_new
from recognito.errors import (
    InvalidParameterException,
    InvalidS3ObjectException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotReadyException,
)
from recognito.pagination import decode_token, encode_token
from recognito.storage.tables import DatasetEntryRecord, DatasetRecord

DEFAULT_PAGE_SIZE = 100
MAX_LABELS = 250  # Custom Labels' quota of labels a manifest may use (images a dataset holds: quotas)
# Longer than any request runs (the front door gives up at 29 s, a function at 15 minutes).
STALE = timedelta(minutes=15)
TEST_SHARE = 0.2  # DistributeDatasetEntries "moves 20% of the training dataset images to the test dataset"
READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_FAILED")
BUSY = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS")
S3_MESSAGE = "Unable to get object metadata from S3. Check object key, region and/or access permissions."


class DatasetFailure(Exception):
    """A terminal dataset error: the dataset ends ``*_FAILED`` with AWS's code as its message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")


# ---- reading -------------------------------------------------------------------------------------


def get_dataset(arn: str) -> DatasetRecord:
    """The dataset of ``arn`` (``ResourceNotFoundException``). One left in progress longer than any
    request can take (its request timed out or crashed) has failed: it is marked so, and can go."""
    record = lookup(DatasetRecord, arn, "dataset", "dataset")
    if record.status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS") and datetime.now(UTC) - record.updated > STALE:
        action = record.status.partition("_")[0]
        _mark(record, f"{action}_FAILED", "The dataset's request ended before its work did", "SERVICE_ERROR")
    return record


def dataset_type(record: DatasetRecord) -> str:
    return record.item.removeprefix(DATASET_ITEM)


def entries(dataset_arn: str) -> Iterator[ManifestEntry]:
    """Every entry of a dataset (error entries too: check ``has_errors``), in ``source-ref`` order."""
    for record in DatasetEntryRecord.query(dataset_arn):
        yield parse_line(record.line)


def _entry_records(dataset_arn: str) -> Iterator[DatasetEntryRecord]:
    return DatasetEntryRecord.query(dataset_arn, consistent_read=True)


def entry_key(entry: ManifestEntry) -> str:
    """Lines are replaced by ``source-ref``; a line without a usable one is its own (by its digest)."""
    if split_s3_uri(entry.source_ref) is not None:
        return entry.source_ref
    return "!" + hashlib.sha256(entry.line.encode()).hexdigest()[:32]


# ---- writing -------------------------------------------------------------------------------------


def _as_record(dataset_arn: str, entry: ManifestEntry) -> DatasetEntryRecord:
    return DatasetEntryRecord(
        dataset_arn,
        entry_key(entry),
        line=entry.line,
        labels=list(entry.labels),
        box_labels=[box.label for box in entry.boxes],
        errors=list(entry.errors),
    )


def write_entries(dataset_arn: str, new: Iterable[ManifestEntry]) -> None:
    with DatasetEntryRecord.batch_write() as batch:
        for entry in new:
            batch.save(_as_record(dataset_arn, entry))


def delete_entries(dataset_arn: str) -> None:
    with DatasetEntryRecord.batch_write() as batch:
        for record in _entry_records(dataset_arn):
            batch.delete(record)


# The split group of images annotated with no label (no label name is empty).
SAFE_GROUP = ""


def _labeled(record: DatasetEntryRecord) -> bool:
    """An entry with labels, or a Custom Moderation line (whose empty ModerationLabels mean safe)."""
    return bool(record.labels) or (MODERATION in record.line and parse_line(record.line).moderation)


def summarize(dataset_arn: str) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """``DatasetStats`` and each label's ``{"EntryCount", "BoundingBoxCount"}`` as the entries stand,
    in one read. An error entry's labels are not the dataset's."""
    total = labeled = errored = 0
    entry_counts: Counter[str] = Counter()
    box_counts: Counter[str] = Counter()
    for record in _entry_records(dataset_arn):
        total += 1
        if record.errors:
            errored += 1
            continue
        labeled += _labeled(record)
        entry_counts.update(record.labels)
        box_counts.update(record.box_labels)
    dataset_stats = {
        "LabeledEntries": labeled,
        "TotalEntries": total,
        "TotalLabels": len(entry_counts),
        "ErrorEntries": errored,
    }
    labels = {
        label: {"EntryCount": entry_counts[label], "BoundingBoxCount": box_counts[label]}
        for label in sorted(entry_counts)
    }
    return dataset_stats, labels


def _check_content(dataset_stats: dict[str, int]) -> None:
    """Terminal content errors (AWS's codes) of a dataset's entries."""
    if dataset_stats["TotalEntries"] > quotas.max_dataset_images():
        raise DatasetFailure(
            "ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM", f"more than {quotas.max_dataset_images()} JSON lines"
        )
    if dataset_stats["TotalLabels"] > MAX_LABELS:
        raise DatasetFailure("ERROR_MANIFEST_TOO_MANY_LABELS", f"more than {MAX_LABELS} labels")
    if dataset_stats["TotalEntries"] and dataset_stats["ErrorEntries"] == dataset_stats["TotalEntries"]:
        raise DatasetFailure("ERROR_TOO_MANY_RECORDS_IN_ERROR", "every JSON line is in error")


def _mark(record: DatasetRecord, status: str, message: str | None = None, code: str | None = None) -> None:
    record.status, record.status_message, record.status_message_code = status, message, code
    record.updated = datetime.now(UTC)
    record.save()


def _fill(record: DatasetRecord, new: Iterable[ManifestEntry], action: str) -> None:
    """Write ``new`` into the dataset under ``<action>_IN_PROGRESS``, then COMPLETE or FAILED."""
    _mark(record, f"{action}_IN_PROGRESS")
    try:
        write_entries(record.arn, new)
        record.stats, record.label_stats = summarize(record.arn)
        _check_content(record.stats)
    except DatasetFailure as failure:
        _mark(record, f"{action}_FAILED", str(failure), "CLIENT_ERROR")
        return
    _mark(
        record, f"{action}_COMPLETE", "The dataset was created successfully." if action == "CREATE" else None, "SUCCESS"
    )


def read_manifest(s3_object: dict[str, Any]) -> list[ManifestEntry]:
    """The lines of a manifest in S3 (``InvalidS3ObjectException`` when it cannot be read)."""
    from botocore.exceptions import ClientError, ParamValidationError

    params = {"Bucket": s3_object.get("Bucket"), "Key": s3_object.get("Name")}
    if s3_object.get("Version"):
        params["VersionId"] = s3_object["Version"]
    try:
        body = client("s3").get_object(**params)["Body"].read()
    except (ClientError, ParamValidationError):
        raise InvalidS3ObjectException(S3_MESSAGE) from None
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetFailure("ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT", "the manifest is not UTF-8") from None
    return parse_manifest(text)


# ---- the operations ------------------------------------------------------------------------------


def create_dataset(request: dict[str, Any]) -> dict[str, Any]:
    project = get_project(request["ProjectArn"])
    kind = request["DatasetType"]
    source = request.get("DatasetSource") or {}
    if source.get("GroundTruthManifest") and source.get("DatasetArn"):
        raise InvalidParameterException("Specify either a GroundTruthManifest or a DatasetArn, not both")
    # Read the source first: a manifest that cannot be read or a missing dataset records nothing.
    new: list[ManifestEntry] = []
    failure: DatasetFailure | None = None
    if source.get("DatasetArn"):
        copied = get_dataset(source["DatasetArn"])
        if copied.status not in READY:
            raise ResourceInUseException(f"The dataset {copied.arn} is {copied.status}")
        new = list(entries(copied.arn))
    elif source.get("GroundTruthManifest"):
        try:
            new = read_manifest(source["GroundTruthManifest"].get("S3Object") or {})
        except DatasetFailure as error:
            failure = error
    created = now_ms()
    record = DatasetRecord(
        project.project,
        DATASET_ITEM + kind,
        arn=child_arn(project.project, "dataset", kind.lower(), created),
        created=datetime.fromtimestamp(created / 1000, UTC),
        updated=datetime.fromtimestamp(created / 1000, UTC),
        status="CREATE_IN_PROGRESS",
        tags=request.get("Tags") or {},
        stats={"LabeledEntries": 0, "TotalEntries": 0, "TotalLabels": 0, "ErrorEntries": 0},
    )
    save_new(record, ResourceAlreadyExistsException(f"The project already has a {kind} dataset"))
    if failure is not None:
        _mark(record, "CREATE_FAILED", str(failure), "CLIENT_ERROR")
    else:
        _fill(record, new, "CREATE")
    return {"DatasetArn": record.arn}


def describe_dataset(request: dict[str, Any]) -> dict[str, Any]:
    record = get_dataset(request["DatasetArn"])
    description: dict[str, Any] = {
        "CreationTimestamp": record.created,
        "LastUpdatedTimestamp": record.updated,
        "Status": record.status,
        "DatasetStats": {name: int(value) for name, value in record.stats.as_dict().items()},
    }
    if record.status_message:
        description["StatusMessage"] = record.status_message
    if record.status_message_code:
        description["StatusMessageCode"] = record.status_message_code
    return {"DatasetDescription": description}


def _readable(arn: str) -> DatasetRecord:
    record = get_dataset(arn)
    if record.status in BUSY:
        raise ResourceInUseException(f"The dataset {arn} is {record.status}")
    if record.status not in READY:
        raise ResourceNotReadyException(f"The dataset {arn} is {record.status}")
    return record


def _listed_line(record: DatasetEntryRecord) -> str:
    """The line as stored; an error entry carries its ``errors`` list, as AWS's validation does."""
    if not record.errors:
        return record.line
    found = [dict(zip(("code", "message"), error.split(": ", 1), strict=False)) for error in record.errors]
    try:
        document = json.loads(record.line)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {"line": record.line}
    return json.dumps({**document, "errors": found})


def _matches(record: DatasetEntryRecord, request: dict[str, Any]) -> bool:
    wanted = request.get("ContainsLabels")
    if wanted and not set(wanted) & set(record.labels):
        return False
    if request.get("Labeled") is not None and _labeled(record) != request["Labeled"]:
        return False
    if request.get("SourceRefContains") and request["SourceRefContains"] not in record.entry_key:
        return False
    return request.get("HasErrors") is None or bool(record.errors) == request["HasErrors"]


def list_dataset_entries(request: dict[str, Any]) -> dict[str, Any]:
    """A page of the entries that pass every filter given, in ``source-ref`` order."""
    arn = request["DatasetArn"]
    _readable(arn)
    scope = f"ListDatasetEntries:{arn}"
    after = decode_token(scope, request["NextToken"]) if request.get("NextToken") else None
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    condition = DatasetEntryRecord.entry_key > after if after is not None else None
    page: list[DatasetEntryRecord] = []
    more = False
    for record in DatasetEntryRecord.query(arn, condition, consistent_read=True):
        if not _matches(record, request):
            continue
        if len(page) == page_size:
            more = True
            break
        page.append(record)
    result: dict[str, Any] = {"DatasetEntries": [_listed_line(record) for record in page]}
    if more:
        result["NextToken"] = encode_token(scope, page[-1].entry_key)
    return result


def list_dataset_labels(request: dict[str, Any]) -> dict[str, Any]:
    arn = request["DatasetArn"]
    record = _readable(arn)
    scope = f"ListDatasetLabels:{arn}"
    after = decode_token(scope, request["NextToken"]) if request.get("NextToken") else None
    page_size = request.get("MaxResults") or DEFAULT_PAGE_SIZE
    labels = [(label, counts) for label, counts in sorted(record.label_stats.items()) if after is None or label > after]
    page = labels[:page_size]
    result: dict[str, Any] = {
        "DatasetLabelDescriptions": [{"LabelName": label, "LabelStats": counts} for label, counts in page]
    }
    if len(labels) > page_size:
        result["NextToken"] = encode_token(scope, page[-1][0])
    return result


def update_dataset_entries(request: dict[str, Any]) -> dict[str, Any]:
    """Adds the JSON lines of ``Changes.GroundTruth``, replacing entries of the same ``source-ref``."""
    record = _readable_for_change(request["DatasetArn"])
    try:
        text = request["Changes"]["GroundTruth"].decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidParameterException("Changes.GroundTruth is not UTF-8 JSON lines") from None
    new = parse_manifest(text)
    if not new:
        raise InvalidParameterException("Changes.GroundTruth holds no JSON line")
    held = int(record.stats.as_dict().get("TotalEntries", 0))
    added = {entry_key(entry) for entry in new}
    if held + len(added) > quotas.max_dataset_images():  # only near the quota: lines replacing an entry add none
        added -= {entry.entry_key for entry in _entry_records(record.arn)}
    quotas.check_dataset_size(held, len(added))
    _fill(record, new, "UPDATE")
    return {}


def _readable_for_change(arn: str) -> DatasetRecord:
    record = get_dataset(arn)
    if record.status not in READY:
        raise ResourceInUseException(f"The dataset {arn} is {record.status}")
    return record


def _split_groups(record: DatasetEntryRecord) -> list[str]:
    """The groups an image counts in when a split takes each group's share: its labels, or for an
    image annotated with none (a Custom Moderation "safe" image) the group of such images."""
    return list(record.labels) or [SAFE_GROUP]


def _test_split(records: list[DatasetEntryRecord]) -> set[str]:
    """The entry keys that go to the test set: ``TEST_SHARE`` of each label's images (at least one),
    rarest label first, never an image whose move would take a label's last training image; images
    annotated safe are split the same way, as one group. Within a group, images go in the order of
    their keys' digests, so a split is repeatable."""
    labeled = sorted(
        (record for record in records if _labeled(record) and not record.errors),
        key=lambda record: hashlib.sha256(record.entry_key.encode()).digest(),
    )
    by_group: dict[str, list[DatasetEntryRecord]] = {}
    for record in labeled:
        for group in _split_groups(record):
            by_group.setdefault(group, []).append(record)
    left = Counter({group: len(found) for group, found in by_group.items()})  # training images per group
    taken: Counter[str] = Counter()
    chosen: set[str] = set()
    for group in sorted(by_group, key=lambda group: (len(by_group[group]), group)):
        quota = math.ceil(TEST_SHARE * len(by_group[group]))
        for record in by_group[group]:
            if taken[group] >= quota:
                break
            groups = _split_groups(record)
            if record.entry_key in chosen or any(left[other] <= 1 for other in groups):
                continue
            chosen.add(record.entry_key)
            taken.update(groups)
            left.subtract(groups)
    return chosen


def distribute_dataset_entries(request: dict[str, Any]) -> dict[str, Any]:
    """Moves 20% of a TRAIN dataset's labeled images to its project's empty TEST dataset."""
    records = [get_dataset(dataset["Arn"]) for dataset in request["Datasets"]]
    by_type = {dataset_type(record): record for record in records}
    if set(by_type) != {"TRAIN", "TEST"} or records[0].project != records[1].project:
        raise InvalidParameterException("Give the training and the test dataset of one project")
    for record in records:
        if record.status not in READY:
            raise ResourceNotReadyException(f"The dataset {record.arn} is {record.status}")
    train, test = by_type["TRAIN"], by_type["TEST"]
    if next(iter(_entry_records(test.arn)), None) is not None:
        raise InvalidParameterException("The test dataset must be empty")
    train_records = list(_entry_records(train.arn))
    per_label = Counter(label for record in train_records if not record.errors for label in record.labels)
    for record in (train, test):
        _mark(record, "UPDATE_IN_PROGRESS")
    if not per_label or min(per_label.values()) < 2:
        for record in (train, test):
            _mark(
                record,
                "UPDATE_FAILED",
                "ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE: every label needs at least 2 images",
                "CLIENT_ERROR",
            )
        return {}
    moving = _test_split(train_records)
    with DatasetEntryRecord.batch_write() as batch:
        for record in train_records:
            if record.entry_key in moving:
                batch.save(
                    DatasetEntryRecord(
                        test.arn,
                        record.entry_key,
                        **{name: getattr(record, name) for name in ("line", "labels", "box_labels", "errors")},
                    )
                )
                batch.delete(record)
    for record in (train, test):
        record.stats, record.label_stats = summarize(record.arn)
        _mark(record, "UPDATE_COMPLETE", None, "SUCCESS")
    return {}


def delete_dataset(request: dict[str, Any]) -> dict[str, Any]:
    record = get_dataset(request["DatasetArn"])
    if record.status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
        raise ResourceInUseException(f"The dataset {record.arn} is {record.status}")
    _mark(record, "DELETE_IN_PROGRESS")
    delete_entries(record.arn)
    record.delete()
    return {}
