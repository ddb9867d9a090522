"""Custom labels' control side through the operations' handlers: projects, datasets, versions' lifecycle,
policies and copies, with every error the API documents for them.

Training itself (the state machine and its learner) is tested in tests/test_custom_labels_training*.py;
here a version's training result is recorded the way the flow's last step records it.
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from conftest import call

pytestmark = pytest.mark.usefixtures("aws")

BUCKET = "cl-data"
KINGS, QUEENS = 6, 4


def _line(number: int, **attributes: object) -> str:
    return json.dumps({"source-ref": f"s3://{BUCKET}/img/{number:03d}.jpg", **attributes})


def _classified(number: int, label: str) -> str:
    metadata = {"class-name": label, "type": "groundtruth/image-classification", "confidence": 1}
    return _line(number, card=0, **{"card-metadata": metadata})


def _boxes(number: int, labels: list[str]) -> str:
    class_map = {"0": "king", "1": "queen"}
    ids = {name: key for key, name in class_map.items()}
    annotations = [
        {"class_id": int(ids[label]), "left": 10 * i, "top": 10, "width": 50, "height": 60}
        for i, label in enumerate(labels)
    ]
    value = {"image_size": [{"width": 200, "height": 100, "depth": 3}], "annotations": annotations}
    metadata = {
        "class-map": class_map,
        "type": "groundtruth/object-detection",
        "objects": [{"confidence": 1}] * len(labels),
    }
    return _line(number, box=value, **{"box-metadata": metadata})


# 6 king and 4 queen images (two of them with boxes: one with two kings, one with a queen),
# an unlabeled image, and three broken lines: not JSON, no source-ref, a box outside the image.
GOOD = [_classified(n, "king") for n in range(5)] + [_classified(n, "queen") for n in range(5, 8)]
GOOD += [_boxes(8, ["king", "king"]), _boxes(9, ["queen"])]
UNLABELED = [_line(10)]
BROKEN = [
    "{not json",
    json.dumps({"card": 0, "card-metadata": {"class-name": "king", "type": "groundtruth/image-classification"}}),
    _line(
        11,
        box={
            "image_size": [{"width": 20, "height": 20}],
            "annotations": [{"class_id": 0, "left": 5, "top": 5, "width": 50, "height": 5}],
        },
        **{"box-metadata": {"class-map": {"0": "king"}, "type": "groundtruth/object-detection"}},
    ),
]


def ok(operation: str, body: dict) -> dict:
    status, reply = call(operation, body)
    assert status == 200, reply
    return reply


def error(operation: str, body: dict) -> str:
    status, reply = call(operation, body)
    assert status >= 400, reply
    return reply["__type"]


@pytest.fixture
def s3():
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="train.manifest", Body="\n".join(GOOD + UNLABELED + BROKEN).encode())
    return client


@pytest.fixture
def project(s3) -> str:
    return ok("CreateProject", {"ProjectName": "cards"})["ProjectArn"]


def _manifest(key: str = "train.manifest") -> dict:
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}


@pytest.fixture
def train(project) -> str:
    return ok("CreateDataset", {"ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": _manifest()})[
        "DatasetArn"
    ]


def _entries(dataset: str, **filters: object) -> list[dict]:
    lines, token = [], None
    while True:
        reply = ok("ListDatasetEntries", {"DatasetArn": dataset, **filters, **({"NextToken": token} if token else {})})
        lines += [json.loads(line) for line in reply["DatasetEntries"]]
        token = reply.get("NextToken")
        if not token:
            return lines


# ---- projects ----------------------------------------------------------------------------------


def test_projects_create_describe_filter_page_delete():
    arns = [ok("CreateProject", {"ProjectName": f"p{i}"})["ProjectArn"] for i in range(3)]
    adapter = ok("CreateProject", {"ProjectName": "adapter", "Feature": "CONTENT_MODERATION", "AutoUpdate": "ENABLED"})
    assert arns[0].startswith("arn:aws:rekognition:us-east-1:123456789012:project/p0/")
    assert error("CreateProject", {"ProjectName": "p0"}) == "ResourceInUseException"
    assert error("CreateProject", {"ProjectName": "x", "AutoUpdate": "ENABLED"}) == "InvalidParameterException"
    assert error("CreateProject", {"ProjectName": "bad name!"}) in ("ValidationException", "InvalidParameterException")

    # Features default to CUSTOM_LABELS: the adapter only shows when asked for.
    default = ok("DescribeProjects", {})["ProjectDescriptions"]
    assert [d["ProjectArn"] for d in default] == arns
    assert {d["Status"] for d in default} == {"CREATED"} and {d["Feature"] for d in default} == {"CUSTOM_LABELS"}
    moderation = ok("DescribeProjects", {"Features": ["CONTENT_MODERATION"]})["ProjectDescriptions"]
    assert [(d["ProjectArn"], d["AutoUpdate"]) for d in moderation] == [(adapter["ProjectArn"], "ENABLED")]
    named = ok("DescribeProjects", {"ProjectNames": ["p2", "nope"]})["ProjectDescriptions"]
    assert [d["ProjectArn"] for d in named] == [arns[2]]

    seen, token = [], None
    while True:
        reply = ok("DescribeProjects", {"MaxResults": 2, **({"NextToken": token} if token else {})})
        assert len(reply["ProjectDescriptions"]) <= 2
        seen += [d["ProjectArn"] for d in reply["ProjectDescriptions"]]
        token = reply.get("NextToken")
        if not token:
            break
    assert seen == arns
    assert error("DescribeProjects", {"NextToken": "forged"}) == "InvalidPaginationTokenException"

    assert ok("DeleteProject", {"ProjectArn": arns[1]}) == {"Status": "DELETING"}
    assert error("DeleteProject", {"ProjectArn": arns[1]}) == "ResourceNotFoundException"
    # A project re-created under the same name is another project: the old ARN stays gone.
    again = ok("CreateProject", {"ProjectName": "p1"})["ProjectArn"]
    assert again != arns[1] and error("DeleteProject", {"ProjectArn": arns[1]}) == "ResourceNotFoundException"


def test_delete_project_is_refused_while_datasets_or_versions_remain(train, project):
    assert error("DeleteProject", {"ProjectArn": project}) == "ResourceInUseException"
    ok("DeleteDataset", {"DatasetArn": train})
    ok("DeleteProject", {"ProjectArn": project})


# ---- datasets ----------------------------------------------------------------------------------


def test_dataset_from_a_manifest_counts_labels_boxes_and_error_entries(train, project):
    description = ok("DescribeDataset", {"DatasetArn": train})["DatasetDescription"]
    assert description["Status"] == "CREATE_COMPLETE" and description["StatusMessageCode"] == "SUCCESS"
    assert description["DatasetStats"] == {
        "LabeledEntries": len(GOOD),
        "TotalEntries": len(GOOD + UNLABELED + BROKEN),
        "TotalLabels": 2,
        "ErrorEntries": len(BROKEN),
    }
    labels = ok("ListDatasetLabels", {"DatasetArn": train})["DatasetLabelDescriptions"]
    assert labels == [
        {"LabelName": "king", "LabelStats": {"EntryCount": KINGS, "BoundingBoxCount": 2}},
        {"LabelName": "queen", "LabelStats": {"EntryCount": QUEENS, "BoundingBoxCount": 1}},
    ]
    listed = ok("DescribeProjects", {})["ProjectDescriptions"][0]["Datasets"]
    assert [(d["DatasetType"], d["DatasetArn"], d["Status"]) for d in listed] == [("TRAIN", train, "CREATE_COMPLETE")]

    # Error entries keep their line and say why, with AWS's codes.
    errors = _entries(train, HasErrors=True)
    codes = sorted(e["code"] for entry in errors for e in entry["errors"])
    assert codes == ["ERROR_INVALID_BOUNDING_BOX", "ERROR_INVALID_JSON_LINE", "ERROR_MISSING_SOURCE_REF"]
    assert len(_entries(train)) == len(GOOD + UNLABELED + BROKEN)
    assert [e["source-ref"] for e in _entries(train, Labeled=False, HasErrors=False)] == [f"s3://{BUCKET}/img/010.jpg"]
    queens = _entries(train, ContainsLabels=["queen"])
    assert len(queens) == QUEENS and all("errors" not in entry for entry in queens)
    assert [e["source-ref"] for e in _entries(train, SourceRefContains="img/008")] == [f"s3://{BUCKET}/img/008.jpg"]
    # Pages of 3 give the same entries as one page.
    paged, token = [], None
    while True:
        reply = ok(
            "ListDatasetEntries", {"DatasetArn": train, "MaxResults": 3, **({"NextToken": token} if token else {})}
        )
        assert len(reply["DatasetEntries"]) <= 3
        paged += reply["DatasetEntries"]
        token = reply.get("NextToken")
        if not token:
            break
    assert [json.loads(line) for line in paged] == _entries(train)
    assert (
        error("ListDatasetEntries", {"DatasetArn": train, "NextToken": "x" * 40}) == "InvalidPaginationTokenException"
    )
    page = ok("ListDatasetLabels", {"DatasetArn": train, "MaxResults": 1})
    rest = ok("ListDatasetLabels", {"DatasetArn": train, "NextToken": page["NextToken"]})
    assert [d["LabelName"] for d in page["DatasetLabelDescriptions"] + rest["DatasetLabelDescriptions"]] == [
        "king",
        "queen",
    ]


def test_dataset_errors(project, train, s3):
    again = {"ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": _manifest()}
    assert error("CreateDataset", again) == "ResourceAlreadyExistsException"
    missing = {"ProjectArn": project, "DatasetType": "TEST", "DatasetSource": _manifest("nope.manifest")}
    assert error("CreateDataset", missing) == "InvalidS3ObjectException"
    both = {"ProjectArn": project, "DatasetType": "TEST", "DatasetSource": {**_manifest(), "DatasetArn": train}}
    assert error("CreateDataset", both) == "InvalidParameterException"
    gone = project.replace("/cards/", "/other/")
    assert error("CreateDataset", {"ProjectArn": gone, "DatasetType": "TEST"}) == "ResourceNotFoundException"
    unknown = train.rsplit("/", 1)[0] + "/1"
    for operation in ("DescribeDataset", "ListDatasetEntries", "ListDatasetLabels", "DeleteDataset"):
        assert error(operation, {"DatasetArn": unknown}) == "ResourceNotFoundException", operation
    assert error("DescribeDataset", {"DatasetArn": "arn:aws:rekognition:x"}) in (
        "ValidationException",
        "InvalidParameterException",
    )

    # A manifest with no valid line: the dataset fails, with the reason.
    s3.put_object(Bucket=BUCKET, Key="junk.manifest", Body=b"junk\n{}\n[1, 2]\n")
    failed = ok(
        "CreateDataset", {"ProjectArn": project, "DatasetType": "TEST", "DatasetSource": _manifest("junk.manifest")}
    )
    description = ok("DescribeDataset", {"DatasetArn": failed["DatasetArn"]})["DatasetDescription"]
    assert description["Status"] == "CREATE_FAILED" and description["StatusMessageCode"] == "CLIENT_ERROR"
    assert description["StatusMessage"].startswith("ERROR_TOO_MANY_RECORDS_IN_ERROR")
    assert error("ListDatasetEntries", {"DatasetArn": failed["DatasetArn"]}) == "ResourceNotReadyException"
    assert (
        error(
            "UpdateDatasetEntries",
            {
                "DatasetArn": failed["DatasetArn"],
                "Changes": {"GroundTruth": base64.b64encode(GOOD[0].encode()).decode()},
            },
        )
        == "ResourceInUseException"
    )
    ok("DeleteDataset", {"DatasetArn": failed["DatasetArn"]})
    assert error("DescribeDataset", {"DatasetArn": failed["DatasetArn"]}) == "ResourceNotFoundException"


def test_copy_update_and_distribute(project, train):
    # A copy (here into another project) has the same entries.
    other = ok("CreateProject", {"ProjectName": "copy"})["ProjectArn"]
    copied = ok("CreateDataset", {"ProjectArn": other, "DatasetType": "TRAIN", "DatasetSource": {"DatasetArn": train}})
    assert _entries(copied["DatasetArn"]) == _entries(train)

    # Update: one line replaced by its source-ref (a king becomes a queen), one added.
    changes = "\n".join([_classified(0, "queen"), _classified(20, "king")]).encode()
    ok("UpdateDatasetEntries", {"DatasetArn": train, "Changes": {"GroundTruth": base64.b64encode(changes).decode()}})
    description = ok("DescribeDataset", {"DatasetArn": train})["DatasetDescription"]
    assert description["Status"] == "UPDATE_COMPLETE"
    assert description["DatasetStats"]["TotalEntries"] == len(GOOD + UNLABELED + BROKEN) + 1
    counts = {
        d["LabelName"]: d["LabelStats"]["EntryCount"]
        for d in ok("ListDatasetLabels", {"DatasetArn": train})["DatasetLabelDescriptions"]
    }
    assert counts == {"king": KINGS, "queen": QUEENS + 1}
    assert _entries(copied["DatasetArn"]) != _entries(train)  # the copy is its own

    # Distribute: about 20% of the labeled images, of each label, move to the empty TEST dataset.
    test = ok("CreateDataset", {"ProjectArn": project, "DatasetType": "TEST"})["DatasetArn"]
    assert ok("DescribeDataset", {"DatasetArn": test})["DatasetDescription"]["DatasetStats"]["TotalEntries"] == 0
    assert (
        error("DistributeDatasetEntries", {"Datasets": [{"Arn": train}, {"Arn": train}]}) == "InvalidParameterException"
    )
    foreign = {"Datasets": [{"Arn": copied["DatasetArn"]}, {"Arn": test}]}
    assert error("DistributeDatasetEntries", foreign) == "InvalidParameterException"
    before = {json.dumps(e, sort_keys=True) for e in _entries(train)}
    ok("DistributeDatasetEntries", {"Datasets": [{"Arn": train}, {"Arn": test}]})
    moved = {json.dumps(e, sort_keys=True) for e in _entries(test)}
    kept = {json.dumps(e, sort_keys=True) for e in _entries(train)}
    assert moved | kept == before and not moved & kept
    labeled = len(GOOD) + 1
    assert len(moved) == -(-labeled // 5)  # ceil(20%)
    test_labels = {d["LabelName"] for d in ok("ListDatasetLabels", {"DatasetArn": test})["DatasetLabelDescriptions"]}
    train_labels = {d["LabelName"] for d in ok("ListDatasetLabels", {"DatasetArn": train})["DatasetLabelDescriptions"]}
    assert test_labels == train_labels == {"king", "queen"}
    for arn in (train, test):
        assert ok("DescribeDataset", {"DatasetArn": arn})["DatasetDescription"]["Status"] == "UPDATE_COMPLETE"
    # The test dataset is no longer empty.
    assert (
        error("DistributeDatasetEntries", {"Datasets": [{"Arn": train}, {"Arn": test}]}) == "InvalidParameterException"
    )


def test_distribute_needs_two_images_of_every_label(project, s3):
    s3.put_object(
        Bucket=BUCKET,
        Key="one.manifest",
        Body="\n".join([_classified(0, "king"), _classified(1, "queen"), _classified(2, "queen")]).encode(),
    )
    train = ok(
        "CreateDataset", {"ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": _manifest("one.manifest")}
    )["DatasetArn"]
    test = ok("CreateDataset", {"ProjectArn": project, "DatasetType": "TEST"})["DatasetArn"]
    ok("DistributeDatasetEntries", {"Datasets": [{"Arn": test}, {"Arn": train}]})
    for arn in (train, test):
        description = ok("DescribeDataset", {"DatasetArn": arn})["DatasetDescription"]
        assert description["Status"] == "UPDATE_FAILED"
        assert description["StatusMessage"].startswith("ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE")
    assert len(_entries(train)) == 3 and _entries(test) == []


# ---- versions ----------------------------------------------------------------------------------

OUTPUT = {"S3Bucket": BUCKET, "S3KeyPrefix": "models/"}


@pytest.fixture
def state_machine():
    from recognito.custom_labels.versions import state_machine_arn

    sfn = boto3.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    sfn.create_state_machine(
        name=state_machine_arn().rpartition(":")[2],
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    return sfn


def _train(project: str, name: str) -> str:
    return ok("CreateProjectVersion", {"ProjectArn": project, "VersionName": name, "OutputConfig": OUTPUT})[
        "ProjectVersionArn"
    ]


def _trained(version: str, s3) -> dict:
    """What the training flow's last step records: a model in S3 and its evaluation."""
    from recognito.custom_labels import versions

    s3.put_object(Bucket=BUCKET, Key="models/cards/v1/model.npz", Body=b"weights")
    s3.put_object(Bucket=BUCKET, Key="models/cards/v1/evaluation.json", Body=b'{"AggregatedEvaluationResults": {}}')
    evaluation = {
        "F1Score": 0.9,
        "Summary": {"S3Object": {"Bucket": BUCKET, "Name": "models/cards/v1/evaluation.json"}},
    }
    versions.record_training_result(
        version,
        status="TRAINING_COMPLETED",
        message=None,
        evaluation=evaluation,
        training_result={"Input": {}, "Output": {}},
        testing_result={"Input": {}, "Output": {}},
        manifest_summary={"S3Object": {"Bucket": BUCKET, "Name": "models/cards/v1/manifest_summary.json"}},
        billable_seconds=12,
        model_artifact=f"s3://{BUCKET}/models/cards/v1/model.npz",
    )
    return evaluation


