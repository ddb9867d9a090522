"""The PynamoDB models behind recognito's resources."""

from __future__ import annotations

from typing import TypeVar

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from recognito.settings import settings


def _meta(table: str) -> type:
    """A PynamoDB ``Meta`` naming the stack's table; the endpoint is left to botocore."""
    config = settings()
    return type(
        "Meta",
        (),
        {"table_name": f"{config.table_prefix}-{table}", "region": config.region, "billing_mode": "PAY_PER_REQUEST"},
    )


class FaceModelVersionAttribute(UnicodeAttribute):
    """A face model version, read back under its current name: collections and faces stored as
    ``facenet-20180408`` by earlier releases read as "1.0" (the same model), so they keep working."""

    def deserialize(self, value: str) -> str:
        from recognito.faces.similarity import known_version

        return known_version(super().deserialize(value))


class CollectionRecord(Model):
    """A face collection. Counts are kept exact by atomic updates from the face and user writes."""

    Meta = _meta("collections")

    collection_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute()
    face_model_version = FaceModelVersionAttribute()
    face_count = NumberAttribute(default=0)
    user_count = NumberAttribute(default=0)
    # The collection's change counter: every face write takes the next numbers in the same
    # transaction that moves it, so readers can follow a collection's changes in order.
    seq = NumberAttribute(default=0)
    tags = MapAttribute(default=dict)


class FacesBySeq(LocalSecondaryIndex):
    """A collection's face writes in sequence order: what a search index reads to catch up."""

    class Meta:
        index_name = "seq-index"
        projection = AllProjection()

    collection_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


class FaceRecord(Model):
    """An indexed face. A deleted face stays as a tombstone (no embedding) so caches learn of it."""

    Meta = _meta("faces")

    collection_id = UnicodeAttribute(hash_key=True)
    face_id = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()
    deleted = BooleanAttribute(default=False)
    image_id = UnicodeAttribute(null=True)
    external_image_id = UnicodeAttribute(null=True)
    bounding_box = MapAttribute(null=True)
    confidence = NumberAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    model_version = FaceModelVersionAttribute(null=True)
    # float16, 512 values: 1 KB a face.
    embedding = BinaryAttribute(null=True, legacy_encoding=False)
    by_seq = FacesBySeq()


class UserRecord(Model):
    """A user: a named group of up to 100 faces of one person."""

    Meta = _meta("users")

    collection_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    face_ids = UnicodeSetAttribute(default=set)
    created = UTCDateTimeAttribute()


class AccessKeyRecord(Model):
    """An access key recognito issued (see recognito.auth.keys). The secret is stored only as KMS
    ciphertext bound to the key id; revoking sets ``status`` to Inactive and keeps the record."""

    Meta = _meta("access-keys")

    access_key_id = UnicodeAttribute(hash_key=True)
    created = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    encrypted_secret = BinaryAttribute(legacy_encoding=False)
    revoked = UTCDateTimeAttribute(null=True)


class CelebrityRecord(Model):
    """A celebrity of the operator's gallery: who they are; their faces live in the gallery collection."""

    Meta = _meta("celebrities")

    celebrity_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    urls = ListAttribute(of=UnicodeAttribute, default=list)
    known_gender = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()


class UploadRecord(Model):
    """What the S3 upload trigger did with one object version under one rule (recognito.uploads).

    Keyed by object, then by version and rule, so ``UploadRecord.query("<bucket>/<key>")`` lists
    every run for an object. A failed run keeps its error; the message itself is in the DLQ.
    """

    Meta = _meta("uploads")

    object_id = UnicodeAttribute(hash_key=True)  # "<bucket>/<key>"
    run_id = UnicodeAttribute(range_key=True)  # "<versionId or ETag>#<rule id>"
    bucket = UnicodeAttribute()
    key = UnicodeAttribute()
    version = UnicodeAttribute()
    action = UnicodeAttribute()
    rule = MapAttribute()
    status = UnicodeAttribute()  # SUCCEEDED or FAILED
    attempts = NumberAttribute(default=0)
    updated = UTCDateTimeAttribute()
    collection_id = UnicodeAttribute(null=True)
    external_image_id = UnicodeAttribute(null=True)
    face_ids = ListAttribute(of=UnicodeAttribute, null=True)
    result_key = UnicodeAttribute(null=True)
    summary = MapAttribute(null=True)  # the response's list members and how many each had
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)


