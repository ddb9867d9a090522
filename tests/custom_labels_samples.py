"""What the custom labels sample events (events/*.json, from functions.toml) name, made for real.

The samples name fixed ARNs (project ``cards`` created at 1700000000000 ms, ...); ``prepare`` creates
those resources through the services, with the creation clock set so that their ARNs come out the
same, and only as far as each sample needs (CreateProject's sample needs no project yet).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

PROJECT_MS, VERSION_MS, TRAIN_MS, TEST_MS, DESTINATION_MS = range(1700000000000, 1700000000005)
MANIFEST = "\n".join(
    json.dumps(
        {
            "source-ref": f"s3://my-datasets/cards/IMG_{number}.jpg",
            "card": number % 2,
            "card-metadata": {"class-name": label, "type": "groundtruth/image-classification"},
        }
    )
    for number, label in enumerate(["king", "queen"] * 5)
)
OPERATIONS = {
    "create_project",
    "describe_projects",
    "delete_project",
    "create_dataset",
    "describe_dataset",
    "list_dataset_entries",
    "list_dataset_labels",
    "update_dataset_entries",
    "distribute_dataset_entries",
    "delete_dataset",
    "create_project_version",
    "describe_project_versions",
    "start_project_version",
    "stop_project_version",
    "delete_project_version",
    "copy_project_version",
    "put_project_policy",
    "list_project_policies",
    "delete_project_policy",
    "detect_custom_labels",
}


def _model_bytes(name: str) -> bytes:
    """A classifier trained on scikit-image photographs for DetectCustomLabels' sample; else placeholder bytes."""
    if name != "detect_custom_labels":
        return b"weights"
    from custom_labels_images import classification_set
    from recognito.custom_labels.training import backbone, model

    train = classification_set(4, "train", seed=0)
    examples = [model.Example(frozenset([label])) for _, label in train]
    embedded = backbone.embed([rgb for rgb, _ in train])
    trained = model.train("classification", embedded, examples, ("cat", "coffee", "rocket"))
    return trained.to_bytes()


def _at(monkeypatch: pytest.MonkeyPatch, ms: int) -> None:
    from recognito.custom_labels import datasets, projects, versions

    for module in (projects, datasets, versions):
        monkeypatch.setattr(module, "now_ms", lambda: ms)


def prepare(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Creates what the sample event of ``name`` acts on."""
    from recognito.custom_labels import datasets, policies, projects, versions
    from recognito.storage.tables import ProjectVersionRecord

    s3 = boto3.client("s3")
    for bucket in ("my-datasets", "my-models"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="my-datasets", Key="cards/train.manifest", Body=MANIFEST.encode())
    if name == "create_project":
        return
    _at(monkeypatch, PROJECT_MS)
    project = projects.create_project({"ProjectName": "cards"})["ProjectArn"]
    if name in ("delete_project", "create_dataset"):
        return
    _at(monkeypatch, TRAIN_MS)
    manifest = {"GroundTruthManifest": {"S3Object": {"Bucket": "my-datasets", "Name": "cards/train.manifest"}}}
    datasets.create_dataset({"ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": manifest})
    _at(monkeypatch, TEST_MS)
    datasets.create_dataset({"ProjectArn": project, "DatasetType": "TEST"})
    if name == "create_project_version":
        sfn = boto3.client("stepfunctions")
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
        sfn.create_state_machine(
            name=versions.state_machine_arn().rpartition(":")[2],
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )
        return
    # A trained version, as the training flow leaves one; DetectCustomLabels' runs a real model.
    s3.put_object(Bucket="my-models", Key="cards/cards.1/model.npz", Body=_model_bytes(name))
    version = projects.child_arn("cards", "version", "cards.1", VERSION_MS)
    ProjectVersionRecord(
        "cards",
        projects.VERSION_ITEM + "cards.1",
        arn=version,
        created=datetime.fromtimestamp(VERSION_MS / 1000, UTC),
        project_arn=project,
        status="RUNNING" if name in ("stop_project_version", "detect_custom_labels") else "STOPPED",
        feature=projects.CUSTOM_LABELS,
        output_config={"S3Bucket": "my-models", "S3KeyPrefix": "cards/"},
        train_dataset_arn=projects.child_arn("cards", "dataset", "train", TRAIN_MS),
        model_artifact="s3://my-models/cards/cards.1/model.npz",
    ).save()
    _at(monkeypatch, DESTINATION_MS)
    projects.create_project({"ProjectName": "cards-prod"})
    if name == "delete_project_policy":
        document = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}
        )
        policies.put_project_policy({"ProjectArn": project, "PolicyName": "copy-to-prod", "PolicyDocument": document})
