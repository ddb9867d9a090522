"""Powertools' structured JSON log lines, made so that any input can be logged.

Powertools writes non-ASCII text as is (``ensure_ascii=False``, so names stay readable). A lone
surrogate, which a client can send as the valid JSON ``"\\ud800"``, cannot be encoded as UTF-8, and
the log call itself then failed with ``UnicodeEncodeError``. ``log_json`` writes such a character
as its JSON escape instead: the line stays valid JSON and reads back as what the client sent.
The deployed functions' loggers and ``recognito serve``'s own log lines share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "recognito"


def log_json(record: Mapping[str, Any]) -> str:
    """One log record as a JSON line that any stream can write."""
    text = json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)
    # Only surrogates fail to encode; inside a JSON string "\udXXX" is their escape.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def structured_logger(service: str = SERVICE) -> Logger:
    """A function's Powertools ``Logger`` (children: ``Logger(service=..., child=True)``)."""
    return Logger(service=service, json_serializer=log_json)


def structured_formatter(service: str = SERVICE) -> LambdaPowertoolsFormatter:
    """The same JSON lines for a plain ``logging`` handler (``recognito serve``'s own logs)."""
    return LambdaPowertoolsFormatter(json_serializer=log_json, service=service)
