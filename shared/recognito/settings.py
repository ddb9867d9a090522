"""Deployment settings, read from the environment once.

Deployed, template.yaml sets these on every function; ``recognito serve`` sets them for the
local endpoint. Defaults suit tests against moto.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any


def _env(name: str, default: str | None = None) -> Any:
    """A setting read from the environment variable ``name``; unset or empty is ``default``."""
    return field(default=default, metadata={"env": name})


@dataclass(frozen=True)
class Settings:
    """Every ``RECOGNITO_*`` variable the shared layer and ``recognito serve`` read, typed, in one place.

    ``settings()`` reads them once per process. Code that changes one at run time (``recognito
    serve`` handing the upload function the current rules, a test's ``monkeypatch.setenv``) calls
    ``settings.cache_clear()`` after the change.

    Read elsewhere, on purpose:
    - ``RECOGNITO_MODEL_DIR``, ``RECOGNITO_THREADS`` (``recognito_inference.sessions``) and
      ``RECOGNITO_FACE_MODEL`` (``recognito_inference.face_embedder``): the inference layer imports
      nothing of this package (tests/test_import_layers.py), and benches set them per process.
    - ``RECOGNITO_FUNCTIONS_DIR`` (``recognito_local.invoke``: where ``recognito serve`` finds the
      functions' code, read before any of it) and ``RECOGNITO_MEMORY_BUDGET``
      (``recognito_local.admission``: the default of ``serve --memory-budget``): options of the
      local endpoint, not settings of the deployed code.
    """

    region: str = "us-east-1"  # AWS_REGION, else AWS_DEFAULT_REGION
    account_id: str = _env("RECOGNITO_ACCOUNT_ID", "123456789012")
    table_prefix: str = _env("RECOGNITO_TABLE_PREFIX", "recognito")
    # "required", "auto" or "off" (recognito.auth.MODES; anything else is "required").
    auth: str = _env("RECOGNITO_AUTH", "auto")
    # The KMS key access-key secrets are encrypted with; unset: the alias ``<table_prefix>-access-keys``.
    kms_key_id: str | None = _env("RECOGNITO_KMS_KEY_ID")
    # Signs pagination tokens; unset, tokens are valid only within the process that issued them.
    token_secret: str | None = _env("RECOGNITO_TOKEN_SECRET")
    # The front door invokes ``<function_prefix><Operation>``; only the front door needs it.
    function_prefix: str | None = _env("RECOGNITO_FUNCTION_PREFIX")
    # The S3 bucket of search-index snapshots; unset, cold searches read the faces from DynamoDB.
    index_bucket: str | None = _env("RECOGNITO_INDEX_BUCKET")
    # The upload functions' rules (a JSON list, recognito.uploads.rules) and the actions this one runs.
    upload_rules: str = _env("RECOGNITO_UPLOAD_RULES", "")
    upload_actions: str = _env("RECOGNITO_UPLOAD_ACTIONS", "")
    # Stored video jobs (recognito.video): the state machine Start* runs and the bucket of their
    # intermediate and large results; unset, ``<table_prefix>-video-jobs`` in this account.
    video_state_machine: str | None = _env("RECOGNITO_VIDEO_STATE_MACHINE")
    video_bucket: str | None = _env("RECOGNITO_VIDEO_BUCKET")
    # Media analysis (bulk moderation) jobs' state machine; unset, ``<table_prefix>-media-analysis``.
    media_analysis_state_machine: str | None = _env("RECOGNITO_MEDIA_ANALYSIS_STATE_MACHINE")
    # Start* answers LimitExceededException while this many jobs run (Rekognition's default quota).
    max_video_jobs: str = _env("RECOGNITO_MAX_VIDEO_JOBS", "20")
    # Stream processors (recognito.streams): the state machine a session runs in; unset,
    # ``<table_prefix>-stream-processors`` in this account.
    stream_state_machine: str | None = _env("RECOGNITO_STREAM_STATE_MACHINE")
    # Custom labels: the training state machine CreateProjectVersion starts; unset,
    # ``<table_prefix>-custom-labels-training`` in this account.
    custom_labels_state_machine: str | None = _env("RECOGNITO_CUSTOM_LABELS_STATE_MACHINE")
    # Custom labels quotas (recognito.custom_labels.quotas), AWS's defaults: projects per account,
    # models per project, concurrent trainings and running models per account, inference units per
    # started model, images per dataset.
    custom_labels_max_projects: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_PROJECTS", "100")
    custom_labels_max_versions: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_VERSIONS", "100")
    custom_labels_max_trainings: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_TRAININGS", "2")
    custom_labels_max_running: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_RUNNING", "2")
    custom_labels_max_inference_units: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_INFERENCE_UNITS", "5")
    custom_labels_max_dataset_images: str = _env("RECOGNITO_CUSTOM_LABELS_MAX_DATASET_IMAGES", "250000")
    # Face Liveness behind API Gateway's WebSocket API (recognito.liveness.apigateway): the bucket a
    # connection's video chunks collect in, and the function that decides a session.
    liveness_bucket: str | None = _env("RECOGNITO_LIVENESS_BUCKET")
    liveness_decision_function: str | None = _env("RECOGNITO_LIVENESS_DECISION")
    partition: str = "aws"

    def arn(self, resource: str) -> str:
        """``arn:aws:rekognition:<region>:<account>:<resource>``."""
        return f"arn:{self.partition}:rekognition:{self.region}:{self.account_id}:{resource}"


def env_name(setting: str) -> str:
    """The environment variable behind a ``Settings`` field (for code that sets it, and messages)."""
    return next(f.metadata["env"] for f in fields(Settings) if f.name == setting)


@cache
def settings() -> Settings:
    values: dict[str, Any] = {
        f.name: os.environ.get(f.metadata["env"]) or f.default for f in fields(Settings) if "env" in f.metadata
    }
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or Settings.region
    return Settings(region=region, **values)
