"""SigV4 on a liveness connection: the presigned URL a client opens its WebSocket with, and the
signatures of the event-stream messages it then sends, chained from the URL's.

A WebSocket handshake carries no ``Authorization`` header, so the SDKs sign the URL instead
(``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires``,
``X-Amz-SignedHeaders=host``, ``X-Amz-Signature`` in the query, the request parameters beside
them). Checked as the Rekognition operations are (recognito.auth: ``RECOGNITO_AUTH``), with the
same keys and errors; the canonical request is ``GET``, the path, the query without the signature,
the host, and the payload hash the SDKs presign with (``UNSIGNED-PAYLOAD`` or that of no body).

Each message the client sends is an envelope with a ``:date`` (timestamp) and a ``:chunk-signature``
(32 bytes) header around the event, signed as AWS's event-stream signers do (aws-sdk-js-v3's
``SignatureV4.signMessage``, used by ``@aws-sdk/middleware-websocket``'s signing stream): the
HMAC, under the SigV4 key of the ``:date``'s day, of ``AWS4-HMAC-SHA256-PAYLOAD``, the ``:date``
as ``YYYYMMDDTHHMMSSZ``, the scope, the previous message's signature in hex (the URL's
``X-Amz-Signature`` for the first), the SHA-256 of the encoded ``:date`` header and the SHA-256 of
the payload. ``Chain`` checks each in order; a missing, stale or wrong signature ends the session
with ``AccessDeniedException`` and SigV4's mismatch message (the streaming API lists no other
refusal for it; Transcribe's streaming API sends the same message).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from recognito.auth import auth_mode, keys, sigv4
from recognito.errors import AccessDeniedException
from recognito.liveness.eventstream import EPOCH, Message, date_header
from recognito.settings import settings

MAX_EXPIRES = 604800
_PAYLOADS = (sigv4.UNSIGNED_PAYLOAD, hashlib.sha256(b"").hexdigest())
PAYLOAD_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"


@dataclass
class Chain:
    """A connection's message signatures: who signed the URL, and the last signature accepted."""

    access_key_id: str
    region: str
    prior: str  # hex; the URL's X-Amz-Signature before the first message

    def verify(self, message: Message, now: datetime | None = None) -> None:
        """Accept a signed envelope and move the chain on, or refuse it (``AccessDeniedException``)."""
        millis, signature = message.headers.get(":date"), message.headers.get(":chunk-signature")
        if isinstance(millis, datetime):
            millis = (millis - EPOCH) // timedelta(milliseconds=1)
        if not isinstance(millis, int) or isinstance(millis, bool) or not isinstance(signature, bytes):
            raise AccessDeniedException("Each message must be signed (:date and :chunk-signature headers).")
        signed_at = EPOCH + timedelta(milliseconds=millis)
        if abs((now or datetime.now(UTC)) - signed_at) > sigv4.MAX_SKEW:
            raise AccessDeniedException("Signature expired: the message's :date is more than 5 minutes from now.")
        stamp = signed_at.strftime(sigv4.TIMESTAMP)
        scope = f"{stamp[:8]}/{self.region}/{sigv4.SERVICE}/{sigv4.TERMINATOR}"
        to_sign = "\n".join(
            [
                PAYLOAD_ALGORITHM,
                stamp,
                scope,
                self.prior,
                hashlib.sha256(date_header(millis)).hexdigest(),
                hashlib.sha256(message.payload).hexdigest(),
            ]
        )
        key = sigv4.signing_key(_secret(self.access_key_id), stamp[:8], self.region, sigv4.SERVICE)
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).digest(), signature):
            raise AccessDeniedException(sigv4.SIGNATURE_MISMATCH)
        self.prior = signature.hex()


def _secret(access_key_id: str) -> str:
    try:
        return keys.secret_for(access_key_id)
    except Exception:  # noqa: BLE001 - an unknown or revoked key is a refusal here, whatever the store said
        raise AccessDeniedException("The access key is not valid.") from None


def check(path: str, query: list[tuple[str, str]], host: str, now: datetime | None = None) -> Chain | None:
    """The chain the client's messages must follow from the URL's signature, None when this
    endpoint does not check keys; ``AccessDeniedException`` (the streaming API's refusal) otherwise."""
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
    secret = _secret(access_key_id)
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
            return Chain(access_key_id, region, signature)
    raise AccessDeniedException("The presigned URL's signature does not match.")
