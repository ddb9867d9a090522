"""Custom labels training on small real datasets (tests/custom_labels_images.py: scikit-image's
photographs, cropped and composited), asserted on images the models did not train on.

- the learner: a classifier and a detector trained on the backbone's features;
- the flow: CreateProjectVersion runs statemachines/custom_labels_training.asl.json in moto's
  interpreter with the workers bridged in, then StartProjectVersion and DetectCustomLabels;
- the validation rules that end a version TRAINING_FAILED with a message.
"""

from __future__ import annotations

import base64
import io
import json
import time

import boto3
import numpy as np
import pytest
from conftest import call
from custom_labels_images import classification_set, detection_set
from moto import mock_aws
from PIL import Image
from recognito.custom_labels.manifests import parse_line
from recognito.custom_labels.training import backbone, flow, model
from recognito.custom_labels.training.flow import TrainingFailure, evaluate_model
from recognito.custom_labels.training.model import Example, Model

BUCKET = "custom-labels"


def _line(ref: str, label: str) -> str:
    return json.dumps(
        {
            "source-ref": ref,
            "photo": 0,
            "photo-metadata": {"class-name": label, "type": "groundtruth/image-classification"},
        }
    )


# ---- validation (no models) -----------------------------------------------------------------------


def test_plan_refuses_what_cannot_train_and_splits_when_there_is_no_test_set():
    one_label = [parse_line(_line(f"s3://b/{n}.jpg", "cat")) for n in range(6)]
    with pytest.raises(TrainingFailure, match="only one label"):
        flow.plan(one_label, None)
    few = one_label + [parse_line(_line("s3://b/dog.jpg", "dog"))]
    with pytest.raises(TrainingFailure, match="Too few training images.*dog"):
        flow.plan(few, None)
    with pytest.raises(TrainingFailure, match="no labeled images"):
        flow.plan([parse_line(json.dumps({"source-ref": "s3://b/x.jpg"}))], None)
    entries = [parse_line(_line(f"s3://b/{label}{n}.jpg", label)) for label in ("cat", "dog") for n in range(10)]
    planned = flow.plan(entries, None)
    assert planned["Kind"] == "classification" and planned["Labels"] == ["cat", "dog"]
    test_refs = {item["SourceRef"] for item in planned["Test"]}
    assert len(test_refs) == 4 and not test_refs & {item["SourceRef"] for item in planned["Train"]}
    assert {tuple(item["Labels"]) for item in planned["Test"]} == {("cat",), ("dog",)}
    assert flow.plan(entries, None) == planned  # the split is stable


# ---- the learner ----------------------------------------------------------------------------------


@pytest.mark.models
def test_classifier_names_held_out_photographs_and_survives_its_artifact():
    train, test = classification_set(6, "train", seed=0), classification_set(3, "test", seed=1)
    labels = ("cat", "coffee", "rocket")
    trained = model.train(
        "classification", backbone.embed([rgb for rgb, _ in train]), [Example(frozenset([y])) for _, y in train], labels
    )
    restored = Model.from_bytes(trained.to_bytes())
    embedded = backbone.embed([rgb for rgb, _ in test])
    found = restored.predict(embedded)
    assert [image[0][0] for image in found] == [label for _, label in test]
    metrics, extra, images, f1 = evaluate_model(restored, embedded, [Example(frozenset([y])) for _, y in test])
    assert f1 >= 0.9 and images == {"cat": 3, "coffee": 3, "rocket": 3}
    assert all(0.0 < metrics[label]["Threshold"] < 1.0 for label in labels)
    assert {row["Value"] for row in extra["ConfusionMatrix"] if row["GroundTruthLabel"] == row["PredictedLabel"]} == {
        1.0
    }


@pytest.mark.models
def test_detector_finds_and_boxes_held_out_objects():
    train, test = detection_set(24, seed=0), detection_set(8, seed=1)

    def examples(items):
        return [
            Example(frozenset(label for label, _ in boxes), tuple((label, np.array(b)) for label, b in boxes))
            for _, boxes in items
        ]

    trained = model.train("detection", backbone.embed([rgb for rgb, _ in train]), examples(train), ("cat", "cup"))
    restored = Model.from_bytes(trained.to_bytes())
    embedded = backbone.embed([rgb for rgb, _ in test])
    _, extra, _, _ = evaluate_model(restored, embedded, examples(test))
    assert extra["AveragePrecision"] >= 0.6, extra
    # most objects have their label's best-scoring box of the image centred on them
    centred = []
    for found, (_, boxes) in zip(restored.predict(embedded), test, strict=True):
        for label, (left, top, width, height) in boxes:
            best = next(box for name, _, box in found if name == label)
            cx, cy = best[0] + best[2] / 2, best[1] + best[3] / 2
            centred.append(left <= cx <= left + width and top <= cy <= top + height)
    assert np.mean(centred) >= 0.75, centred


