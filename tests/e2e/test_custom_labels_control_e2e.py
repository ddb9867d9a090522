"""Custom labels projects, datasets and policies through `recognito serve` with stock boto3: a manifest
in S3 becomes a dataset, its entries and labels come back through the paginators, a split makes the
test set, errors arrive as the SDK's modelled exceptions, and everything survives a restart.

(Training, serving and DetectCustomLabels end to end: tests/e2e/test_custom_labels_e2e.py.)
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

BUCKET = "e2e-custom-labels"


def _line(number: int, label: str) -> str:
    metadata = {"class-name": label, "type": "groundtruth/image-classification"}
    return json.dumps({"source-ref": f"s3://{BUCKET}/img/{number}.jpg", "card": 0, "card-metadata": metadata})


def test_projects_datasets_policies_with_boto3(endpoint, rekognition, s3):
    lines = [_line(n, "king" if n % 2 else "queen") for n in range(10)] + ["{broken"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="train.manifest", Body="\n".join(lines).encode())
    project = rekognition.create_project(ProjectName="e2e-cards")["ProjectArn"]
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.create_project(ProjectName="e2e-cards")

    source = {"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": "train.manifest"}}}
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)["DatasetArn"]
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    stats = rekognition.describe_dataset(DatasetArn=train)["DatasetDescription"]["DatasetStats"]
    assert stats == {"LabeledEntries": 10, "TotalEntries": 11, "TotalLabels": 2, "ErrorEntries": 1}
    pages = rekognition.get_paginator("list_dataset_entries").paginate(
        DatasetArn=train, PaginationConfig={"PageSize": 4}
    )
    entries = [json.loads(line) for page in pages for line in page["DatasetEntries"]]
    assert len(entries) == 11 and sum("errors" in entry for entry in entries) == 1
    labels = rekognition.list_dataset_labels(DatasetArn=train)["DatasetLabelDescriptions"]
    assert {d["LabelName"]: d["LabelStats"]["EntryCount"] for d in labels} == {"king": 5, "queen": 5}

    rekognition.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    moved = rekognition.describe_dataset(DatasetArn=test)["DatasetDescription"]
    assert moved["Status"] == "UPDATE_COMPLETE" and moved["DatasetStats"]["LabeledEntries"] == 2

    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "rekognition:CopyProjectVersion"}],
    }
    revision = rekognition.put_project_policy(
        ProjectArn=project, PolicyName="share", PolicyDocument=json.dumps(policy)
    )["PolicyRevisionId"]
    with pytest.raises(rekognition.exceptions.MalformedPolicyDocumentException):
        rekognition.put_project_policy(ProjectArn=project, PolicyName="bad", PolicyDocument="{}")
    with pytest.raises(rekognition.exceptions.InvalidPolicyRevisionIdException):
        rekognition.delete_project_policy(ProjectArn=project, PolicyName="share", PolicyRevisionId="0" * 32)

    endpoint.restart()
    described = rekognition.describe_projects(ProjectNames=["e2e-cards"])["ProjectDescriptions"][0]
    assert sorted(d["DatasetType"] for d in described["Datasets"]) == ["TEST", "TRAIN"]
    policies = rekognition.list_project_policies(ProjectArn=project)["ProjectPolicies"]
    assert [(p["PolicyName"], p["PolicyRevisionId"]) for p in policies] == [("share", revision)]
    assert rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"] == []

    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.delete_project(ProjectArn=project)
    for dataset in (train, test):
        rekognition.delete_dataset(DatasetArn=dataset)
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.describe_dataset(DatasetArn=train)
    assert rekognition.delete_project(ProjectArn=project)["Status"] == "DELETING"
    assert rekognition.describe_projects(ProjectNames=["e2e-cards"])["ProjectDescriptions"] == []
