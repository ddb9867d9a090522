"""Response serialization driven by botocore's output shapes.

Services return plain Python (``bytes``, ``datetime``, numbers, nested dicts); this turns it into
the JSON 1.1 wire form the SDKs parse: blobs base64, timestamps as epoch seconds, and only the
members the shape defines (a service's internal extras never leak).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape


def serialize(shape: Shape | None, value: Any) -> Any:
    """The wire form of ``value`` under ``shape``; ``None`` members are omitted."""
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "structure":
        return {
            name: serialize(shape.members[name], member)
            for name, member in value.items()
            if member is not None and name in shape.members
        }
    if kind == "list":
        return [serialize(shape.member, item) for item in value]
    if kind == "map":
        return {key: serialize(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp":
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return moment.timestamp()
        return float(value)
    if kind in ("float", "double"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    return value
