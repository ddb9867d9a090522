"""Custom Moderation adapters: a CONTENT_MODERATION project trained from a Custom Moderation manifest,
then DetectModerationLabels(ProjectVersion=...) answering with the adapter applied.

The images are real photographs from installed packages, cropped (tests/custom_labels_images.py:
training crops from the left part of a photograph, testing crops from the right part):

- foolbox's ImageNet photograph of a cannon on display in a town square: the base model calls it
  "Weapons" (the classifier's "cannon"); the user annotates it safe (a false positive to suppress);
- foolbox's photograph of a Bavik beer bottle cap: the base model sees nothing; the user annotates
  it "Alcoholic Beverages" (a false negative to add);
- other photographs (two jeeps, a mastiff, scikit-image's cat and coffee cup) annotated safe.

On the held-out crops the adapter must flag the bottle cap and not the cannon while the base model
does the opposite, and leave the other photographs unflagged: no constant answer passes.
"""

from __future__ import annotations

import json
import time

import boto3
import numpy as np
import pytest
import skimage.data
from conftest import call
from custom_labels_images import _crop
from models_available import needs_models
from package_photos import foolbox_photo
from recognito.custom_labels.manifests import parse_line
from recognito.custom_labels.training import flow
from recognito.custom_labels.training.flow import TrainingFailure
from test_custom_labels_training import BUCKET, _b64, _jpeg, _trained, ok, training_aws  # noqa: F401 (a fixture)

ALCOHOL = "Alcoholic Beverages"


def _line(ref: str, labels: list[str]) -> str:
    return json.dumps(
        {"source-ref": ref, "content-moderation-groundtruth": {"ModerationLabels": [{"Name": n} for n in labels]}}
    )


# ---- validation (no models) -----------------------------------------------------------------------


def test_plan_checks_an_adapters_manifest():
    safe = [parse_line(_line(f"s3://b/safe{n}.jpg", [])) for n in range(6)]
    caps = [parse_line(_line(f"s3://b/cap{n}.jpg", [ALCOHOL])) for n in range(5)]
    planned = flow.plan(safe + caps, None, "CONTENT_MODERATION")
    assert planned["Kind"] == "moderation" and planned["Labels"] == [ALCOHOL]
    # images annotated safe are labeled, and the automatic split tests on them too
    assert sum(not item["Labels"] for item in planned["Test"]) == 1
    assert sum(item["Labels"] == [ALCOHOL] for item in planned["Test"]) == 1
    with pytest.raises(TrainingFailure, match="not in the content moderation taxonomy: Beer"):
        flow.plan(
            safe + [parse_line(_line(f"s3://b/b{n}.jpg", ["Beer"])) for n in range(3)], None, "CONTENT_MODERATION"
        )
    classification = json.dumps(
        {
            "source-ref": "s3://b/x.jpg",
            "c": 0,
            "c-metadata": {"class-name": "cat", "type": "groundtruth/image-classification"},
        }
    )
    with pytest.raises(TrainingFailure, match="content-moderation-groundtruth"):
        flow.plan(safe + [parse_line(classification)], None, "CONTENT_MODERATION")
    with pytest.raises(TrainingFailure, match="not Custom Labels models"):
        flow.plan(safe + caps, None, "CUSTOM_LABELS")
    bad = parse_line(json.dumps({"source-ref": "s3://b/x.jpg", "content-moderation-groundtruth": {"Labels": []}}))
    assert bad.errors and bad.errors[0].startswith("ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT")


# ---- trained through the flow, applied by DetectModerationLabels ------------------------------------


PHOTOS = {  # name: (photograph, the user's labels, training crops, testing crops)
    "cannon": (lambda: foolbox_photo(13, 471), [], 5, 2),
    "cap": (lambda: foolbox_photo(9, 455), [ALCOHOL], 5, 2),
    "jeep": (lambda: foolbox_photo(6, 609), [], 1, 1),
    "jeep2": (lambda: foolbox_photo(7, 609), [], 1, 1),
    "mastiff": (lambda: foolbox_photo(0, 243), [], 1, 1),
    "cat": (skimage.data.chelsea, [], 1, 1),
    "coffee": (skimage.data.coffee, [], 1, 1),
}


