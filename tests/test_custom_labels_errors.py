"""Every error botocore's model documents for the 20 custom labels operations, exercised.

Each (operation, error) pair of the operations' ``errors`` lists is either triggered here through the
operation's handler, with the state that causes it made for real (a second project of the same name,
a dataset a manifest could not make, a version still training, a quota set low, ...), or named in
``UNREACHABLE`` with the reason this implementation cannot give it. A pair the model lists that is in
neither table fails ``test_every_documented_error_is_triggered_or_explained``, so an error added to the
model, or an operation added to the group, is noticed.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property

import boto3
import numpy as np
import pytest
from conftest import call
from moto import mock_aws
from PIL import Image
from recognito.protocol import operation_model

pytestmark = pytest.mark.usefixtures("account")

OPERATIONS = (
    "CreateProject",
    "DescribeProjects",
    "DeleteProject",
    "CreateDataset",
    "DescribeDataset",
    "ListDatasetEntries",
    "ListDatasetLabels",
    "UpdateDatasetEntries",
    "DistributeDatasetEntries",
    "DeleteDataset",
    "CreateProjectVersion",
    "DescribeProjectVersions",
    "StartProjectVersion",
    "StopProjectVersion",
    "DeleteProjectVersion",
    "CopyProjectVersion",
    "PutProjectPolicy",
    "ListProjectPolicies",
    "DeleteProjectPolicy",
    "DetectCustomLabels",
)
BUCKET = "cl-errors"
OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": "models/"}
LABELS = ("king", "queen")


def _manifest(count: int) -> bytes:
    metadata = {"type": "groundtruth/image-classification"}
    lines = [
        {"source-ref": f"s3://{BUCKET}/img/{n}.jpg", "card": 0, "card-metadata": {**metadata, "class-name": label}}
        for n in range(count)
        for label in [LABELS[n % 2]]
    ]
    return "\n".join(json.dumps(line) for line in lines).encode()


def _jpeg(side: int) -> str:
    """A photograph-free but real JPEG of ``side`` pixels a side (a gradient), as base64."""
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    rgb = np.stack([np.add.outer(ramp, ramp) // 2] * 3, axis=2).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG")
    return base64.b64encode(buffer.getvalue()).decode()


def _document(effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Principal": "*", "Action": "rekognition:CopyProjectVersion"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def account():
    """One moto account for the module (starting one is most of a case's cost): the tables, the
    manifests, and a training flow that never ends (a Pass state), so versions stay TRAINING_IN_PROGRESS.
    Each case works in projects of its own names; quotas are set relative to what the account holds."""
    from recognito.custom_labels.versions import state_machine_arn
    from recognito.settings import settings
    from recognito.storage import ensure_tables

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        # The cases' versions never end training and some stay running: the account-wide quotas are
        # off but for the cases that set them to what the account holds (``World.quota_reached``).
        for name in ("PROJECTS", "TRAININGS", "RUNNING"):
            patch.setenv(f"RECOGNITO_CUSTOM_LABELS_MAX_{name}", "100000")
        settings.cache_clear()
        ensure_tables()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="train.manifest", Body=_manifest(10))
        s3.put_object(Bucket=BUCKET, Key="latin1.manifest", Body="caf\xe9".encode("latin-1"))
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
        boto3.client("stepfunctions").create_state_machine(
            name=state_machine_arn().rpartition(":")[2],
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )
        yield


_worlds = itertools.count()


@pytest.fixture(scope="module")
def shared(account):
    with pytest.MonkeyPatch.context() as patch:
        yield World(patch)


class World:
    """What the triggers act on, each made on first use: real resources through the operations, in
    projects named for this case (``cards<n>``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.s3 = boto3.client("s3")
        self.name = f"cards{next(_worlds)}"

    def ok(self, operation: str, body: dict) -> dict:
        status, reply = call(operation, body)
        assert status == 200, reply
        return reply

    def quota(self, name: str, value: int) -> None:
        from recognito.settings import settings

        self.monkeypatch.setenv(f"RECOGNITO_CUSTOM_LABELS_MAX_{name}", str(value))
        settings.cache_clear()

    def quota_reached(self, name: str) -> None:
        """An account-wide quota set to what the account holds now: one more is refused."""
        from recognito.custom_labels import quotas
        from recognito.storage.tables import ProjectRecord

        held = {
            "PROJECTS": lambda: sum(1 for _ in ProjectRecord.scan(ProjectRecord.feature == "CUSTOM_LABELS")),
            "TRAININGS": lambda: quotas.count_versions(("TRAINING_IN_PROGRESS",)),
            "RUNNING": lambda: quotas.count_versions(("STARTING", "RUNNING")),
        }[name]()
        self.quota(name, held)

    def without_state_machine(self) -> None:
        """CreateProjectVersion pointed at a training state machine that is not there."""
        from recognito.custom_labels.versions import state_machine_arn
        from recognito.settings import settings

        self.monkeypatch.setenv("RECOGNITO_CUSTOM_LABELS_STATE_MACHINE", state_machine_arn() + "-gone")
        settings.cache_clear()

    def gone(self, arn: str) -> str:
        """The ARN of the same kind of resource in a project that does not exist."""
        return arn.replace(f"/{self.name}/", "/gone/")

    @cached_property
    def project(self) -> str:
        return self.ok("CreateProject", {"ProjectName": self.name})["ProjectArn"]

    @cached_property
    def moderation_project(self) -> str:
        body = {"ProjectName": f"{self.name}-adapter", "Feature": "CONTENT_MODERATION"}
        return self.ok("CreateProject", body)["ProjectArn"]

    def dataset(self, project: str, kind: str, key: str | None = None) -> str:
        body: dict = {"ProjectArn": project, "DatasetType": kind}
        if key:
            body["DatasetSource"] = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}
        return self.ok("CreateDataset", body)["DatasetArn"]

    @cached_property
    def train(self) -> str:
        return self.dataset(self.project, "TRAIN", "train.manifest")

    @cached_property
    def test(self) -> str:
        return self.dataset(self.project, "TEST")

    @cached_property
    def broken_project(self) -> str:
        return self.ok("CreateProject", {"ProjectName": f"{self.name}-broken"})["ProjectArn"]

    @cached_property
    def failed(self) -> str:
        """A TRAIN dataset whose manifest is not UTF-8: CREATE_FAILED, as AWS ends it."""
        arn = self.dataset(self.broken_project, "TRAIN", "latin1.manifest")
        assert self.ok("DescribeDataset", {"DatasetArn": arn})["DatasetDescription"]["Status"] == "CREATE_FAILED"
        return arn

    @cached_property
    def broken_test(self) -> str:
        return self.dataset(self.broken_project, "TEST")

    def busy(self, arn: str) -> str:
        """The dataset as a request still writing it leaves it (UPDATE_IN_PROGRESS, just now)."""
        from recognito.custom_labels.datasets import get_dataset

        record = get_dataset(arn)
        record.status, record.updated = "UPDATE_IN_PROGRESS", datetime.now(UTC)
        record.save()
        return arn

    def new_version(self, name: str) -> str:
        self.train  # noqa: B018 - made on first use
        body = {"ProjectArn": self.project, "VersionName": name, "OutputConfig": OUTPUT}
        return self.ok("CreateProjectVersion", body)["ProjectVersionArn"]

    @cached_property
    def training(self) -> str:
        return self.new_version("training")

    @cached_property
    def trained(self) -> str:
        return self.trained_version("trained")

    def trained_version(self, name: str) -> str:
        """A version ended as the training flow's last step ends it, with a model object in S3
        (never loaded here: every DetectCustomLabels below is refused before the model runs)."""
        from recognito.custom_labels import versions

        arn = self.new_version(name)
        key = f"models/{self.name}/{name}/model/model.npz"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"weights")
        versions.record_training_result(
            arn,
            status="TRAINING_COMPLETED",
            message=None,
            evaluation={"F1Score": 1.0},
            training_result=None,
            testing_result=None,
            manifest_summary=None,
            billable_seconds=1,
            model_artifact=f"s3://{BUCKET}/{key}",
        )
        return arn

    @cached_property
    def running(self) -> str:
        arn = self.trained_version("running")
        self.ok("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
        return arn

    def policy(self, name: str, effect: str = "Allow") -> str:
        body = {"ProjectArn": self.project, "PolicyName": name, "PolicyDocument": _document(effect)}
        return self.ok("PutProjectPolicy", body)["PolicyRevisionId"]

    def copy(self, **changes: str) -> dict:
        """A CopyProjectVersion request (of ``trained`` into its own project unless ``changes`` say else)."""
        body = {"SourceProjectArn": self.project, "VersionName": "copy", "OutputConfig": OUTPUT, **changes}
        body.setdefault("SourceProjectVersionArn", self.trained)
        body.setdefault("DestinationProjectArn", self.project)
        return body


# ---- the triggers: (operation, error) -> ways to get it, each making its state and giving the request
# (``(setup, ..., request)[-1]``: the steps run in order, the last is the request sent).

Trigger = Callable[[World], dict]


def private(trigger: Trigger) -> Trigger:
    """A trigger that changes what it acts on (a dataset made busy, a policy, a version more) or needs a
    project without datasets: it gets a world of its own. The others share one, and only send
    requests that are refused, which change nothing."""
    trigger.private = True  # type: ignore[attr-defined]
    return trigger


TOO_LARGE = base64.b64encode(b"\xff\xd8\xff" + bytes(4 * 1024 * 1024)).decode()  # JPEG magic, past 4 MB
TRIGGERS: dict[tuple[str, str], list[Trigger]] = {
    ("CreateProject", "ResourceInUseException"): [lambda w: {"ProjectName": w.project and w.name}],
    ("CreateProject", "LimitExceededException"): [
        lambda w: (w.project, w.quota_reached("PROJECTS"), {"ProjectName": f"{w.name}-second"})[-1]
    ],
    ("CreateProject", "InvalidParameterException"): [lambda w: {"ProjectName": "x", "AutoUpdate": "ENABLED"}],
    ("DescribeProjects", "InvalidPaginationTokenException"): [lambda w: {"NextToken": "not-a-token"}],
    ("DeleteProject", "ResourceInUseException"): [
        lambda w: (w.train, {"ProjectArn": w.project})[-1],  # a dataset remains
        private(lambda w: (w.training, w.ok("DeleteDataset", {"DatasetArn": w.train}), {"ProjectArn": w.project})[-1]),
    ],
    ("DeleteProject", "ResourceNotFoundException"): [lambda w: {"ProjectArn": w.gone(w.project)}],
    ("CreateDataset", "InvalidParameterException"): [
        lambda w: {
            "ProjectArn": w.project,
            "DatasetType": "TEST",
            "DatasetSource": {
                "GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "train.manifest"}},
                "DatasetArn": w.train,
            },
        }
    ],
    ("CreateDataset", "InvalidS3ObjectException"): [
        lambda w: {
            "ProjectArn": w.project,
            "DatasetType": "TRAIN",
            "DatasetSource": {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "missing.manifest"}}},
        }
    ],
    ("CreateDataset", "ResourceAlreadyExistsException"): [
        lambda w: (w.train, {"ProjectArn": w.project, "DatasetType": "TRAIN"})[-1]
    ],
    ("CreateDataset", "ResourceNotFoundException"): [
        lambda w: {"ProjectArn": w.gone(w.project), "DatasetType": "TRAIN"},
        lambda w: {"ProjectArn": w.project, "DatasetType": "TEST", "DatasetSource": {"DatasetArn": w.gone(w.train)}},
    ],
    ("DescribeDataset", "ResourceNotFoundException"): [lambda w: {"DatasetArn": w.gone(w.train)}],
    ("DistributeDatasetEntries", "ResourceNotFoundException"): [
        lambda w: {"Datasets": [{"Arn": w.gone(w.train)}, {"Arn": w.test}]}
    ],
    ("DistributeDatasetEntries", "InvalidParameterException"): [
        lambda w: {"Datasets": [{"Arn": w.train}, {"Arn": w.train}]},  # not a TRAIN and a TEST dataset
        lambda w: {"Datasets": [{"Arn": w.train}, {"Arn": w.broken_test}]},  # two projects
    ],
    ("DistributeDatasetEntries", "ResourceNotReadyException"): [
        lambda w: {"Datasets": [{"Arn": w.failed}, {"Arn": w.broken_test}]}
    ],
    ("UpdateDatasetEntries", "InvalidParameterException"): [
        lambda w: {"DatasetArn": w.train, "Changes": {"GroundTruth": base64.b64encode(b"\xff\xfe").decode()}},
        lambda w: {"DatasetArn": w.train, "Changes": {"GroundTruth": base64.b64encode(b"\n\n").decode()}},
    ],
    ("UpdateDatasetEntries", "LimitExceededException"): [
        lambda w: (
            w.train,  # 10 images
            w.quota("DATASET_IMAGES", 10),
            {"DatasetArn": w.train, "Changes": {"GroundTruth": base64.b64encode(_manifest(11)).decode()}},
        )[-1]
    ],
    ("UpdateDatasetEntries", "ResourceInUseException"): [
        private(
            lambda w: {
                "DatasetArn": w.busy(w.train),
                "Changes": {"GroundTruth": base64.b64encode(_manifest(1)).decode()},
            }
        )
    ],
    ("UpdateDatasetEntries", "ResourceNotFoundException"): [
        lambda w: {"DatasetArn": w.gone(w.train), "Changes": {"GroundTruth": base64.b64encode(_manifest(1)).decode()}}
    ],
    **{
        (listing, error): triggers
        for listing in ("ListDatasetEntries", "ListDatasetLabels")
        for error, triggers in {
            "ResourceInUseException": [private(lambda w: {"DatasetArn": w.busy(w.train)})],
            "ResourceNotFoundException": [lambda w: {"DatasetArn": w.gone(w.train)}],
            "InvalidPaginationTokenException": [lambda w: {"DatasetArn": w.train, "NextToken": "not-a-token"}],
            "ResourceNotReadyException": [lambda w: {"DatasetArn": w.failed}],
        }.items()
    },
    ("DeleteDataset", "ResourceInUseException"): [private(lambda w: {"DatasetArn": w.busy(w.train)})],
    ("DeleteDataset", "ResourceNotFoundException"): [lambda w: {"DatasetArn": w.gone(w.train)}],
    ("CreateProjectVersion", "ResourceInUseException"): [
        lambda w: {"ProjectArn": w.project, "VersionName": w.training and "training", "OutputConfig": OUTPUT},
        private(
            lambda w: (
                w.busy(w.train),
                {"ProjectArn": w.project, "VersionName": "v", "OutputConfig": OUTPUT},
            )[-1]
        ),
    ],
    ("CreateProjectVersion", "ResourceNotFoundException"): [
        lambda w: {"ProjectArn": w.gone(w.project), "VersionName": "v", "OutputConfig": OUTPUT}
    ],
    ("CreateProjectVersion", "LimitExceededException"): [
        lambda w: (
            w.training,
            w.quota_reached("TRAININGS"),
            {"ProjectArn": w.project, "VersionName": "v2", "OutputConfig": OUTPUT},
        )[-1]
    ],
    ("CreateProjectVersion", "ServiceQuotaExceededException"): [
        lambda w: (
            w.trained,
            w.quota("VERSIONS", 1),
            {"ProjectArn": w.project, "VersionName": "v2", "OutputConfig": OUTPUT},
        )[-1]
    ],
    ("CreateProjectVersion", "InvalidParameterException"): [
        private(lambda w: {"ProjectArn": w.project, "VersionName": "v", "OutputConfig": OUTPUT}),  # no TRAIN dataset
        lambda w: {
            "ProjectArn": w.project,
            "VersionName": "v",
            "OutputConfig": OUTPUT,
            "FeatureConfig": {"ContentModeration": {"ConfidenceThreshold": 50}},  # an adapter's, on a model
        },
    ],
    ("CreateProjectVersion", "InternalServerError"): [
        # A training state machine that is not there (a stack without it): the version fails, the caller is told.
        private(
            lambda w: (
                w.train,
                w.without_state_machine(),
                {"ProjectArn": w.project, "VersionName": "v", "OutputConfig": OUTPUT},
            )[-1]
        )
    ],
    ("DescribeProjectVersions", "ResourceNotFoundException"): [lambda w: {"ProjectArn": w.gone(w.project)}],
    ("DescribeProjectVersions", "InvalidPaginationTokenException"): [
        lambda w: {"ProjectArn": w.project, "NextToken": "not-a-token"}
    ],
    ("StartProjectVersion", "ResourceNotFoundException"): [
        lambda w: {"ProjectVersionArn": w.gone(w.training), "MinInferenceUnits": 1}
    ],
    ("StartProjectVersion", "ResourceInUseException"): [
        lambda w: {"ProjectVersionArn": w.training, "MinInferenceUnits": 1},  # still training
        lambda w: {"ProjectVersionArn": w.running, "MinInferenceUnits": 1},  # already running
    ],
    ("StartProjectVersion", "LimitExceededException"): [
        lambda w: {"ProjectVersionArn": w.trained, "MinInferenceUnits": 6},  # 5 inference units a model
        lambda w: {"ProjectVersionArn": w.trained, "MinInferenceUnits": 1, "MaxInferenceUnits": 6},
        private(
            lambda w: (
                w.running,
                w.quota_reached("RUNNING"),
                {"ProjectVersionArn": w.trained_version("other"), "MinInferenceUnits": 1},
            )[-1]
        ),
    ],
    ("StartProjectVersion", "InvalidParameterException"): [
        lambda w: {"ProjectVersionArn": w.trained, "MinInferenceUnits": 3, "MaxInferenceUnits": 2}
    ],
    ("StopProjectVersion", "ResourceNotFoundException"): [lambda w: {"ProjectVersionArn": w.gone(w.training)}],
    ("StopProjectVersion", "ResourceInUseException"): [lambda w: {"ProjectVersionArn": w.trained}],  # not running
    ("DeleteProjectVersion", "ResourceNotFoundException"): [lambda w: {"ProjectVersionArn": w.gone(w.training)}],
    ("DeleteProjectVersion", "ResourceInUseException"): [
        lambda w: {"ProjectVersionArn": w.training},
        lambda w: {"ProjectVersionArn": w.running},
    ],
    ("CopyProjectVersion", "AccessDeniedException"): [private(lambda w: (w.policy("deny", "Deny"), w.copy())[-1])],
    ("CopyProjectVersion", "InvalidParameterException"): [lambda w: w.copy(DestinationProjectArn=w.moderation_project)],
    ("CopyProjectVersion", "ResourceNotFoundException"): [
        lambda w: w.copy(SourceProjectVersionArn=w.gone(w.trained)),
        lambda w: w.copy(DestinationProjectArn=w.gone(w.project)),
    ],
    ("CopyProjectVersion", "ServiceQuotaExceededException"): [
        lambda w: (w.trained, w.quota("VERSIONS", 1), w.copy())[-1]
    ],
    ("CopyProjectVersion", "ResourceInUseException"): [lambda w: w.copy(SourceProjectVersionArn=w.training)],
    ("PutProjectPolicy", "InvalidParameterException"): [
        lambda w: {"ProjectArn": w.moderation_project, "PolicyName": "p", "PolicyDocument": _document()}
    ],
    ("PutProjectPolicy", "InvalidPolicyRevisionIdException"): [
        lambda w: {
            "ProjectArn": w.project,
            "PolicyName": "p",
            "PolicyDocument": _document(),
            "PolicyRevisionId": "0" * 32,
        },
        private(
            lambda w: (
                w.policy("p"),
                {
                    "ProjectArn": w.project,
                    "PolicyName": "p",
                    "PolicyDocument": _document(),
                    "PolicyRevisionId": "0" * 32,
                },
            )[-1]
        ),
    ],
    ("PutProjectPolicy", "MalformedPolicyDocumentException"): [
        lambda w: {"ProjectArn": w.project, "PolicyName": "p", "PolicyDocument": "{}"}
    ],
    ("PutProjectPolicy", "ResourceNotFoundException"): [
        lambda w: {"ProjectArn": w.gone(w.project), "PolicyName": "p", "PolicyDocument": _document()}
    ],
    ("PutProjectPolicy", "ResourceAlreadyExistsException"): [
        private(
            lambda w: (w.policy("p"), {"ProjectArn": w.project, "PolicyName": "p", "PolicyDocument": _document()})[-1]
        )
    ],
    ("PutProjectPolicy", "LimitExceededException"): [
        private(
            lambda w: (
                [w.policy(f"p{n}") for n in range(5)],
                {"ProjectArn": w.project, "PolicyName": "p5", "PolicyDocument": _document()},
            )[-1]
        )
    ],
    ("ListProjectPolicies", "ResourceNotFoundException"): [lambda w: {"ProjectArn": w.gone(w.project)}],
    ("ListProjectPolicies", "InvalidPaginationTokenException"): [
        lambda w: {"ProjectArn": w.project, "NextToken": "not-a-token"}
    ],
    ("DeleteProjectPolicy", "ResourceNotFoundException"): [
        lambda w: {"ProjectArn": w.project, "PolicyName": "none"},
        lambda w: {"ProjectArn": w.gone(w.project), "PolicyName": "none"},
    ],
    ("DeleteProjectPolicy", "InvalidPolicyRevisionIdException"): [
        private(
            lambda w: (w.policy("p"), {"ProjectArn": w.project, "PolicyName": "p", "PolicyRevisionId": "0" * 32})[-1]
        )
    ],
    ("DetectCustomLabels", "ResourceNotFoundException"): [
        lambda w: {"ProjectVersionArn": w.gone(w.training), "Image": {"Bytes": _jpeg(128)}}
    ],
    ("DetectCustomLabels", "ResourceNotReadyException"): [
        lambda w: {"ProjectVersionArn": w.training, "Image": {"Bytes": _jpeg(128)}},
        lambda w: {"ProjectVersionArn": w.trained, "Image": {"Bytes": _jpeg(128)}},
    ],
    ("DetectCustomLabels", "InvalidS3ObjectException"): [
        lambda w: {"ProjectVersionArn": w.running, "Image": {"S3Object": {"Bucket": BUCKET, "Name": "none.jpg"}}}
    ],
    ("DetectCustomLabels", "InvalidParameterException"): [
        lambda w: {"ProjectVersionArn": w.running, "Image": {"Bytes": _jpeg(32)}},  # too small a side
    ],
    ("DetectCustomLabels", "ImageTooLargeException"): [
        lambda w: {"ProjectVersionArn": w.running, "Image": {"Bytes": TOO_LARGE}}  # 4 MB for image bytes
    ],
    ("DetectCustomLabels", "InvalidImageFormatException"): [
        lambda w: {"ProjectVersionArn": w.running, "Image": {"Bytes": base64.b64encode(b"GIF89a....").decode()}}
    ],
}

