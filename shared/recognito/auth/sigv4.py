"""AWS Signature Version 4, checked on the server side of an API Gateway REST proxy event.

The SDKs sign every request with ``AWS4-HMAC-SHA256`` scoped to ``<date>/<region>/rekognition/
aws4_request``. This module rebuilds the canonical request from the event exactly as the SDK built
it (method, path, query, the headers named in ``SignedHeaders``, the SHA-256 of the body) and
compares signatures in constant time. Refusals use the codes and messages AWS's JSON services
send, so SDK error handling and people's searches for the message both work.

Where the event differs from what the client sent:

- Path: a REST API's client signed the stage-prefixed path (``/v1`` or ``/v1/DetectFaces``);
  ``requestContext.path`` keeps it while ``path`` drops the stage. SDKs sign ``/v1`` for an
  endpoint URL without a trailing slash, and custom domains map base paths, so every plausible
  spelling of the path this event arrived on is tried. Each is a path to this same function,
  so accepting any of them lets no signature reach anything it was not meant for.
- Headers: API Gateway adds headers (``X-Forwarded-For``, ``X-Amzn-Trace-Id``...) which do not
  matter since only those in ``SignedHeaders`` are used. ``Content-Length`` is recomputed from
  the body when the event lacks it.
- Body: base64-decoded when the event says so, so the hash covers the bytes the client sent.

Not done, as AWS: no replay cache. AWS accepts a request as often as it arrives within five
minutes of its ``X-Amz-Date``; the SDKs rely on that (a retry within the same second carries an
identical signature, since the retry counter header is not signed), and a cache per warm
Lambda instance could not see replays that land on another instance anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from botocore.utils import normalize_url_path

from recognito.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rekognition"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=5)
TIMESTAMP = "%Y%m%dT%H%M%SZ"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

INVALID_TOKEN = "The security token included in the request is invalid."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

SecretLookup = Callable[[str], str]
"""The secret of an access key id; raises ``UnrecognizedClientException`` for unknown or inactive keys."""


@dataclass(frozen=True)
class Authorization:
    """The parts of ``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


def verify(event: Mapping[str, Any], secret_for: SecretLookup, *, region: str, now: datetime | None = None) -> str:
    """The access key id that signed ``event``; raises the error AWS would send otherwise."""
    headers = _headers(event)
    value = _one(headers, "authorization")
    if not value:
        raise MissingAuthenticationTokenException("Request is missing Authentication Token")
    auth = parse_authorization(value, dated=bool(_one(headers, "x-amz-date") or _one(headers, "date")))
    signed_at = _request_time(headers, value)
    _check_scope(auth, signed_at, region)
    _check_clock(signed_at, now or datetime.now(UTC))
    if _one(headers, "x-amz-security-token") is not None:
        # recognito issues long-term keys only; AWS answers a token it did not issue this way.
        raise UnrecognizedClientException(INVALID_TOKEN)
    secret = secret_for(auth.access_key_id)

    body = _body(event)
    payload_hash = hashlib.sha256(body).hexdigest()
    declared = _one(headers, "x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
            if declared != UNSIGNED_PAYLOAD
            else "Unsigned payloads are not accepted: sign the request body."
        )

    key = signing_key(secret, auth.date, auth.region, auth.service)
    timestamp = signed_at.strftime(TIMESTAMP)
    canonical_headers = _canonical_headers(headers, auth.signed_headers, body)
    for canonical_request in _canonical_requests(event, canonical_headers, auth.signed_headers, payload_hash):
        expected = _hmac(key, string_to_sign(timestamp, auth.scope, canonical_request)).hex()
        if hmac.compare_digest(expected, auth.signature):
            return auth.access_key_id
    raise InvalidSignatureException(SIGNATURE_MISMATCH)


def parse_authorization(value: str, *, dated: bool = True) -> Authorization:
    """Split the header as AWS does, with AWS's ``IncompleteSignatureException`` messages.

    ``dated`` says whether the request has an ``X-Amz-Date`` or ``Date`` header: AWS lists its
    absence among the header's missing parts.
    """
    algorithm, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for part in (p.strip() for p in rest.split(",")):
            if not part:
                continue
            name, equals, content = part.partition("=")
            if not equals:
                raise IncompleteSignatureException(
                    f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{value}'."
                )
            params[name.strip()] = content.strip()
    parts = ("Credential", "Signature", "SignedHeaders")
    missing = [f"requires '{name}' parameter" for name in parts if not params.get(name)]
    if not dated:
        missing.append("requires existence of either a 'X-Amz-Date' or a 'Date' header")
    if missing:
        required = "".join(f"Authorization header {clause}. " for clause in missing)
        raise IncompleteSignatureException(f"{required}Authorization={value}")
    credential = params["Credential"].split("/")
    if len(credential) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{params['Credential']}'"
        )
    key_id, date, scope_region, service, terminator = credential
    if terminator != TERMINATOR:
        raise InvalidSignatureException(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )
    signed_headers = tuple(name.strip().lower() for name in params["SignedHeaders"].split(";"))
    if "host" not in signed_headers:
        raise IncompleteSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return Authorization(
        access_key_id=key_id,
        date=date,
        region=scope_region,
        service=service,
        signed_headers=signed_headers,
        signature=params["Signature"],
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, TERMINATOR):
        key = _hmac(key, part)
    return key


