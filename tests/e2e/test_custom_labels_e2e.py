"""Custom labels trained for real through `recognito serve` with stock boto3, as a user's code does it:
photographs and Ground Truth manifests uploaded to the endpoint's S3, a project with TRAIN and TEST
datasets made from them, CreateProjectVersion (the endpoint runs statemachines/custom_labels_training
in its own Step Functions, the workers in process: the execution's history is read back), boto3's
waiters, the evaluation read back from S3, then StartProjectVersion and DetectCustomLabels on
photographs neither dataset holds, and the teardown AWS requires (stop, delete the version, the
datasets, the project).

The images are crops of three scikit-image photographs (tests/custom_labels_images.py): training
crops from the left of each photograph, testing and held-out crops from its right.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from custom_labels_images import classification_set
from models_available import needs_models
from PIL import Image

pytestmark = [pytest.mark.e2e, pytest.mark.models]

BUCKET = "e2e-custom-labels-training"
LABELS = {"cat", "coffee", "rocket"}
# Polls of 1 s: training these 15 images takes a few seconds on one core.
FAST = {"Delay": 1, "MaxAttempts": 180}


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _manifest(s3, name: str, items: list[tuple[np.ndarray, str]]) -> dict:
    """Uploads the images and their image-level Ground Truth manifest; the manifest's S3Object."""
    lines = []
    for n, (rgb, label) in enumerate(items):
        key = f"images/{name}/{n:03d}.jpg"
        s3.put_object(Bucket=BUCKET, Key=key, Body=_jpeg(rgb))
        metadata = {"class-name": label, "type": "groundtruth/image-classification", "confidence": 1}
        lines.append(json.dumps({"source-ref": f"s3://{BUCKET}/{key}", "photo": 0, "photo-metadata": metadata}))
    s3.put_object(Bucket=BUCKET, Key=f"{name}.manifest", Body="\n".join(lines).encode())
    return {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": f"{name}.manifest"}}}


def _training_run(stepfunctions, version_arn: str) -> list[str]:
    """The states the endpoint's training execution for ``version_arn`` entered, in order."""
    machine = next(
        m["stateMachineArn"]
        for m in stepfunctions.list_state_machines()["stateMachines"]
        if m["name"].endswith("custom-labels-training")
    )
    for execution in stepfunctions.list_executions(stateMachineArn=machine)["executions"]:
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        if json.loads(described["input"])["ProjectVersionArn"] == version_arn:
            assert described["status"] == "SUCCEEDED", described
            events = stepfunctions.get_execution_history(executionArn=execution["executionArn"])["events"]
            return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    raise AssertionError(f"no training execution for {version_arn}")


def test_train_evaluate_serve_and_delete_through_recognito_serve(rekognition, s3, aws_client):
    needs_models("efficientnet-lite2")
    s3.create_bucket(Bucket=BUCKET)
    # The in-process flow test's images (seeds 2 and 3), and six crops neither dataset holds.
    train_source = _manifest(s3, "train", classification_set(5, "train", seed=2))
    test_source = _manifest(s3, "test", classification_set(2, "test", seed=3))
    held_out = classification_set(2, "test", seed=12)

    project = rekognition.create_project(ProjectName="e2e-photos")["ProjectArn"]
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=train_source)
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource=test_source)
    stats = rekognition.describe_dataset(DatasetArn=train["DatasetArn"])["DatasetDescription"]["DatasetStats"]
    assert stats == {"LabeledEntries": 15, "TotalEntries": 15, "TotalLabels": 3, "ErrorEntries": 0}

    output = {"S3Bucket": BUCKET, "S3KeyPrefix": "models/"}
    version = rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=output)
    arn = version["ProjectVersionArn"]
    with pytest.raises(rekognition.exceptions.ResourceInUseException):  # the name is taken
        rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig=output)
    rekognition.get_waiter("project_version_training_completed").wait(
        ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST
    )
    entered = _training_run(aws_client("stepfunctions"), arn)  # statemachines/custom_labels_training.asl.json
    assert [state for state in entered if state != "ExtractBatch"] == [
        "Validate",
        "Extract",
        "Train",
        "Evaluate",
        "Record",
    ]
    assert entered.count("ExtractBatch") == 2  # the Map's batches: the TRAIN and the TEST images
    described = rekognition.describe_project_versions(ProjectArn=project, VersionNames=["v1"])
    description = described["ProjectVersionDescriptions"][0]
    assert description["Status"] == "TRAINING_COMPLETED" and description["BillableTrainingTimeInSeconds"] >= 1
    where = description["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=where["Bucket"], Key=where["Name"])["Body"].read())
    # F1 is the mean of the labels' on the TEST dataset; at 5 training images a label, one test
    # crop of the six may go wrong (other seeds: 0.82), so at least 0.8.
    per_label = [row["Metrics"]["F1Score"] for row in summary["LabelEvaluationResults"]]
    assert description["EvaluationResult"]["F1Score"] == pytest.approx(np.mean(per_label))
    assert description["EvaluationResult"]["F1Score"] >= 0.8
    assert summary["EvaluationDetails"]["NumberOfTrainingImages"] == 15
    assert summary["EvaluationDetails"]["NumberOfTestingImages"] == 6
    thresholds = {row["Label"]: row["Metrics"]["Threshold"] for row in summary["LabelEvaluationResults"]}
    assert set(thresholds) == LABELS

    image = {"Bytes": _jpeg(held_out[0][0])}
    with pytest.raises(rekognition.exceptions.ResourceNotReadyException):  # trained, not started
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image)
    assert rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
    rekognition.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST)
    for rgb, label in held_out:
        found = rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": _jpeg(rgb)})["CustomLabels"]
        assert found and found[0]["Name"] == label, (label, found)
        assert all(f["Confidence"] >= thresholds[f["Name"]] * 100 for f in found)
    s3.put_object(Bucket=BUCKET, Key="held-out.jpg", Body=_jpeg(held_out[-1][0]))
    from_s3 = rekognition.detect_custom_labels(
        ProjectVersionArn=arn, Image={"S3Object": {"Bucket": BUCKET, "Name": "held-out.jpg"}}, MinConfidence=0
    )["CustomLabels"]
    assert {f["Name"] for f in from_s3} == LABELS and from_s3[0]["Name"] == held_out[-1][1]

    with pytest.raises(rekognition.exceptions.ResourceInUseException):  # a running model is not deleted
        rekognition.delete_project_version(ProjectVersionArn=arn)
    assert rekognition.stop_project_version(ProjectVersionArn=arn)["Status"] == "STOPPING"
    stopped = rekognition.describe_project_versions(ProjectArn=project, VersionNames=["v1"])
    assert stopped["ProjectVersionDescriptions"][0]["Status"] == "STOPPED"
    with pytest.raises(rekognition.exceptions.ResourceNotReadyException):
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image=image)
    assert rekognition.delete_project_version(ProjectVersionArn=arn)["Status"] == "DELETING"
    for dataset in (train, test):
        rekognition.delete_dataset(DatasetArn=dataset["DatasetArn"])
    assert rekognition.delete_project(ProjectArn=project)["Status"] == "DELETING"
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.describe_project_versions(ProjectArn=project)