def test_distribute_moves_a_share_of_the_safe_images_too():
    from recognito.custom_labels.datasets import _test_split
    from recognito.storage.tables import DatasetEntryRecord

    def entry(ref: str, labels: list[str]) -> DatasetEntryRecord:
        return DatasetEntryRecord("train-arn", ref, line=_line(ref, labels), labels=labels)

    safe = [entry(f"s3://b/safe{n}.jpg", []) for n in range(10)]
    caps = [entry(f"s3://b/cap{n}.jpg", [ALCOHOL]) for n in range(5)]
    unannotated = [DatasetEntryRecord("train-arn", "s3://b/plain.jpg", line='{"source-ref": "s3://b/plain.jpg"}')]
    moving = _test_split(safe + caps + unannotated)
    # 20% of each group: 2 of the 10 safe images, 1 of the 5 caps; never an unannotated image
    assert sum(key.startswith("s3://b/safe") for key in moving) == 2
    assert sum(key.startswith("s3://b/cap") for key in moving) == 1
    assert "s3://b/plain.jpg" not in moving


def _crops(part: str, seed: int) -> list[tuple[str, np.ndarray, list[str]]]:
    rng = np.random.default_rng(seed)
    column = 2 if part == "train" else 3
    return [(name, _crop(spec[0](), rng, part), spec[1]) for name, spec in PHOTOS.items() for _ in range(spec[column])]


def _upload(s3, items: list[tuple[str, np.ndarray, list[str]]], name: str) -> str:
    lines = []
    for n, (_, rgb, labels) in enumerate(items):
        key = f"images/{name}-{n}.jpg"
        s3.put_object(Bucket=BUCKET, Key=key, Body=_jpeg(rgb))
        lines.append(_line(f"s3://{BUCKET}/{key}", labels))
    s3.put_object(Bucket=BUCKET, Key=f"{name}.manifest", Body="\n".join(lines).encode())
    return f"{name}.manifest"


def _dataset(project: str, kind: str, key: str) -> str:
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": key}}}
    return ok("CreateDataset", {"ProjectArn": project, "DatasetType": kind, "DatasetSource": source})["DatasetArn"]


def _names(response: dict) -> set[str]:
    return {label["Name"] for label in response["ModerationLabels"]}


def _error(body: dict) -> str:
    status, reply = call("DetectModerationLabels", body)
    assert status == 400, reply
    return reply["__type"]