def _status(project: str, name: str) -> str:
    descriptions = ok("DescribeProjectVersions", {"ProjectArn": project, "VersionNames": [name]})[
        "ProjectVersionDescriptions"
    ]
    return descriptions[0]["Status"]


def test_create_project_version_checks_and_starts_training(project, train, state_machine, s3):
    assert (
        error(
            "CreateProjectVersion",
            {"ProjectArn": project.replace("/cards/", "/x/"), "VersionName": "v", "OutputConfig": OUTPUT},
        )
        == "ResourceNotFoundException"
    )
    config = {"ContentModeration": {"ConfidenceThreshold": 50}}
    moderation = {"ProjectArn": project, "VersionName": "v", "OutputConfig": OUTPUT, "FeatureConfig": config}
    assert error("CreateProjectVersion", moderation) == "InvalidParameterException"
    legacy = {"ProjectArn": project, "VersionName": "v", "OutputConfig": OUTPUT, "TrainingData": {"Assets": []}}
    assert error("CreateProjectVersion", legacy) == "InvalidParameterException"  # the project has datasets

    version = _train(project, "v1")
    assert version.startswith(project.rsplit("/", 1)[0] + "/version/v1/")
    assert (
        error("CreateProjectVersion", {"ProjectArn": project, "VersionName": "v1", "OutputConfig": OUTPUT})
        == "ResourceInUseException"
    )
    executions = state_machine.list_executions(
        stateMachineArn=state_machine.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    )
    started = [
        state_machine.describe_execution(executionArn=e["executionArn"])["input"] for e in executions["executions"]
    ]
    assert [json.loads(text) for text in started] == [{"ProjectVersionArn": version}]

    from recognito.custom_labels import versions

    record = versions.get(version)
    assert (record.status, record.train_dataset_arn, record.test_dataset_arn) == ("TRAINING_IN_PROGRESS", train, None)
    assert record.output_config == OUTPUT and record.feature == "CUSTOM_LABELS"
    # Training: neither started, deleted, copied nor stopped.
    assert (
        error("StartProjectVersion", {"ProjectVersionArn": version, "MinInferenceUnits": 1}) == "ResourceInUseException"
    )
    assert error("DeleteProjectVersion", {"ProjectVersionArn": version}) == "ResourceInUseException"
    assert error("StopProjectVersion", {"ProjectVersionArn": version}) == "ResourceInUseException"

    evaluation = _trained(version, s3)
    description = ok("DescribeProjectVersions", {"ProjectArn": project})["ProjectVersionDescriptions"][0]
    assert description["Status"] == "TRAINING_COMPLETED" and description["EvaluationResult"] == evaluation
    assert description["BillableTrainingTimeInSeconds"] == 12 and description["OutputConfig"] == OUTPUT
    assert "TrainingEndTimestamp" in description and description["ManifestSummary"]["S3Object"]["Bucket"] == BUCKET
    failed = {
        "status": "TRAINING_FAILED",
        "message": "ERROR_TOO_FEW_IMAGES: late",
        "evaluation": None,
        "training_result": None,
        "testing_result": None,
        "manifest_summary": None,
        "billable_seconds": 3,
        "model_artifact": None,
    }
    versions.record_training_result(version, **failed)  # a repeated (late) result changes nothing
    assert _status(project, "v1") == "TRAINING_COMPLETED"
    other = _train(project, "v2")
    versions.record_training_result(other, **failed)
    description = ok("DescribeProjectVersions", {"ProjectArn": project, "VersionNames": ["v2"]})
    description = description["ProjectVersionDescriptions"][0]
    assert (description["Status"], description["StatusMessage"]) == ("TRAINING_FAILED", "ERROR_TOO_FEW_IMAGES: late")
    assert "EvaluationResult" not in description and description["BillableTrainingTimeInSeconds"] == 3
    assert (
        error("StartProjectVersion", {"ProjectVersionArn": other, "MinInferenceUnits": 1}) == "ResourceInUseException"
    )
    assert (
        error(
            "CopyProjectVersion",
            {
                "SourceProjectArn": project,
                "SourceProjectVersionArn": other,
                "DestinationProjectArn": project,
                "VersionName": "copy",
                "OutputConfig": OUTPUT,
            },
        )
        == "ResourceInUseException"
    )
    ok("DeleteProjectVersion", {"ProjectVersionArn": other})


