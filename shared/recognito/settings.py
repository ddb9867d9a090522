"""Deployment settings, read from the environment once.

Deployed, template.yaml sets these on every function; ``recognito serve`` sets them for the
local endpoint. Defaults suit tests against moto.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    region: str
    account_id: str
    table_prefix: str
    partition: str = "aws"

    def arn(self, resource: str) -> str:
        """``arn:aws:rekognition:<region>:<account>:<resource>``."""
        return f"arn:{self.partition}:rekognition:{self.region}:{self.account_id}:{resource}"


@cache
def settings() -> Settings:
    return Settings(
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        account_id=os.environ.get("RECOGNITO_ACCOUNT_ID", "123456789012"),
        table_prefix=os.environ.get("RECOGNITO_TABLE_PREFIX", "recognito"),
    )