# ---- the flow, in moto's Step Functions interpreter -------------------------------------------------


@pytest.fixture
def training_aws():
    from recognito.storage import ensure_tables
    from recognito_local.stepfunctions import bridge_lambda_tasks, ensure_video_jobs

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        ensure_tables()
        bridge_lambda_tasks()
        ensure_video_jobs()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _b64(rgb: np.ndarray) -> str:
    return base64.b64encode(_jpeg(rgb)).decode()


def _upload(s3, items: list[tuple[np.ndarray, str]], name: str) -> str:
    lines = []
    for n, (rgb, label) in enumerate(items):
        key = f"images/{name}-{n}.jpg"
        s3.put_object(Bucket=BUCKET, Key=key, Body=_jpeg(rgb))
        lines.append(_line(f"s3://{BUCKET}/{key}", label))
    s3.put_object(Bucket=BUCKET, Key=f"{name}.manifest", Body="\n".join(lines).encode())
    return f"{name}.manifest"


def ok(operation: str, body: dict) -> dict:
    status, reply = call(operation, body)
    assert status == 200, reply
    return reply


def _trained(project: str, name: str) -> dict:
    for _ in range(1200):
        version = ok("DescribeProjectVersions", {"ProjectArn": project, "VersionNames": [name]})
        description = version["ProjectVersionDescriptions"][0]
        if description["Status"] != "TRAINING_IN_PROGRESS":
            return description
        time.sleep(0.1)
    raise AssertionError("still training")


def _dataset(project: str, kind: str, key: str) -> None:
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}
    ok("CreateDataset", {"ProjectArn": project, "DatasetType": kind, "DatasetSource": source})


@pytest.mark.models
def test_training_flow_trains_evaluates_and_serves(training_aws):
    s3 = training_aws
    test_images = classification_set(2, "test", seed=3)
    project = ok("CreateProject", {"ProjectName": "photos"})["ProjectArn"]
    _dataset(project, "TRAIN", _upload(s3, classification_set(5, "train", seed=2), "train"))
    _dataset(project, "TEST", _upload(s3, test_images, "test"))
    output = {"S3Bucket": BUCKET, "S3KeyPrefix": "models/"}
    arn = ok("CreateProjectVersion", {"ProjectArn": project, "VersionName": "v1", "OutputConfig": output})[
        "ProjectVersionArn"
    ]
    description = _trained(project, "v1")
    assert description["Status"] == "TRAINING_COMPLETED", description
    assert description["EvaluationResult"]["F1Score"] >= 0.9
    assert description["BillableTrainingTimeInSeconds"] >= 1
    where = description["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=where["Bucket"], Key=where["Name"])["Body"].read())
    assert summary["EvaluationDetails"]["NumberOfTrainingImages"] == 15
    assert summary["EvaluationDetails"]["NumberOfTestingImages"] == 6
    assert {r["Label"] for r in summary["LabelEvaluationResults"]} == {"cat", "coffee", "rocket"}
    thresholds = {r["Label"]: r["Metrics"]["Threshold"] for r in summary["LabelEvaluationResults"]}

    image = {"Bytes": _b64(test_images[0][0])}
    status, reply = call("DetectCustomLabels", {"ProjectVersionArn": arn, "Image": image})
    assert status == 400 and reply["__type"] == "ResourceNotReadyException"
    ok("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    for rgb, label in test_images:
        found = ok("DetectCustomLabels", {"ProjectVersionArn": arn, "Image": {"Bytes": _b64(rgb)}})["CustomLabels"]
        assert found and found[0]["Name"] == label
        assert all(f["Confidence"] >= thresholds[f["Name"]] * 100 for f in found)
    everything = ok("DetectCustomLabels", {"ProjectVersionArn": arn, "Image": image, "MinConfidence": 0})
    assert len(everything["CustomLabels"]) == 3
    one = ok("DetectCustomLabels", {"ProjectVersionArn": arn, "Image": image, "MinConfidence": 0, "MaxResults": 1})
    assert one["CustomLabels"] == everything["CustomLabels"][:1]

    # one label only: the flow ends the version TRAINING_FAILED, saying why
    single = ok("CreateProject", {"ProjectName": "single"})["ProjectArn"]
    _dataset(
        single, "TRAIN", _upload(s3, [(rgb, "cat") for rgb, _ in classification_set(2, "train", seed=4)], "single")
    )
    ok("CreateProjectVersion", {"ProjectArn": single, "VersionName": "v1", "OutputConfig": output})
    failed = _trained(single, "v1")
    assert failed["Status"] == "TRAINING_FAILED" and "only one label" in failed["StatusMessage"]
