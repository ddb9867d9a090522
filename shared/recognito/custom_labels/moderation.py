"""DetectModerationLabels with Custom Moderation adapters: the base model's answer
(``recognito.analysis.moderation``), corrected by the adapter a request's ``ProjectVersion`` names."""

from __future__ import annotations

from typing import Any

import numpy as np

from recognito.analysis import moderation


def detect_moderation_labels(request: dict[str, Any]) -> dict[str, Any]:
    """The DetectModerationLabels response, with the request's adapter applied when it names one."""
    return moderation.detect_moderation_labels(request, find_adapter=find_adapter)


def find_adapter(version_arn: str) -> moderation.Adapt:
    """The adapter of a TRAINING_COMPLETED CONTENT_MODERATION version, as a function of the image
    and the base model's confidences (``versions.adapter_record`` raises for any other version)."""
    # Here, not at load: a request without an adapter needs neither the table nor the backbone.
    from recognito.custom_labels.training.backbone import embed
    from recognito.custom_labels.training.serving import adapter_for

    adapter = adapter_for(version_arn)

    def adapt(rgb: np.ndarray, confidences: dict[str, float]) -> dict[str, float]:
        return adapter.apply(confidences, embed([rgb], maps=False).pooled[0])

    return adapt
