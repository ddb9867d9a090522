"""Request parsing and validation driven by botocore's shapes.

The JSON 1.1 wire form is walked once against the operation's input shape. Constraint violations
(required members, lengths, ranges, patterns, enums) are reported the way AWS's request layer
reports them, as one ``ValidationException`` listing each offending member::

    1 validation error detected: Value 'my photos' at 'collectionId' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+

A value of the wrong JSON type cannot be read at all, so it is a ``SerializationException`` that
names the member. The walk also converts wire values into Python ones: blobs arrive base64-encoded
and leave as ``bytes``, timestamps leave as aware ``datetime``s.
"""

from __future__ import annotations

import base64
import binascii
import math
import reprlib
from datetime import UTC, datetime
from functools import cache
from typing import Any

import regex
from botocore.model import Shape

from recognito.errors import SerializationException, ValidationException


@cache
def _compiled(pattern: str) -> regex.Pattern[str]:
    # The model's patterns are Java regular expressions (\p{L} and friends); the `regex` module
    # reads them as Java does, and Java's String.matches() anchors the whole value.
    return regex.compile(pattern)


def _wire_name(path: str, member: str) -> str:
    """AWS names members in camelCase in its messages: ``collectionId``, ``image.s3Object.name``."""
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name


_INTEGER_BITS = {"integer": 32, "long": 64}


def _containers() -> reprlib.Repr:
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxlist, shown.maxdict, shown.maxstring = 3, 10, 10, 64
    return shown


_CONTAINERS = _containers()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    # AWS's request layer is Java: it shows a blob as the buffer that holds it.
    if isinstance(value, bytes):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list | dict):
        return _CONTAINERS.repr(value)  # bounded: a client's list may be huge or nested 900 deep
    return str(value)


class _Walker:
    def __init__(self) -> None:
        self.violations: list[str] = []

    def violation(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.violations.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def wrong_type(self, value: Any, path: str, expected: str) -> SerializationException:
        return SerializationException(
            f"Cannot read member '{path}': expected {expected}, got {type(value).__name__} {_show(value)[:64]}"
        )

    def walk(self, shape: Shape, value: Any, path: str) -> Any:
        kind = shape.type_name
        reader = getattr(self, f"read_{kind}")
        return reader(shape, value, path)

    def check_length(self, shape: Shape, value: Any, size: int, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        noun = "length" if shape.type_name in ("string", "blob") else "size"
        if low is not None and size < low:
            self.violation(value, path, f"Member must have {noun} greater than or equal to {low}")
        if high is not None and size > high:
            self.violation(value, path, f"Member must have {noun} less than or equal to {high}")

    def read_structure(self, shape: Shape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong_type(value, path or "request", "an object")
        parsed: dict[str, Any] = {}
        for name in shape.required_members:
            if value.get(name) is None:
                self.violation(None, _wire_name(path, name), "Member must not be null")
        for name, member_value in value.items():
            member = shape.members.get(name)
            # Unknown members are ignored, as AWS does, so that newer clients keep working.
            if member is None or member_value is None:
                continue
            parsed[name] = self.walk(member, member_value, _wire_name(path, name))
        return parsed

    def read_list(self, shape: Shape, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.wrong_type(value, path, "a list")
        self.check_length(shape, value, len(value), path)
        return [self.walk(shape.member, item, f"{path}.{index + 1}.member") for index, item in enumerate(value)]

    def read_map(self, shape: Shape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong_type(value, path, "an object")
        self.check_length(shape, value, len(value), path)
        return {
            self.walk(shape.key, key, f"{path}.key"): self.walk(shape.value, item, f"{path}.value")
            for key, item in value.items()
        }

    def read_string(self, shape: Shape, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.wrong_type(value, path, "a string")
        self.check_length(shape, value, len(value), path)
        enum = shape.enum
        if enum and value not in enum:
            self.violation(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            self.violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        return value

    def check_range(self, shape: Shape, value: float, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.violation(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self.violation(value, path, f"Member must have value less than or equal to {high}")

    def read_integer(self, shape: Shape, value: Any, path: str) -> int:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            raise self.wrong_type(value, path, "an integer")  # is_integer() is False for NaN and inf
        # Java reads the member into an int or a long: a value outside it cannot be read at all.
        bits = _INTEGER_BITS[shape.type_name]
        if not -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1):
            raise self.wrong_type(value, path, f"a {bits}-bit integer")
        self.check_range(shape, int(value), path)
        return int(value)

    read_long = read_integer

    def read_float(self, shape: Shape, value: Any, path: str) -> float:
        if not _is_number(value):
            raise self.wrong_type(value, path, "a number")
        try:
            number = float(value)  # a 400-digit integer overflows a double
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.wrong_type(value, path, "a finite number")
        self.check_range(shape, number, path)
        return number

    read_double = read_float

    def read_boolean(self, shape: Shape, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.wrong_type(value, path, "a boolean")
        return value

    def read_blob(self, shape: Shape, value: Any, path: str) -> bytes:
        if not isinstance(value, str):
            raise self.wrong_type(value, path, "base64-encoded bytes")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException(f"Cannot read member '{path}': it is not valid base64") from None
        self.check_length(shape, data, len(data), path)
        return data

    def read_timestamp(self, shape: Shape, value: Any, path: str) -> datetime:
        if _is_number(value):
            try:
                return datetime.fromtimestamp(value, tz=UTC)
            except (OverflowError, OSError, ValueError):
                pass  # NaN, infinite or beyond year 9999
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
        raise self.wrong_type(value, path, "a timestamp (seconds since the epoch)")


def parse_input(shape: Shape | None, body: Any) -> dict[str, Any]:
    """Validate a decoded JSON request body against ``shape`` and return it in Python form.

    Raises ``SerializationException`` for a value of the wrong type and ``ValidationException``
    listing every constraint the request breaks.
    """
    if shape is None:
        return {}
    walker = _Walker()
    parsed = walker.read_structure(shape, body, "")
    if walker.violations:
        count = len(walker.violations)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(walker.violations))
    return parsed
