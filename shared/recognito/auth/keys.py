"""The access keys recognito issues: create, list, revoke, and look up a secret to verify with.

SigV4 verification needs the secret itself (the signature is an HMAC keyed by it), so the secret
is kept recoverable but never in the clear: KMS ciphertext in the keys table, bound to its key id
by the encryption context so a ciphertext copied onto another record does not decrypt. Handlers
need ``kms:Decrypt`` and read access to the table; only the ``recognito keys`` command encrypts.

The KMS key is ``RECOGNITO_KMS_KEY_ID`` when set (deployed, template.yaml sets it), else the alias
``alias/<table prefix>-access-keys`` (the stack's alias, so the CLI finds it from ``--stack``);
against a local endpoint that alias is created on first use.

Caching per warm instance, to keep DynamoDB and KMS off the request path:

- A decrypted secret (or an inactive key's status) is reused for ``SECRET_TTL`` seconds, so a
  revocation takes effect everywhere within that bound. Unknown key ids are not cached, so a key
  works as soon as it is created.
- ``keys_configured`` (for ``RECOGNITO_AUTH=auto``): "some key exists" is kept for good, since keys
  are revoked, never deleted; "none yet" is re-read after ``AUTO_RECHECK`` seconds, so the first
  ``recognito keys create`` closes a running local endpoint within that bound.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from recognito.errors import InternalServerError, UnrecognizedClientException
from recognito.settings import settings

KEY_ID_PREFIX = "AKRG"
"""AWS key ids start AKIA (long-term) or ASIA (session); recognito's are as long, told apart by this."""
KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ACTIVE, INACTIVE = "Active", "Inactive"
SECRET_TTL = 60.0
AUTO_RECHECK = 5.0
CONTEXT_KEY = "recognito:access-key-id"
INVALID_TOKEN = "The security token included in the request is invalid."

logger = Logger(service="recognito", child=True)


@dataclass(frozen=True)
class AccessKey:
    """What ``recognito keys list`` shows: never the secret."""

    access_key_id: str
    status: str
    created: datetime
    description: str
    revoked: datetime | None = None


class KeyStoreError(Exception):
    """The key store cannot be used as configured, worded for the person running the command."""


# ---- the request path ---------------------------------------------------------------------

_secrets: dict[str, tuple[float, str | None]] = {}
_configured: tuple[float, bool] | None = None


def secret_for(access_key_id: str) -> str:
    """The secret of an active key; ``UnrecognizedClientException`` (as AWS) for any other id."""
    now = time.monotonic()
    cached = _secrets.get(access_key_id)
    if cached is None or cached[0] <= now:
        record = _record(access_key_id)
        if record is None:
            _secrets.pop(access_key_id, None)
            raise UnrecognizedClientException(INVALID_TOKEN)
        secret = _decrypt(record.access_key_id, record.encrypted_secret) if record.status == ACTIVE else None
        cached = _secrets[access_key_id] = (now + SECRET_TTL, secret)
    if cached[1] is None:
        raise UnrecognizedClientException(INVALID_TOKEN)
    return cached[1]


def keys_configured() -> bool:
    """Whether any key was ever issued (revoked ones count: revoking the last key must not open
    the endpoint again)."""
    global _configured
    now = time.monotonic()
    if _configured is not None and (_configured[1] or _configured[0] > now):
        return _configured[1]
    from pynamodb.exceptions import PynamoDBException

    from recognito.storage.tables import AccessKeyRecord

    try:
        found = any(True for _ in AccessKeyRecord.scan(limit=1, attributes_to_get=["access_key_id"]))
    except PynamoDBException as error:
        if not _table_missing(error):
            raise
        found = False
    _configured = (now + AUTO_RECHECK, found)
    return found


def reset_caches() -> None:
    """Forget every cached secret and the auto-mode answer (tests; a key store switched under us)."""
    global _configured
    _secrets.clear()
    _configured = None


def _record(access_key_id: str) -> Any:
    """The key's record, None when there is none (ids not of our shape are not looked up)."""
    from recognito.storage.tables import AccessKeyRecord

    if not (access_key_id.startswith(KEY_ID_PREFIX) and len(access_key_id) == 20):
        return None
    try:
        return AccessKeyRecord.get(access_key_id)
    except AccessKeyRecord.DoesNotExist:
        return None