def test_project_without_a_training_dataset_or_ready_datasets(project, state_machine):
    body = {"ProjectArn": project, "VersionName": "v", "OutputConfig": OUTPUT}
    assert error("CreateProjectVersion", body) == "InvalidParameterException"
    # TrainingData whose manifest cannot be read: the version fails untrained, saying why.
    legacy = {**body, "TrainingData": {"Assets": [_manifest("missing.manifest")]}, "TestingData": {"AutoCreate": True}}
    version = ok("CreateProjectVersion", legacy)["ProjectVersionArn"]
    description = ok("DescribeProjectVersions", {"ProjectArn": project})["ProjectVersionDescriptions"][0]
    assert description["ProjectVersionArn"] == version and description["Status"] == "TRAINING_FAILED"
    assert description["StatusMessage"].startswith("ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT")


def test_legacy_training_data_is_read_into_the_versions_own_entries(project, state_machine):
    from recognito.custom_labels import datasets, versions

    body = {
        "ProjectArn": project,
        "VersionName": "v",
        "OutputConfig": OUTPUT,
        "TrainingData": {"Assets": [_manifest()]},
    }
    record = versions.get(ok("CreateProjectVersion", body)["ProjectVersionArn"])
    assert record.status == "TRAINING_IN_PROGRESS" and record.test_dataset_arn is None
    read = list(datasets.entries(record.train_dataset_arn))
    assert len(read) == len(GOOD + UNLABELED + BROKEN) and sum(entry.has_errors for entry in read) == len(BROKEN)


