"""Opaque, tamper-proof pagination tokens.

A token carries where a listing stopped, signed with HMAC-SHA256 and bound to the listing it came
from, so a client can neither forge a position nor replay one listing's token on another: either
is ``InvalidPaginationTokenException``, as AWS answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from functools import cache
from typing import Any

from recognito.errors import InvalidPaginationTokenException
from recognito.settings import settings


@cache
def _secret() -> bytes:
    # Deployed, the template passes a generated secret so that every function instance signs
    # alike; without one, tokens are valid only within this process.
    configured = settings().token_secret
    return configured.encode() if configured else secrets.token_bytes(32)


def _mac(scope: str, payload: bytes) -> bytes:
    return hmac.new(_secret(), scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:16]


def encode_token(scope: str, position: Any) -> str:
    """A token for resuming the listing ``scope`` (e.g. ``ListFaces:mycollection``) at ``position``."""
    payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_mac(scope, payload) + payload).decode().rstrip("=")


def decode_token(scope: str, token: str) -> Any:
    """The position a token of ``scope`` carries; refuses anything this service did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raw = b""
    mac, payload = raw[:16], raw[16:]
    if len(raw) <= 16 or not hmac.compare_digest(mac, _mac(scope, payload)):
        raise InvalidPaginationTokenException("Invalid pagination token provided")
    return json.loads(payload)
