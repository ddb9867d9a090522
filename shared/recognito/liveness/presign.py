"""The SigV4-presigned URL a liveness client opens its WebSocket with.

A WebSocket handshake carries no ``Authorization`` header, so the SDKs sign the URL instead
(``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires``,
``X-Amz-SignedHeaders=host``, ``X-Amz-Signature`` in the query, the request parameters beside
them). Checked as the Rekognition operations are (recognito.auth: ``RECOGNITO_AUTH``), with the
same keys and errors; the canonical request is ``GET``, the path, the query without the signature,
the host, and the payload hash the SDKs presign with (``UNSIGNED-PAYLOAD`` or that of no body).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from recognito.auth import auth_mode, keys, sigv4
from recognito.errors import AccessDeniedException
from recognito.settings import settings

MAX_EXPIRES = 604800
_PAYLOADS = (sigv4.UNSIGNED_PAYLOAD, hashlib.sha256(b"").hexdigest())


def check(path: str, query: list[tuple[str, str]], host: str, now: datetime | None = None) -> str | None:
    """The access key that presigned the URL, None when this endpoint does not check keys;
    ``AccessDeniedException`` (the streaming API's refusal) otherwise."""
    mode = auth_mode()
    if mode == "off" or (mode == "auto" and not keys.keys_configured()):
        return None
    params = dict(query)
    try:
        if params.get("X-Amz-Algorithm") != sigv4.ALGORITHM:
            raise AccessDeniedException("The URL is not presigned with AWS4-HMAC-SHA256.")
        access_key_id, date, region, service, _ = params["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(params["X-Amz-Date"], sigv4.TIMESTAMP).replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
        signed_headers = params["X-Amz-SignedHeaders"]
        signature = params["X-Amz-Signature"]
    except (KeyError, ValueError):
        raise AccessDeniedException("The URL's presigned query is incomplete.") from None
    current = now or datetime.now(UTC)
    if service != sigv4.SERVICE or region != settings().region or date != signed_at.strftime("%Y%m%d"):
        raise AccessDeniedException("The credential scope is not this endpoint's Rekognition.")
    if (
        not 0 < expires <= MAX_EXPIRES
        or current > signed_at + timedelta(seconds=expires)
        or signed_at > current + sigv4.MAX_SKEW
    ):
        raise AccessDeniedException("The presigned URL has expired or is not yet valid.")
    try:
        secret = keys.secret_for(access_key_id)
    except Exception:  # noqa: BLE001 - an unknown key is a refusal here, whatever the key store said
        raise AccessDeniedException("The access key is not valid.") from None
    canonical_query = "&".join(
        f"{k}={v}"
        for k, v in sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query if k != "X-Amz-Signature")
    )
    headers = "".join(f"{name}:{host if name == 'host' else ''}\n" for name in signed_headers.split(";"))
    key = sigv4.signing_key(secret, date, region, service)
    scope = f"{date}/{region}/{service}/{sigv4.TERMINATOR}"
    for payload in _PAYLOADS:
        canonical = "\n".join(["GET", quote(path, safe="/~"), canonical_query, headers, signed_headers, payload])
        expected = hmac.new(key, sigv4.string_to_sign(params["X-Amz-Date"], scope, canonical).encode(), hashlib.sha256)
        if hmac.compare_digest(expected.hexdigest(), signature):
            return access_key_id
    raise AccessDeniedException("The presigned URL's signature does not match.")