def test_start_stop_delete_and_describe_pages(project, train, state_machine, s3, monkeypatch):
    from recognito.settings import settings

    monkeypatch.setenv("RECOGNITO_CUSTOM_LABELS_MAX_TRAININGS", "3")  # these never end training (a Pass flow)
    settings.cache_clear()
    names = ["v1", "v2", "v3"]
    arns = [_train(project, name) for name in names]
    _trained(arns[0], s3)
    start = {"ProjectVersionArn": arns[0], "MinInferenceUnits": 1}
    assert error("StartProjectVersion", {**start, "MaxInferenceUnits": 0}) in (
        "ValidationException",
        "InvalidParameterException",
    )
    assert (
        error("StartProjectVersion", {**start, "MinInferenceUnits": 3, "MaxInferenceUnits": 2})
        == "InvalidParameterException"
    )
    assert ok("StartProjectVersion", {**start, "MaxInferenceUnits": 2}) == {"Status": "STARTING"}
    description = ok("DescribeProjectVersions", {"ProjectArn": project, "VersionNames": ["v1"]})[
        "ProjectVersionDescriptions"
    ][0]
    assert (description["Status"], description["MinInferenceUnits"], description["MaxInferenceUnits"]) == (
        "RUNNING",
        1,
        2,
    )
    assert error("StartProjectVersion", start) == "ResourceInUseException"
    assert error("DeleteProjectVersion", {"ProjectVersionArn": arns[0]}) == "ResourceInUseException"
    assert ok("StopProjectVersion", {"ProjectVersionArn": arns[0]}) == {"Status": "STOPPING"}
    assert _status(project, "v1") == "STOPPED"
    assert error("StopProjectVersion", {"ProjectVersionArn": arns[0]}) == "ResourceInUseException"

    # A model whose artifact is gone fails to start, and says so.
    s3.delete_object(Bucket=BUCKET, Key="models/cards/v1/model.npz")
    ok("StartProjectVersion", start)
    assert _status(project, "v1") == "FAILED"

    # Newest first, in pages.
    seen, token = [], None
    while True:
        reply = ok(
            "DescribeProjectVersions",
            {"ProjectArn": project, "MaxResults": 2, **({"NextToken": token} if token else {})},
        )
        seen += [d["ProjectVersionArn"] for d in reply["ProjectVersionDescriptions"]]
        token = reply.get("NextToken")
        if not token:
            break
    assert seen == arns[::-1]
    assert (
        error("DescribeProjectVersions", {"ProjectArn": project, "NextToken": "bad"})
        == "InvalidPaginationTokenException"
    )
    assert (
        error("DescribeProjectVersions", {"ProjectArn": project.replace("/cards/", "/none/")})
        == "ResourceNotFoundException"
    )

    assert ok("DeleteProjectVersion", {"ProjectVersionArn": arns[0]}) == {"Status": "DELETING"}
    assert error("DeleteProjectVersion", {"ProjectVersionArn": arns[0]}) == "ResourceNotFoundException"
    assert error("StartProjectVersion", start) == "ResourceNotFoundException"
    assert error("StopProjectVersion", {"ProjectVersionArn": arns[0]}) == "ResourceNotFoundException"