class RunningVideoJobs(GlobalSecondaryIndex):
    """Sparse: only jobs IN_PROGRESS carry ``running``, so counting them reads only those."""

    class Meta:
        index_name = "running-index"
        projection = KeysOnlyProjection()

    running = UnicodeAttribute(hash_key=True)


class VideoJobRecord(Model):
    """A stored video analysis job (recognito.video.jobs): the request, its state and its results.

    ``results`` holds the zlib-compressed JSON of the findings when it fits well within an item's
    400 KB; larger findings are in S3 at ``results_key``.
    """

    Meta = _meta("video-jobs")

    job_id = UnicodeAttribute(hash_key=True)
    api = UnicodeAttribute()  # the Start operation: "StartLabelDetection", ...
    status = UnicodeAttribute()  # IN_PROGRESS, SUCCEEDED or FAILED (media analysis: also CREATED, QUEUED)
    request = UnicodeAttribute()  # the Start request, JSON
    created = UTCDateTimeAttribute()
    completed = UTCDateTimeAttribute(null=True)
    status_message = UnicodeAttribute(null=True)
    failure_code = UnicodeAttribute(null=True)  # a media analysis job's FailureDetails Code
    job_tag = UnicodeAttribute(null=True)
    video_metadata = UnicodeAttribute(null=True)  # JSON: {"Video": {...}, "Audio": [...]}
    results = BinaryAttribute(null=True, legacy_encoding=False)
    results_key = UnicodeAttribute(null=True)
    running = UnicodeAttribute(null=True)  # "1" while IN_PROGRESS (RunningVideoJobs), absent after
    by_running = RunningVideoJobs()


class LivenessSessionRecord(Model):
    """A Face Liveness session (recognito.liveness): its settings, state and, once decided, result.

    ``results`` is the JSON of the decision (Confidence, the reference and audit images' boxes
    and, when no S3 output is configured, their JPEG bytes base64-encoded); ``expires`` is the
    epoch second DynamoDB's TTL may delete the item after.
    """

    Meta = _meta("liveness-sessions")

    session_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # CREATED, IN_PROGRESS, SUCCEEDED or FAILED (EXPIRED is read from the clock)
    settings = UnicodeAttribute()  # the request's Settings, JSON
    created = UTCDateTimeAttribute()
    kms_key_id = UnicodeAttribute(null=True)
    challenge = UnicodeAttribute(null=True)  # JSON: the challenge the server sent
    results = UnicodeAttribute(null=True)
    expires = NumberAttribute()


class StreamProcessorRecord(Model):
    """A stream processor (recognito.streams): its configuration, status and current session.

    ``config`` is the JSON of what CreateStreamProcessor was given and UpdateStreamProcessor
    changed (Input, Output, Settings, RoleArn, NotificationChannel, KmsKeyId, RegionsOfInterest,
    DataSharingPreference), as DescribeStreamProcessor returns it.
    """

    Meta = _meta("stream-processors")

    name = UnicodeAttribute(hash_key=True)
    arn = UnicodeAttribute()
    status = UnicodeAttribute()  # STOPPED, STARTING, RUNNING, FAILED, STOPPING or UPDATING
    status_message = UnicodeAttribute(null=True)
    config = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    tags = MapAttribute(default=dict)
    session_id = UnicodeAttribute(null=True)
    session = UnicodeAttribute(null=True)  # JSON: the session's start/stop selectors and progress


class CustomLabelsRecord(Model):
    """One item of the custom labels table: a project and what belongs to it share the project's
    partition (``project`` = its name), told apart by ``item``: "project", "dataset#TRAIN",
    "version#<name>", "policy#<name>"; so one query reads a project whole (recognito.custom_labels).
    The subclasses below are the item kinds; each reads only its own ``item`` prefix."""

    Meta = _meta("custom-labels")

    project = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    arn = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    tags = MapAttribute(default=dict)


class ProjectRecord(CustomLabelsRecord):
    """A custom labels project (item "project")."""

    Meta = _meta("custom-labels")

    feature = UnicodeAttribute()  # CUSTOM_LABELS or CONTENT_MODERATION
    auto_update = UnicodeAttribute(null=True)  # ENABLED or DISABLED (adapters only)


