"""Who may call: AWS Signature Version 4 against the access keys recognito issues.

Every operation's handler calls ``authenticate(event)`` before it reads the request, so a
request is checked wherever it enters (the front door passes the untouched event on, and
``POST /<Operation>`` reaches the function directly) and where the body is: an API Gateway
authorizer never sees the body, whose hash the signature covers.

``RECOGNITO_AUTH`` chooses:

- ``required`` (template.yaml sets it deployed): every request must be signed with an active key.
- ``auto`` (when unset: ``recognito serve``, tests): as ``required`` once any key has been
  issued (``recognito keys create``), else any credentials are accepted, as AWS mocks do.
- ``off``: no checks at all.

Any other value is read as ``required``: a typo must not open the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from recognito.auth import keys, sigv4
from recognito.settings import settings

MODES = ("required", "auto", "off")

logger = Logger(service="recognito", child=True)


def auth_mode() -> str:
    mode = settings().auth.strip().lower()
    return mode if mode in MODES else "required"


def authenticate(event: Mapping[str, Any]) -> str | None:
    """The access key id that signed ``event``, None when this endpoint does not check.

    Raises the error AWS would send (``MissingAuthenticationTokenException``,
    ``IncompleteSignatureException``, ``InvalidSignatureException``,
    ``UnrecognizedClientException``) when the request may not proceed.
    """
    mode = auth_mode()
    if mode == "off" or (mode == "auto" and not keys.keys_configured()):
        return None
    logger.remove_keys(["access_key_id"])
    access_key_id = sigv4.verify(event, keys.secret_for, region=settings().region)
    logger.append_keys(access_key_id=access_key_id)
    return access_key_id


__all__ = ["MODES", "auth_mode", "authenticate"]