# ---- policies and copies ---------------------------------------------------------------------------


def _policy(effect: str = "Allow", principal: object = "*", resource: str = "*") -> str:
    statement = {
        "Effect": effect,
        "Principal": principal,
        "Action": "rekognition:CopyProjectVersion",
        "Resource": resource,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_project_policies_revisions_and_errors(project):
    put = {"ProjectArn": project, "PolicyName": "share", "PolicyDocument": _policy()}
    first = ok("PutProjectPolicy", put)["PolicyRevisionId"]
    assert error("PutProjectPolicy", put) == "ResourceAlreadyExistsException"
    assert error("PutProjectPolicy", {**put, "PolicyRevisionId": "0" * 32}) == "InvalidPolicyRevisionIdException"
    second = ok("PutProjectPolicy", {**put, "PolicyRevisionId": first})["PolicyRevisionId"]
    assert second != first
    assert error("PutProjectPolicy", {**put, "PolicyRevisionId": first}) == "InvalidPolicyRevisionIdException"
    fresh = {**put, "PolicyName": "new", "PolicyRevisionId": first}
    assert error("PutProjectPolicy", fresh) == "InvalidPolicyRevisionIdException"
    for document in (
        "{",
        "[]",
        json.dumps({"Statement": []}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}),
    ):
        assert (
            error("PutProjectPolicy", {**put, "PolicyName": "bad", "PolicyDocument": document})
            == "MalformedPolicyDocumentException"
        ), document
    for number in range(4):
        ok("PutProjectPolicy", {**put, "PolicyName": f"p{number}"})
    assert error("PutProjectPolicy", {**put, "PolicyName": "sixth"}) == "LimitExceededException"

    listed = ok("ListProjectPolicies", {"ProjectArn": project, "MaxResults": 2})
    rest, token = [], listed.get("NextToken")
    while token:
        reply = ok("ListProjectPolicies", {"ProjectArn": project, "NextToken": token})
        rest += reply["ProjectPolicies"]
        token = reply.get("NextToken")
    policies = listed["ProjectPolicies"] + rest
    assert sorted(p["PolicyName"] for p in policies) == ["p0", "p1", "p2", "p3", "share"]
    share = next(p for p in policies if p["PolicyName"] == "share")
    assert share["PolicyRevisionId"] == second and json.loads(share["PolicyDocument"]) == json.loads(_policy())
    assert share["ProjectArn"] == project and share["LastUpdatedTimestamp"] >= share["CreationTimestamp"]

    delete = {"ProjectArn": project, "PolicyName": "share"}
    assert error("DeleteProjectPolicy", {**delete, "PolicyRevisionId": first}) == "InvalidPolicyRevisionIdException"
    ok("DeleteProjectPolicy", {**delete, "PolicyRevisionId": second})
    assert error("DeleteProjectPolicy", delete) == "ResourceNotFoundException"
    gone = project.replace("/cards/", "/gone/")
    assert error("ListProjectPolicies", {"ProjectArn": gone}) == "ResourceNotFoundException"
    assert error("PutProjectPolicy", {**put, "ProjectArn": gone}) == "ResourceNotFoundException"
    adapter = ok("CreateProject", {"ProjectName": "adapter", "Feature": "CONTENT_MODERATION"})["ProjectArn"]
    assert error("PutProjectPolicy", {**put, "ProjectArn": adapter}) == "InvalidParameterException"
    # Deleting the project deletes its policies.
    ok("DeleteProject", {"ProjectArn": project})
    again = ok("CreateProject", {"ProjectName": "cards"})["ProjectArn"]
    assert ok("ListProjectPolicies", {"ProjectArn": again})["ProjectPolicies"] == []


