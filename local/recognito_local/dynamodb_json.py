"""moto's DynamoDB read replies (GetItem, BatchGetItem, Query, Scan) encoded as JSON directly.

moto serializes every reply by walking botocore's output shape: each attribute value of each item
is matched member by member against the ten members of ``AttributeValue``. A BatchGetItem of ten
faces cost 60 ms that way, a fifth of the endpoint's time under 16 writers to one collection, all
of it holding the DynamoDB lock. moto's result for these operations is already the wire form
(``{"S": ...}``, ``{"B": bytes}``, ...), so it is written out with ``json`` (binary as base64, as
the serializer does). A result holding anything else (None, dates, numbers other than counts)
still takes moto's way.
"""

from __future__ import annotations

import base64
import json
from typing import Any

ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


def install() -> None:
    """Patch moto's DynamoDB results (once per process)."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result
    if getattr(original, "_direct", False):
        return
    empty = ActionResult({})

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_READS or not _wire_form(self.result):
            return original(self, context)
        status, headers, _ = original(empty, context)  # the reply's status and headers, as moto makes them
        return status, headers, json.dumps(self.result, default=_base64)

    execute_result._direct = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result


def _wire_form(value: Any) -> bool:
    """Whether ``value`` is made only of what the JSON reply holds as it is (and bytes)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _wire_form(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_wire_form(item) for item in value)
    return isinstance(value, str | bytes | bool | int | float)


def _base64(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} in a DynamoDB reply")