# ---- what cannot happen here, and why ------------------------------------------------------------------

NO_IAM = (
    "recognito authenticates callers (SigV4 against its own access keys: UnrecognizedClientException, "
    "InvalidSignatureException) but has no IAM permissions: a valid key may call every operation. "
    "CopyProjectVersion's project-policy refusal is the one AccessDeniedException, triggered above."
)
NO_RATE_QUOTA = (
    "an account's request-rate quota (5 TPS for the control operations, 50 for DetectCustomLabels): a "
    "self-hosted endpoint meters no account's throughput; Lambda's concurrency and `recognito serve`'s "
    "admission bound the load instead."
)
EVERY_OPERATION = {
    "AccessDeniedException": NO_IAM,
    "ProvisionedThroughputExceededException": NO_RATE_QUOTA,
    "ThrottlingException": (
        "the control operations have no rate limit here (see ProvisionedThroughputExceededException); only "
        "inference is admitted by `recognito serve` (DetectCustomLabels, triggered below)."
    ),
    "InternalServerError": (
        "a fault of the service itself: the protocol layer answers it, without internals, for any unexpected "
        "exception (tests/test_local_invoke.py); CreateProjectVersion's own case is triggered above."
    ),
}
ALL_IN_THE_MODEL = (
    "every constraint of its request is in botocore's model (lengths, patterns, ranges), which the protocol "
    "layer checks first and answers with ValidationException, as AWS does; nothing is left for the "
    "operation to refuse as InvalidParameterException."
)
UNREACHABLE: dict[tuple[str, str], str] = {
    **{
        (operation, "InvalidParameterException"): ALL_IN_THE_MODEL
        for operation in (
            "DescribeProjects",
            "DeleteProject",
            "DescribeDataset",
            "ListDatasetEntries",
            "ListDatasetLabels",
            "DeleteDataset",
            "DescribeProjectVersions",
            "StopProjectVersion",
            "DeleteProjectVersion",
            "ListProjectPolicies",
            "DeleteProjectPolicy",
        )
    },
    ("CreateDataset", "LimitExceededException"): (
        "AWS documents no quota CreateDataset refuses at once: a manifest beyond the dataset quotas (lines, "
        "labels, size) ends the dataset CREATE_FAILED with the terminal code instead, as here "
        "(ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM, ERROR_MANIFEST_TOO_MANY_LABELS: tests/test_custom_labels.py)."
    ),
    ("DeleteDataset", "LimitExceededException"): "AWS documents no quota a deletion can exceed; recognito has none.",
    ("CopyProjectVersion", "LimitExceededException"): (
        "the concurrency quota AWS documents is for trainings; a copy here is done within its request, so no "
        "copy is ever running alongside another. The models-per-project quota is ServiceQuotaExceededException."
    ),
    ("PutProjectPolicy", "ServiceQuotaExceededException"): (
        "the one project-policy quota AWS documents (5 a project) answers LimitExceededException (triggered); "
        "a document longer than 2,000 characters is ValidationException from the model."
    ),
    ("DetectCustomLabels", "LimitExceededException"): NO_RATE_QUOTA,
}