def test_copy_project_version_copies_model_and_evaluation_where_policies_allow(project, train, state_machine, s3):
    source = _train(project, "v1")
    destination = ok("CreateProject", {"ProjectName": "prod"})["ProjectArn"]
    copy = {
        "SourceProjectArn": project,
        "SourceProjectVersionArn": source,
        "DestinationProjectArn": destination,
        "VersionName": "from-cards",
        "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": "prod/"},
    }
    assert error("CopyProjectVersion", copy) == "ResourceInUseException"  # still training: no model yet
    evaluation = _trained(source, s3)

    # Policies that speak of another account, or deny, keep the model where it is.
    account = "123456789012"
    put = {"ProjectArn": project, "PolicyName": "share"}
    revision = ok(
        "PutProjectPolicy", {**put, "PolicyDocument": _policy(principal={"AWS": "arn:aws:iam::111122223333:root"})}
    )["PolicyRevisionId"]
    assert error("CopyProjectVersion", copy) == "AccessDeniedException"
    revision = ok(
        "PutProjectPolicy",
        {
            **put,
            "PolicyRevisionId": revision,
            "PolicyDocument": _policy(principal={"AWS": account}, resource=source.rsplit("/", 2)[0] + "/other/*"),
        },
    )["PolicyRevisionId"]
    assert error("CopyProjectVersion", copy) == "AccessDeniedException"
    ok(
        "PutProjectPolicy",
        {
            **put,
            "PolicyRevisionId": revision,
            "PolicyDocument": _policy(
                principal={"AWS": f"arn:aws:iam::{account}:root"}, resource=source.rsplit("/", 1)[0] + "/*"
            ),
        },
    )
    # Denials for other accounts only (one principal malformed, one excluded by NotPrincipal) deny nothing here.
    odd = _policy(effect="Deny", principal={"AWS": ["arn:aws:iam", "arn:aws:iam::999988887777:root"]})
    ok("PutProjectPolicy", {**put, "PolicyName": "odd", "PolicyDocument": odd})
    others = json.loads(_policy(effect="Deny"))["Statement"][0]
    others = {**{k: v for k, v in others.items() if k != "Principal"}, "NotPrincipal": {"AWS": account}}
    document = json.dumps({"Version": "2012-10-17", "Statement": others})
    ok("PutProjectPolicy", {**put, "PolicyName": "others", "PolicyDocument": document})
    deny = ok("PutProjectPolicy", {**put, "PolicyName": "deny", "PolicyDocument": _policy(effect="Deny")})[
        "PolicyRevisionId"
    ]
    assert error("CopyProjectVersion", copy) == "AccessDeniedException"
    ok("DeleteProjectPolicy", {**put, "PolicyName": "deny", "PolicyRevisionId": deny})

    copied = ok("CopyProjectVersion", copy)["ProjectVersionArn"]
    assert error("CopyProjectVersion", copy) == "ResourceInUseException"  # the name is taken
    description = ok("DescribeProjectVersions", {"ProjectArn": destination})["ProjectVersionDescriptions"][0]
    assert description["ProjectVersionArn"] == copied and description["Status"] == "COPYING_COMPLETED"
    assert description["SourceProjectVersionArn"] == source
    assert description["EvaluationResult"]["F1Score"] == evaluation["F1Score"]
    summary = description["EvaluationResult"]["Summary"]["S3Object"]
    assert (
        summary["Name"].startswith("prod/")
        and s3.get_object(**{"Bucket": summary["Bucket"], "Key": summary["Name"]})["Body"].read()
        == b'{"AggregatedEvaluationResults": {}}'
    )
    from recognito.custom_labels import versions

    artifact = versions.get(copied).model_artifact
    bucket, _, key = artifact.removeprefix("s3://").partition("/")
    assert (
        key.startswith("prod/prod/from-cards/") and s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"weights"
    )
    # The copy runs on its own model.
    ok("StartProjectVersion", {"ProjectVersionArn": copied, "MinInferenceUnits": 1})
    assert _status(destination, "from-cards") == "RUNNING"

    assert error("CopyProjectVersion", {**copy, "SourceProjectArn": destination}) == "ResourceNotFoundException"
    assert (
        error("CopyProjectVersion", {**copy, "DestinationProjectArn": destination.replace("/prod/", "/nope/")})
        == "ResourceNotFoundException"
    )
    adapter = ok("CreateProject", {"ProjectName": "adapter", "Feature": "CONTENT_MODERATION"})["ProjectArn"]
    assert (
        error("CopyProjectVersion", {**copy, "DestinationProjectArn": adapter, "VersionName": "x"})
        == "InvalidParameterException"
    )


