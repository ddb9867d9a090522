"""boto3 clients for the AWS services recognito itself calls (S3, Step Functions, SNS, Kinesis, ...).

Clients are cached, one per service and endpoint configuration: creating a boto3 client costs tens
of milliseconds, and tests and ``recognito serve`` change ``AWS_ENDPOINT_URL`` and the region at
run time, so the environment is part of the key.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any


@cache
def _client(service: str, *environment: str | None) -> Any:
    import boto3

    return boto3.client(service)


def client(service: str) -> Any:
    """A boto3 client for ``service`` under the current endpoint and region settings."""
    names = ("AWS_ENDPOINT_URL", f"AWS_ENDPOINT_URL_{service.upper()}", "AWS_REGION", "AWS_DEFAULT_REGION")
    return _client(service, *(os.environ.get(name) for name in names))


def sse_kms(key_id: str | None) -> dict[str, str]:
    """``put_object``'s parameters that encrypt an output under the caller's KMS key (none without
    one): what Rekognition does with a ``KmsKeyId`` for the objects it writes to the caller's bucket."""
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id} if key_id else {}