def string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _headers(event: Mapping[str, Any]) -> dict[str, list[str]]:
    """Lower-cased name -> every value, from ``multiValueHeaders`` when API Gateway gave them."""
    merged: dict[str, list[str]] = {}
    multi = event.get("multiValueHeaders") or {}
    single = event.get("headers") or {}
    for name, values in multi.items():
        merged.setdefault(name.lower(), []).extend(str(v) for v in values or [])
    for name, value in single.items():
        if name.lower() not in merged and value is not None:
            merged[name.lower()] = [str(value)]
    return merged


def _one(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _request_time(headers: Mapping[str, list[str]], authorization: str) -> datetime:
    amz_date = _one(headers, "x-amz-date")
    if amz_date is not None:
        try:
            return datetime.strptime(amz_date, TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ) from None
    http_date = _one(headers, "date")
    if http_date is not None:
        try:
            return parsedate_to_datetime(http_date).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    raise IncompleteSignatureException(
        f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={authorization}"
    )


def _check_scope(auth: Authorization, signed_at: datetime, region: str) -> None:
    if auth.service != SERVICE:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if auth.region != region:
        raise InvalidSignatureException(f"Credential should be scoped to a valid region, not '{auth.region}'. ")
    day = signed_at.strftime("%Y%m%d")
    if auth.date != day:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.date}' != '{day}', from '{signed_at.strftime(TIMESTAMP)}'."
        )


def _check_clock(signed_at: datetime, now: datetime) -> None:
    """AWS's window: five minutes either side of the server's clock, with AWS's wording."""
    stamp, now_stamp = signed_at.strftime(TIMESTAMP), now.strftime(TIMESTAMP)
    if signed_at < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(TIMESTAMP)
        raise InvalidSignatureException(
            f"Signature expired: {stamp} is now earlier than {earliest} ({now_stamp} - 5 min.)"
        )
    if signed_at > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(TIMESTAMP)
        raise InvalidSignatureException(
            f"Signature not yet current: {stamp} is still later than {latest} ({now_stamp} + 5 min.)"
        )


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _canonical_headers(headers: Mapping[str, list[str]], signed: tuple[str, ...], body: bytes) -> str:
    lines = []
    for name in signed:
        values = headers.get(name)
        if values is None and name == "content-length":
            values = [str(len(body))]
        value = ",".join(" ".join(v.split()) for v in values or [])
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def _canonical_requests(
    event: Mapping[str, Any], canonical_headers: str, signed: tuple[str, ...], payload_hash: str
) -> Iterator[str]:
    method = (event.get("httpMethod") or "POST").upper()
    query = _canonical_query(event)
    for path in _candidate_paths(event):
        yield "\n".join([method, path, query, canonical_headers, ";".join(signed), payload_hash])


def _candidate_paths(event: Mapping[str, Any]) -> list[str]:
    """Every spelling of the path the client may have signed, most likely first, canonicalized as
    the SDKs do (dot segments and repeated slashes removed, then URI-encoded again)."""
    context = event.get("requestContext") or {}
    path = event.get("path") or "/"
    stage = context.get("stage")
    spellings = [context.get("path"), f"/{stage}{path}" if stage else None, path]
    candidates: list[str] = []
    for spelling in filter(None, spellings):
        encoded = quote(spelling, safe="/~!$&'()*+,;=:@")
        for variant in (encoded, encoded.rstrip("/") or "/", encoded.rstrip("/") + "/"):
            canonical = quote(normalize_url_path(variant), safe="/~")
            if canonical not in candidates:
                candidates.append(canonical)
    return candidates


def _canonical_query(event: Mapping[str, Any]) -> str:
    multi = event.get("multiValueQueryStringParameters") or {}
    single = event.get("queryStringParameters") or {}
    pairs = [(k, v) for k, values in multi.items() for v in values or []] or list(single.items())
    encoded = sorted((quote(k, safe="-_.~"), quote(str(v), safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)