def _decrypt(access_key_id: str, ciphertext: bytes) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    request: dict[str, Any] = {"CiphertextBlob": ciphertext, "EncryptionContext": {CONTEXT_KEY: access_key_id}}
    if settings().kms_key_id:
        request["KeyId"] = settings().kms_key_id
    try:
        return _kms().decrypt(**request)["Plaintext"].decode("utf-8")
    except (BotoCoreError, ClientError) as error:
        # Fail closed, and say why where the operator looks; the caller learns nothing of it.
        logger.error(f"cannot decrypt the secret of access key {access_key_id}: {error}")
        raise InternalServerError("Internal server error") from error


def _table_missing(error: Exception) -> bool:
    cause = getattr(error, "cause_response_code", None)
    return cause == "ResourceNotFoundException"


@cache
def _kms() -> Any:
    import boto3

    return boto3.client("kms", region_name=settings().region)


# ---- management (``recognito keys``) -------------------------------------------------------


def create_key(description: str = "") -> tuple[AccessKey, str]:
    """A new active key and its secret: the only time the secret is ever returned."""
    from recognito.storage.tables import AccessKeyRecord

    _require_table()
    access_key_id = KEY_ID_PREFIX + "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(16))
    secret = base64.b64encode(secrets.token_bytes(30)).decode("ascii")
    record = AccessKeyRecord(
        access_key_id,
        created=datetime.now(UTC),
        status=ACTIVE,
        description=description,
        encrypted_secret=_encrypt(access_key_id, secret),
    )
    # A clash of 80 random bits would be news; refuse rather than overwrite.
    record.save(condition=AccessKeyRecord.access_key_id.does_not_exist())
    global _configured
    _configured = None
    return _public(record), secret


def list_keys() -> list[AccessKey]:
    """Every key, oldest first."""
    from recognito.storage.tables import AccessKeyRecord

    _require_table()
    return sorted((_public(r) for r in AccessKeyRecord.scan()), key=lambda key: key.created)


def revoke_key(access_key_id: str) -> AccessKey:
    """Make a key Inactive for good; raises ``KeyStoreError`` for an unknown id."""
    from recognito.storage.tables import AccessKeyRecord

    _require_table()
    record = _record(access_key_id)
    if record is None:
        raise KeyStoreError(f"no access key {access_key_id} in table {AccessKeyRecord.Meta.table_name}")
    if record.status != INACTIVE:
        record.update(actions=[AccessKeyRecord.status.set(INACTIVE), AccessKeyRecord.revoked.set(datetime.now(UTC))])
    _secrets.pop(access_key_id, None)
    return _public(record)


def kms_key_id() -> str:
    """The KMS key new secrets are encrypted with (see the module docstring)."""
    return settings().kms_key_id or f"alias/{settings().table_prefix}-access-keys"


def _encrypt(access_key_id: str, secret: str) -> bytes:
    kms = _kms()
    request = {"Plaintext": secret.encode("utf-8"), "EncryptionContext": {CONTEXT_KEY: access_key_id}}
    try:
        return kms.encrypt(KeyId=kms_key_id(), **request)["CiphertextBlob"]
    except kms.exceptions.NotFoundException:
        if not _local():
            raise KeyStoreError(
                f"KMS key {kms_key_id()} not found in {settings().region}: is --stack the name of the deployed "
                "stack, and the region its region?"
            ) from None
    # A local endpoint starts with no KMS key: make the stack's alias, as the template does deployed.
    key = kms.create_key(Description=f"recognito access key secrets ({settings().table_prefix}, local)")
    kms.create_alias(AliasName=kms_key_id(), TargetKeyId=key["KeyMetadata"]["KeyId"])
    return kms.encrypt(KeyId=kms_key_id(), **request)["CiphertextBlob"]


def _require_table() -> None:
    from recognito.storage.tables import AccessKeyRecord

    if AccessKeyRecord.exists():
        return
    if _local():
        AccessKeyRecord.create_table(wait=True)
        return
    raise KeyStoreError(
        f"table {AccessKeyRecord.Meta.table_name} not found in {settings().region}: is --stack the name of the "
        "deployed stack, and the region its region?"
    )


def _local() -> bool:
    """Pointed at a local endpoint (``recognito serve``, moto) rather than AWS itself."""
    return bool(os.environ.get("AWS_ENDPOINT_URL"))


def _public(record: Any) -> AccessKey:
    return AccessKey(
        access_key_id=record.access_key_id,
        status=record.status,
        created=record.created,
        description=record.description or "",
        revoked=record.revoked,
    )
