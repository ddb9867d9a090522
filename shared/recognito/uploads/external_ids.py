"""S3 object keys as ``ExternalImageId`` values, reversibly.

An S3 key is any UTF-8 string up to 1024 bytes; an ``ExternalImageId`` must match
``[a-zA-Z0-9_.\\-:]+`` and be at most 255 characters. The mapping keeps ``A-Z a-z 0-9 _ . -``
as they are and writes every other byte of the key's UTF-8 as ``:`` and two upper-case hex
digits, so ``:`` is the escape character and is itself escaped (``:3A``)::

    faces/staff/Zoë Smith.jpg  ->  faces:2Fstaff:2FZo:C3:AB:20Smith.jpg

``object_key`` undoes it exactly, so a face found by a search names the object it came from.
A key whose mapping is longer than 255 characters cannot be an ``ExternalImageId``: it is
refused rather than shortened, since a shortened id could not be mapped back.
"""

from __future__ import annotations

import re
import string

from recognito.errors import InvalidParameterException

MAX_LENGTH = 255
_KEPT = frozenset((string.ascii_letters + string.digits + "_.-").encode("ascii"))
_ESCAPE = re.compile(r":([0-9A-F]{2})")
_VALID = re.compile(r"[a-zA-Z0-9_.\-:]+")


def external_image_id(key: str) -> str:
    """The ``ExternalImageId`` for S3 key ``key``; ``InvalidParameterException`` if too long."""
    mapped = "".join(chr(byte) if byte in _KEPT else f":{byte:02X}" for byte in key.encode("utf-8"))
    if not mapped or len(mapped) > MAX_LENGTH:
        raise InvalidParameterException(
            f"S3 key {key!r} maps to an ExternalImageId of {len(mapped)} characters; at most {MAX_LENGTH} fit"
        )
    return mapped


def object_key(external_id: str) -> str:
    """The S3 key an ``external_image_id`` came from; ``ValueError`` if it is not one of ours."""
    if not _VALID.fullmatch(external_id) or _ESCAPE.sub("", external_id).count(":"):
        raise ValueError(f"{external_id!r} is not an ExternalImageId made from an S3 key")
    raw = bytearray()
    position = 0
    for escape in _ESCAPE.finditer(external_id):
        raw += external_id[position : escape.start()].encode("ascii")
        raw.append(int(escape.group(1), 16))
        position = escape.end()
    raw += external_id[position:].encode("ascii")
    return raw.decode("utf-8")
