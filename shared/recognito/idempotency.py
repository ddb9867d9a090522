"""``ClientRequestToken`` idempotency, on Powertools' DynamoDB persistence layer.

A retried request with the same token gets the first answer; the same token with different
parameters is ``IdempotentParameterMismatchException``, as AWS answers. Requests without a token
run every time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from recognito.errors import IdempotentParameterMismatchException
from recognito.storage.tables import idempotency_table_name

TOKEN_LIFETIME_SECONDS = 24 * 3600

Service = Callable[[dict[str, Any]], dict[str, Any]]


def by_client_request_token(operation: str) -> Callable[[Service], Service]:
    """Make a service idempotent on the request's ``ClientRequestToken``."""

    def decorate(service: Service) -> Service:
        @functools.cache
        def guarded() -> Callable[..., dict[str, Any]]:
            # Built on the first request that carries a token: the persistence layer opens a
            # DynamoDB client, start-up work that functions importing this service may never need.
            config = IdempotencyConfig(
                event_key_jmespath=f"['{operation}', ClientRequestToken]",
                payload_validation_jmespath="@",
                raise_on_no_idempotency_key=False,
                expires_after_seconds=TOKEN_LIFETIME_SECONDS,
            )
            persistence = DynamoDBPersistenceLayer(table_name=idempotency_table_name())
            return idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)(
                lambda request: service(request)
            )

        @functools.wraps(service)
        def run(request: dict[str, Any]) -> dict[str, Any]:
            if not request.get("ClientRequestToken"):
                return service(request)
            try:
                return guarded()(request=request)
            except IdempotencyValidationError:
                raise IdempotentParameterMismatchException(
                    f"ClientRequestToken {request['ClientRequestToken']} was used with different parameters"
                ) from None

        return run

    return decorate