# ---- boto3's waiters -------------------------------------------------------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: object):
        yield self.data


@pytest.fixture
def rekognition():
    """A stock boto3 client whose requests go to the operations' handlers in this process."""
    from botocore import xform_name
    from botocore.awsrequest import AWSResponse
    from conftest import invoke_event
    from recognito.protocol import proxy_event

    client = boto3.client("rekognition", endpoint_url="http://recognito.invalid")

    def send(request, **_: object) -> AWSResponse:
        headers = {key: value.decode() if isinstance(value, bytes) else value for key, value in request.headers.items()}
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        operation = headers["X-Amz-Target"].rpartition(".")[2]
        reply = invoke_event(xform_name(operation), proxy_event(body, headers))
        return AWSResponse(request.url, reply["statusCode"], reply["headers"], _Body(reply["body"].encode()))

    client.meta.events.register("before-send.rekognition", send)
    return client


def test_boto3_waiters_see_training_and_serving_end(rekognition, project, train, state_machine, s3):
    from botocore.exceptions import WaiterError

    fast = {"Delay": 1, "MaxAttempts": 2}
    good, bad = _train(project, "good"), _train(project, "bad")
    with pytest.raises(WaiterError):  # still training after two polls
        rekognition.get_waiter("project_version_training_completed").wait(
            ProjectArn=project, VersionNames=["good"], WaiterConfig=fast
        )
    _trained(good, s3)
    rekognition.get_waiter("project_version_training_completed").wait(
        ProjectArn=project, VersionNames=["good"], WaiterConfig=fast
    )
    from recognito.custom_labels import versions

    versions.record_training_result(
        bad,
        status="TRAINING_FAILED",
        message="ERROR_TOO_FEW_IMAGES",
        evaluation=None,
        training_result=None,
        testing_result=None,
        manifest_summary=None,
        billable_seconds=1,
        model_artifact=None,
    )
    with pytest.raises(WaiterError, match="failure state"):
        rekognition.get_waiter("project_version_training_completed").wait(
            ProjectArn=project, VersionNames=["bad"], WaiterConfig=fast
        )

    assert rekognition.start_project_version(ProjectVersionArn=good, MinInferenceUnits=1)["Status"] == "STARTING"
    rekognition.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["good"], WaiterConfig=fast)
    rekognition.stop_project_version(ProjectVersionArn=good)
    s3.delete_object(Bucket=BUCKET, Key="models/cards/v1/model.npz")
    rekognition.start_project_version(ProjectVersionArn=good, MinInferenceUnits=1)
    with pytest.raises(WaiterError, match="failure state"):
        rekognition.get_waiter("project_version_running").wait(
            ProjectArn=project, VersionNames=["good"], WaiterConfig=fast
        )
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.start_project_version(ProjectVersionArn=bad, MinInferenceUnits=1)
    pages = rekognition.get_paginator("describe_project_versions").paginate(
        ProjectArn=project, PaginationConfig={"PageSize": 1}
    )
    assert [d["ProjectVersionArn"] for page in pages for d in page["ProjectVersionDescriptions"]] == [bad, good]