def _documented() -> list[tuple[str, str]]:
    return [(op, shape.name) for op in OPERATIONS for shape in operation_model(op).error_shapes]


def _reason(operation: str, error: str) -> str | None:
    return UNREACHABLE.get((operation, error)) or (
        EVERY_OPERATION.get(error) if (operation, error) not in TRIGGERED_ELSEWHERE else None
    )


# Pairs of an every-operation reason that are nevertheless reachable and triggered (not by ``TRIGGERS``'s
# handler calls: DetectCustomLabels' ThrottlingException comes from `recognito serve`'s admission).
TRIGGERED_ELSEWHERE = {
    ("CopyProjectVersion", "AccessDeniedException"),
    ("CreateProjectVersion", "InternalServerError"),
    ("DetectCustomLabels", "ThrottlingException"),
}


def test_every_documented_error_is_triggered_or_explained():
    documented = _documented()
    assert len(documented) >= 159  # the 20 operations' lists as of botocore 1.43
    triggered = {*TRIGGERS, *TRIGGERED_ELSEWHERE}
    missing = [pair for pair in documented if pair not in triggered and not _reason(*pair)]
    assert not missing, f"documented errors neither triggered nor explained: {missing}"
    both = [pair for pair in TRIGGERS if pair in UNREACHABLE]
    assert not both, f"triggered and called unreachable: {both}"
    stale = [pair for pair in [*TRIGGERS, *UNREACHABLE, *TRIGGERED_ELSEWHERE] if pair not in documented]
    assert not stale, f"not in the model's error lists: {stale}"
    assert TRIGGERED_ELSEWHERE - {("DetectCustomLabels", "ThrottlingException")} <= set(TRIGGERS)


