"""Custom Labels' account quotas, checked before a request creates or starts anything.

The numbers are AWS's defaults ("Amazon Rekognition endpoints and quotas", AWS General Reference),
each a setting (``recognito.settings``: ``RECOGNITO_CUSTOM_LABELS_MAX_PROJECTS`` and the others
below), so an installation raises one as a quota increase would:

- projects per account, 100 (``MAX_PROJECTS``): CreateProject, LimitExceededException (checked in
  ``projects.create_project``, which this module builds on);
- models per project, 100 (``MAX_VERSIONS``): CreateProjectVersion and CopyProjectVersion,
  ServiceQuotaExceededException;
- concurrent trainings per account, 2 (``MAX_TRAININGS``): CreateProjectVersion, LimitExceededException;
- running models per account, 2 (``MAX_RUNNING``), and inference units per started model, 5
  (``MAX_INFERENCE_UNITS``): StartProjectVersion, LimitExceededException;
- images per dataset, 250,000 (``MAX_DATASET_IMAGES``): UpdateDatasetEntries, LimitExceededException.
  A manifest of more lines is not refused: the dataset ends CREATE_FAILED with
  ``ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM``, the terminal error AWS documents for it.

Where an operation's error list in botocore's model has both quota exceptions, the stored-resource
quota (models per project) is ``ServiceQuotaExceededException`` and the concurrency one
``LimitExceededException``, as Rekognition describes the two ("the size ... exceeds the allowed
limit"; "too many jobs concurrently"). Only Custom Labels projects and versions count (the quotas
are named for them): moderation adapters do not.
"""

from __future__ import annotations

from recognito.custom_labels.projects import CUSTOM_LABELS, VERSION_ITEM
from recognito.errors import LimitExceededException, ServiceQuotaExceededException
from recognito.settings import settings
from recognito.storage.tables import ProjectRecord, ProjectVersionRecord


def max_dataset_images() -> int:
    return int(settings().custom_labels_max_dataset_images)


def check_new_version(project: ProjectRecord, *, training: bool) -> None:
    """A new version of ``project``: within the models-per-project quota and, when it trains, the
    concurrent-trainings one."""
    if project.feature != CUSTOM_LABELS:
        return
    limit = int(settings().custom_labels_max_versions)
    versions = ProjectVersionRecord.query(
        project.project, ProjectVersionRecord.item.startswith(VERSION_ITEM), consistent_read=True
    )
    if sum(1 for _ in versions) >= limit:
        raise ServiceQuotaExceededException(f"The project has {limit} models, its quota: delete one first")
    if training:
        limit = int(settings().custom_labels_max_trainings)
        if count_versions(("TRAINING_IN_PROGRESS",)) >= limit:
            raise LimitExceededException(f"{limit} models are training, the account's quota: wait for one to end")


def check_start(min_units: int, max_units: int | None) -> None:
    """A start: within the inference units a started model may have and the running models' quota."""
    units = int(settings().custom_labels_max_inference_units)
    if max(min_units, max_units or 0) > units:
        raise LimitExceededException(f"A started model has at most {units} inference units")
    limit = int(settings().custom_labels_max_running)
    if count_versions(("STARTING", "RUNNING")) >= limit:
        raise LimitExceededException(f"{limit} models are running, the account's quota: stop one first")


def check_dataset_size(current: int, adding: int) -> None:
    """An update that would take a dataset past the images-per-dataset quota."""
    limit = max_dataset_images()
    if current + adding > limit:
        raise LimitExceededException(
            f"A dataset holds at most {limit} images; the update would make {current + adding}"
        )


def count_versions(statuses: tuple[str, ...]) -> int:
    """The account's Custom Labels versions in one of ``statuses``."""
    found = ProjectVersionRecord.scan(
        ProjectVersionRecord.item.startswith(VERSION_ITEM)
        & ProjectVersionRecord.status.is_in(*statuses)
        & (ProjectVersionRecord.feature == CUSTOM_LABELS),
        consistent_read=True,
    )
    return sum(1 for _ in found)