@pytest.mark.models
@pytest.mark.usefixtures("training_aws")  # moto, Step Functions running the training flow
def test_an_adapter_flags_what_the_user_flags_and_suppresses_what_the_user_calls_safe():
    needs_models("opennsfw", "nsfwjs-mobilenet-v2", "efficientnet-lite2")
    s3 = boto3.client("s3")
    held_out = _crops("test", seed=2)
    project = ok(
        "CreateProject", {"ProjectName": "moderation", "Feature": "CONTENT_MODERATION", "AutoUpdate": "DISABLED"}
    )
    train = _dataset(project["ProjectArn"], "TRAIN", _upload(s3, _crops("train", seed=1), "train"))
    stats = ok("DescribeDataset", {"DatasetArn": train})["DatasetDescription"]["DatasetStats"]
    assert stats == {"LabeledEntries": 15, "TotalEntries": 15, "TotalLabels": 1, "ErrorEntries": 0}  # safe is a label
    _dataset(project["ProjectArn"], "TEST", _upload(s3, held_out, "test"))
    request = {
        "ProjectArn": project["ProjectArn"],
        "VersionName": "adapter1",
        "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": "adapters/"},
        "FeatureConfig": {"ContentModeration": {"ConfidenceThreshold": 50}},
    }
    arn = ok("CreateProjectVersion", request)["ProjectVersionArn"]
    description = _trained(project["ProjectArn"], "adapter1")
    assert description["Status"] == "TRAINING_COMPLETED", description
    assert description["Feature"] == "CONTENT_MODERATION"
    assert description["FeatureConfig"] == request["FeatureConfig"]
    assert description["BaseModelVersion"] == "7.0"
    assert description["EvaluationResult"]["F1Score"] >= 0.9

    # the evaluation on the TEST dataset: the base model's errors there, and the adapter's
    where = description["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=where["Bucket"], Key=where["Name"])["Body"].read())
    aggregate = summary["AggregatedEvaluationResults"]
    assert aggregate["Baseline"]["FalseNegatives"] >= 2 and aggregate["Baseline"]["FalsePositives"] >= 2
    assert aggregate["Adapter"]["FalseNegatives"] == 0 and aggregate["Adapter"]["FalsePositives"] == 0
    labels = {result["Label"]: result for result in summary["LabelEvaluationResults"]}
    assert {"Weapons", "Violence", ALCOHOL, "Alcohol"} <= set(labels)
    assert labels["Weapons"]["Baseline"]["FalsePositives"] == 2 and labels["Weapons"]["Adapter"]["FalsePositives"] == 0

    # adapters are used without starting them
    status, reply = call("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    assert status == 400 and reply["__type"] == "InvalidParameterException"

    answers = {}
    for n, (name, rgb, _) in enumerate(held_out):
        body = {"Image": {"Bytes": _b64(rgb)}}
        adapted = answers[f"s3://{BUCKET}/images/test-{n}.jpg"] = ok(
            "DetectModerationLabels", {**body, "ProjectVersion": arn}
        )
        assert adapted["ProjectVersion"] == arn and adapted["ModerationModelVersion"] == "7.0"
        if name == "cap":
            found = [
                (label["Name"], label["ParentName"], label["TaxonomyLevel"]) for label in adapted["ModerationLabels"]
            ]
            assert found == [("Alcohol", "", 1), (ALCOHOL, "Alcohol", 2)]
        else:
            assert _names(adapted) == set(), name
        if name in ("cannon", "cap"):  # what the base model says of the same image
            base = ok("DetectModerationLabels", body)
            assert "ProjectVersion" not in base
            assert _names(base) == ({"Violence", "Weapons"} if name == "cannon" else set())

    # a media analysis job with the adapter: each output line is DetectModerationLabels' answer with it
    refs = [f"s3://{BUCKET}/images/test-{n}.jpg" for n in (0, 2)]  # a cannon, a bottle cap
    s3.put_object(Bucket=BUCKET, Key="bulk.jsonl", Body="\n".join(json.dumps({"source-ref": r}) for r in refs))
    bulk = {
        "OperationsConfig": {"DetectModerationLabels": {"ProjectVersion": arn}},
        "Input": {"S3Object": {"Bucket": BUCKET, "Name": "bulk.jsonl"}},
        "OutputConfig": {"S3Bucket": BUCKET, "S3KeyPrefix": "bulk/"},
    }
    job = ok("StartMediaAnalysisJob", bulk)["JobId"]
    for _ in range(600):
        body = ok("GetMediaAnalysisJob", {"JobId": job})
        if body["Status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.1)
    assert body["Status"] == "SUCCEEDED", body
    results = body["Results"]["S3Object"]
    written = s3.get_object(Bucket=results["Bucket"], Key=results["Name"])["Body"].read().decode().splitlines()
    assert [json.loads(line) for line in written] == [
        {"source-ref": r, "detect-moderation-labels": answers[r]} for r in refs
    ]

    # errors: no such version, a version still without a model, a Custom Labels model
    image = {"Image": {"Bytes": _b64(held_out[0][1])}}
    assert _error({**image, "ProjectVersion": arn.replace("adapter1", "nope")}) == "ResourceNotFoundException"
    failing = _upload(s3, [("x", held_out[0][1], ["Beer"]), ("y", held_out[1][1], [])], "unknown")
    other = ok("CreateProject", {"ProjectName": "unknown", "Feature": "CONTENT_MODERATION", "AutoUpdate": "DISABLED"})
    _dataset(other["ProjectArn"], "TRAIN", failing)
    failed_arn = ok("CreateProjectVersion", {**request, "ProjectArn": other["ProjectArn"]})["ProjectVersionArn"]
    failed = _trained(other["ProjectArn"], "adapter1")
    assert failed["Status"] == "TRAINING_FAILED" and "Beer" in failed["StatusMessage"]
    assert _error({**image, "ProjectVersion": failed_arn}) == "ResourceNotReadyException"
    with_failed = {**bulk, "OperationsConfig": {"DetectModerationLabels": {"ProjectVersion": failed_arn}}}
    status, reply = call("StartMediaAnalysisJob", with_failed)
    assert (status, reply["__type"]) == (400, "ResourceNotReadyException")
    labels_project = ok("CreateProject", {"ProjectName": "labels"})["ProjectArn"]
    _dataset(labels_project, "TRAIN", failing)
    del request["FeatureConfig"]
    model_arn = ok("CreateProjectVersion", {**request, "ProjectArn": labels_project})["ProjectVersionArn"]
    assert _error({**image, "ProjectVersion": model_arn}) == "InvalidParameterException"
    with_model = {**bulk, "OperationsConfig": {"DetectModerationLabels": {"ProjectVersion": model_arn}}}
    status, reply = call("StartMediaAnalysisJob", with_model)
    assert (status, reply["__type"]) == (400, "InvalidParameterException")