CASES = [(op, error, n) for (op, error), triggers in TRIGGERS.items() for n in range(len(triggers))]


@pytest.mark.parametrize(("operation", "error", "index"), CASES, ids=[f"{o}-{e}-{n}" for o, e, n in CASES])
def test_documented_error_is_given(operation, error, index, shared, monkeypatch):
    trigger = TRIGGERS[(operation, error)][index]
    world = World(monkeypatch) if getattr(trigger, "private", False) else shared
    world.monkeypatch = monkeypatch  # a quota a case sets is undone after it
    body = trigger(world)
    status, reply = call(operation, body)
    assert reply.get("__type") == error, (status, reply)
    assert status == (500 if error == "InternalServerError" else 400)


def test_detect_custom_labels_is_throttled_when_recognito_serve_has_no_slot(tmp_path, monkeypatch):
    """`recognito serve` admits DetectCustomLabels like any inference (its model family's slots):
    beyond the slot and the queue the request gets ThrottlingException at once."""
    from recognito_local import admission
    from recognito_local.admission import REQUEST_MB, RESERVED_MB, Admission
    from recognito_local.persistence import StateStore
    from recognito_local.server import LocalEndpoint
    from werkzeug.test import Client

    monkeypatch.setattr(admission, "QUEUE_PER_SLOT", 0)
    gate = Admission(budget=RESERVED_MB + REQUEST_MB, cores=1)
    body = {"ProjectVersionArn": "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1", "Image": {}}
    with gate.admit("DetectCustomLabels"):
        response = Client(LocalEndpoint(StateStore(tmp_path / "data"), gate)).post(
            "/",
            data=json.dumps({**body, "Image": {"Bytes": _jpeg(128)}}),
            headers={
                "X-Amz-Target": "RekognitionService.DetectCustomLabels",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
    assert (response.status_code, json.loads(response.data)["__type"]) == (400, "ThrottlingException")
