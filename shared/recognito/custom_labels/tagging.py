"""The custom labels resources TagResource and its kin find by ARN: projects, datasets, project versions."""

from __future__ import annotations

from recognito.custom_labels.datasets import get_dataset
from recognito.custom_labels.projects import get_project, parse_arn
from recognito.custom_labels.versions import get
from recognito.storage.tables import CustomLabelsRecord


def tagged(arn: str) -> CustomLabelsRecord:
    """The project, dataset or project version an ARN names, for TagResource and its kin."""
    match = parse_arn(arn)
    kind = match["kind"] if match is not None else None
    return get_dataset(arn) if kind == "dataset" else get(arn) if kind == "version" else get_project(arn)