class DatasetRecord(CustomLabelsRecord):
    """A project's TRAIN or TEST dataset (item "dataset#TRAIN"); its lines are DatasetEntryRecords."""

    Meta = _meta("custom-labels")

    status = UnicodeAttribute()
    status_message = UnicodeAttribute(null=True)
    status_message_code = UnicodeAttribute(null=True)  # SUCCESS, SERVICE_ERROR or CLIENT_ERROR
    updated = UTCDateTimeAttribute()
    stats = MapAttribute(default=dict)  # DatasetStats: LabeledEntries, TotalEntries, TotalLabels, ErrorEntries
    label_stats = JSONAttribute(default=dict)  # label -> {"EntryCount", "BoundingBoxCount"}


class ProjectVersionRecord(CustomLabelsRecord):
    """A model version (item "version#<name>"): the request that trains it, its state, its results.

    The JSON documents (configs, evaluation, data results, manifest summary) are as the API shows them.
    """

    Meta = _meta("custom-labels")

    project_arn = UnicodeAttribute()
    status = UnicodeAttribute()
    status_message = UnicodeAttribute(null=True)
    feature = UnicodeAttribute()
    feature_config = JSONAttribute(null=True)
    output_config = JSONAttribute()
    train_dataset_arn = UnicodeAttribute()
    test_dataset_arn = UnicodeAttribute(null=True)  # None: an automatic split of the training data
    description = UnicodeAttribute(null=True)
    kms_key_id = UnicodeAttribute(null=True)
    source_version_arn = UnicodeAttribute(null=True)  # a copy's source
    model_artifact = UnicodeAttribute(null=True)  # s3://bucket/key
    min_inference_units = NumberAttribute(null=True)
    max_inference_units = NumberAttribute(null=True)
    evaluation = JSONAttribute(null=True)
    training_result = JSONAttribute(null=True)
    testing_result = JSONAttribute(null=True)
    manifest_summary = JSONAttribute(null=True)
    billable_seconds = NumberAttribute(null=True)
    training_end = UTCDateTimeAttribute(null=True)
    updated = UTCDateTimeAttribute(null=True)  # the last change of status


class ProjectPolicyRecord(CustomLabelsRecord):
    """A project's resource policy (item "policy#<name>"), replaced only by its current revision id."""

    Meta = _meta("custom-labels")

    project_arn = UnicodeAttribute()
    revision_id = UnicodeAttribute()
    document = UnicodeAttribute()
    updated = UTCDateTimeAttribute()


class DatasetEntryRecord(Model):
    """One manifest line of a dataset, keyed by its ``source-ref`` (lines are replaced by it; a line
    without a usable one is keyed by its text's digest). Labels and errors are parsed once, at write."""

    Meta = _meta("dataset-entries")

    dataset_arn = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    line = UnicodeAttribute()
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    box_labels = ListAttribute(of=UnicodeAttribute, default=list)  # one label per bounding box
    errors = ListAttribute(of=UnicodeAttribute, default=list)


ALL_TABLES: tuple[type[Model], ...] = (
    CollectionRecord,
    FaceRecord,
    UserRecord,
    AccessKeyRecord,
    CelebrityRecord,
    UploadRecord,
    VideoJobRecord,
    LivenessSessionRecord,
    StreamProcessorRecord,
    CustomLabelsRecord,
    DatasetEntryRecord,
)


_Record = TypeVar("_Record", bound=Model)


def get_or_raise(model: type[_Record], key: str, error: Exception) -> _Record:
    """The item under hash ``key`` (read consistently), or ``error`` raised when there is none."""
    try:
        return model.get(key, consistent_read=True)
    except model.DoesNotExist:
        raise error from None


def ensure_tables() -> None:
    """Create every table that does not exist yet (local mode and tests; deployed, SAM creates them)."""
    for model in ALL_TABLES:
        if not model.exists():
            model.create_table(wait=True)
    _ensure_idempotency_table()


def idempotency_table_name() -> str:
    """Powertools' idempotency records (recognito.idempotency): a plain table, not a PynamoDB model."""
    return f"{settings().table_prefix}-idempotency"


def _ensure_idempotency_table() -> None:
    """The idempotency table, keyed by ``id`` (Powertools' ``key_attr``)."""
    import boto3

    client = boto3.client("dynamodb", region_name=settings().region)
    name = idempotency_table_name()
    try:
        client.describe_table(TableName=name)
    except client.exceptions.ResourceNotFoundException:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=name)