def test_tags_of_projects_datasets_and_versions(project, train, state_machine):
    tagged = ok("CreateProject", {"ProjectName": "tagged", "Tags": {"team": "vision"}})["ProjectArn"]
    assert ok("ListTagsForResource", {"ResourceArn": tagged})["Tags"] == {"team": "vision"}
    version = _train(project, "v1")
    for arn in (project, train, version):
        ok("TagResource", {"ResourceArn": arn, "Tags": {"stage": "dev", "owner": "me"}})
        ok("UntagResource", {"ResourceArn": arn, "TagKeys": ["owner"]})
        assert ok("ListTagsForResource", {"ResourceArn": arn})["Tags"] == {"stage": "dev"}
    missing = version.rsplit("/", 1)[0] + "/1"
    assert error("ListTagsForResource", {"ResourceArn": missing}) == "ResourceNotFoundException"
    # Tagging changes nothing else of the version.
    assert _status(project, "v1") == "TRAINING_IN_PROGRESS"


def test_output_config_needs_a_bucket_and_an_unstartable_flow_fails_the_version(project, train):
    body = {"ProjectArn": project, "VersionName": "v", "OutputConfig": {"S3KeyPrefix": "models/"}}
    assert error("CreateProjectVersion", body) == "InvalidParameterException"
    # No state machine deployed: the version fails at once instead of training forever.
    status, reply = call("CreateProjectVersion", {**body, "OutputConfig": OUTPUT})
    assert status == 500 and reply["__type"] == "InternalServerError"
    assert _status(project, "v") == "TRAINING_FAILED"


def test_recognito_serve_resumes_a_training_a_restart_interrupted(project, train, state_machine):
    """A version still training whose execution no longer runs gets a new one (as video jobs do);
    after MAX_RUNS interrupted runs it ends TRAINING_FAILED instead."""
    from recognito.custom_labels import versions
    from recognito_local.stepfunctions import INTERRUPTED_MESSAGE, MAX_RUNS, resume_interrupted_jobs, run_name

    version = _train(project, "v1")
    machine = versions.state_machine_arn()
    executions = machine.replace(":stateMachine:", ":execution:")
    first = f"{executions}:{versions.execution_name(version)}"
    assert json.loads(state_machine.describe_execution(executionArn=first)["input"]) == {"ProjectVersionArn": version}
    assert resume_interrupted_jobs() == {"resumed": [], "failed": []}  # its execution still runs
    for run in range(1, MAX_RUNS):
        state_machine.stop_execution(executionArn=f"{executions}:{run_name(versions.execution_name(version), run)}")
        assert resume_interrupted_jobs() == {"resumed": [version], "failed": []}
    state_machine.stop_execution(executionArn=f"{executions}:{run_name(versions.execution_name(version), MAX_RUNS)}")
    assert resume_interrupted_jobs() == {"resumed": [], "failed": [version]}
    description = ok("DescribeProjectVersions", {"ProjectArn": project})["ProjectVersionDescriptions"][0]
    assert (description["Status"], description["StatusMessage"]) == ("TRAINING_FAILED", INTERRUPTED_MESSAGE)
    assert resume_interrupted_jobs() == {"resumed": [], "failed": []}


def test_a_dataset_left_in_progress_by_a_dead_request_fails_and_can_be_deleted(train):
    from datetime import UTC, datetime, timedelta

    from recognito.custom_labels import datasets

    record = datasets.get_dataset(train)
    record.status, record.updated = "UPDATE_IN_PROGRESS", datetime.now(UTC) - timedelta(minutes=1)
    record.save()
    assert error("DeleteDataset", {"DatasetArn": train}) == "ResourceInUseException"  # it may still be running
    record.updated = datetime.now(UTC) - datasets.STALE - timedelta(seconds=1)
    record.save()
    description = ok("DescribeDataset", {"DatasetArn": train})["DatasetDescription"]
    assert (description["Status"], description["StatusMessageCode"]) == ("UPDATE_FAILED", "SERVICE_ERROR")
    ok("DeleteDataset", {"DatasetArn": train})


@pytest.mark.parametrize(
    ("left", "ends"), [("STARTING", "FAILED"), ("STOPPING", "STOPPED"), ("COPYING_IN_PROGRESS", "COPYING_FAILED")]
)
def test_a_transition_a_dead_request_left_half_done_ends(project, train, state_machine, left, ends):
    from datetime import UTC, datetime, timedelta

    from recognito.custom_labels import datasets, versions

    version = _train(project, "v1")
    record = versions.get(version)
    record.status, record.updated = left, datetime.now(UTC)
    record.save()
    assert error("DeleteProjectVersion", {"ProjectVersionArn": version}) == "ResourceInUseException"
    record.updated = datetime.now(UTC) - datasets.STALE - timedelta(seconds=1)
    record.save()
    assert _status(project, "v1") == ends
    ok("DeleteProjectVersion", {"ProjectVersionArn": version})
