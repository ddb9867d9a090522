"""Rekognition's content moderation taxonomy (``recognito/data/moderation_taxonomy.json``), read
without the models: project versions name the base model version adapters are trained on, and the
functions that describe them carry no inference layer."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def taxonomy() -> dict[str, Any]:
    """The moderation taxonomy and which signals see each label."""
    return json.loads(resources.files("recognito").joinpath("data/moderation_taxonomy.json").read_text())


def base_model_version() -> str:
    """The base moderation model's version (DetectModerationLabels' ``ModerationModelVersion``)."""
    return taxonomy()["model_version"]
