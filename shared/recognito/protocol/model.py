"""botocore's ``rekognition`` service model: the machine-readable contract recognito serves.

Every request is checked against it and every response is shaped by it, so the API's 75
operations are described once, by AWS, and never re-typed here.
"""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "rekognition"


@cache
def service_model() -> ServiceModel:
    """The Rekognition service model shipped with the installed botocore."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


def target_prefix() -> str:
    """``RekognitionService``: what ``X-Amz-Target`` starts with."""
    return service_model().metadata["targetPrefix"]


def operation_names() -> frozenset[str]:
    return frozenset(service_model().operation_names)


@cache
def operation_model(operation: str) -> OperationModel:
    return service_model().operation_model(operation)
