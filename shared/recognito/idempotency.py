"""``ClientRequestToken`` idempotency, on Powertools' DynamoDB persistence layer.

A retried request with the same token gets the first answer; the same token with different
parameters is ``IdempotentParameterMismatchException``, as AWS answers. Requests without a token
run every time.

The records' writes (two a request: in progress, then the answer) from concurrent requests go to
DynamoDB together (``GroupedWrites``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from botocore.exceptions import ClientError

from recognito.errors import IdempotentParameterMismatchException
from recognito.locks import GroupCommit, Ticket
from recognito.storage.tables import idempotency_table_name

TOKEN_LIFETIME_SECONDS = 24 * 3600
KEY_ATTRIBUTE = "id"  # Powertools' default key_attr, the table's key (storage.tables)
MAX_ITEMS_PER_TRANSACTION = 100
_SETS_ONLY = re.compile(r"SET #\w+ = :\w+(, #\w+ = :\w+)*")
_UPDATE_MEMBERS = {"TableName", "Key", "UpdateExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}

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
            persistence = DynamoDBPersistenceLayer(table_name=idempotency_table_name(), boto3_client=_client())
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


class GroupedWrites:
    """A DynamoDB client for Powertools' idempotency records whose PutItem and UpdateItem calls from
    concurrent requests go out as one TransactWriteItems a round (``GroupCommit``); every other
    call passes through.

    Each write keeps its own condition, and each caller gets what its own call would have got: a
    write the transaction could not make (its condition failed: a retried token) is sent again
    alone, and answers or raises as it would have; one cancelled only because another was is sent
    in the next round. Alone (a Lambda instance serves one request at a time) a write is the very
    call Powertools made. Under `recognito serve`, 16 writers to one collection spent a third of
    the endpoint's time on these two writes a request, one by one.

    The update that completes a record this client put (``SET`` clauses only, no condition) is
    sent as the put of the record it makes: the same item, without DynamoDB evaluating an update
    expression (moto's costliest part of a transaction).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._group: GroupCommit[tuple[str, dict[str, Any]]] = GroupCommit(self._round)
        self._put: dict[str, dict[str, Any]] = {}  # the item each record in progress was put with

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_item(self, **request: Any) -> dict[str, Any]:
        reply = self._group.submit(("Put", request))
        self._put[_item_key("Put", request)] = request["Item"]
        return reply

    def update_item(self, **request: Any) -> dict[str, Any]:
        put = self._put.pop(_item_key("Update", request), None)
        item = _updated(put, request) if put is not None else None
        if item is None:
            return self._group.submit(("Update", request))
        return self._group.submit(("Put", {"TableName": request["TableName"], "Item": item}))

    def delete_item(self, **request: Any) -> dict[str, Any]:
        self._put.pop(_item_key("Update", request), None)
        return self._client.delete_item(**request)

    def _round(self, tickets: list[Ticket[tuple[str, dict[str, Any]]]]) -> None:
        batch, keys = [], set()
        for ticket in tickets[:MAX_ITEMS_PER_TRANSACTION]:
            key = _item_key(*ticket.work)
            if key not in keys:  # a transaction names an item once
                keys.add(key)
                batch.append(ticket)
        if len(batch) == 1:
            self._alone(batch[0])
            return
        try:
            self._client.transact_write_items(
                TransactItems=[{kind: request} for kind, request in (t.work for t in batch)]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                for ticket in batch:
                    self._alone(ticket)
                return
            reasons = error.response.get("CancellationReasons") or []
            for ticket, reason in zip(batch, reasons, strict=False):
                if reason.get("Code") not in (None, "None"):
                    self._alone(ticket)  # its own failure, raised as its own call raises it
            if not any(ticket.done for ticket in batch):  # each round settles one at least
                self._alone(batch[0])
            return
        for ticket in batch:
            ticket.settle({})  # Powertools reads nothing from a write's answer

    def _alone(self, ticket: Ticket[tuple[str, dict[str, Any]]]) -> None:
        kind, request = ticket.work
        try:
            ticket.settle((self._client.put_item if kind == "Put" else self._client.update_item)(**request))
        except Exception as error:
            ticket.settle(error=error)


def _updated(item: dict[str, Any], request: dict[str, Any]) -> dict[str, Any] | None:
    """The item an UpdateItem of ``SET #name = :value`` clauses alone makes of ``item``; None for
    any other update."""
    expression = request.get("UpdateExpression", "")
    if not set(request) <= _UPDATE_MEMBERS or not _SETS_ONLY.fullmatch(expression):
        return None
    names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})
    updated = dict(item)
    for clause in expression.removeprefix("SET ").split(", "):
        name, value = clause.split(" = ")
        if name not in names or value not in values:
            return None  # DynamoDB's error to give, not ours
        updated[names[name]] = values[value]
    return updated


def _item_key(kind: str, request: dict[str, Any]) -> str:
    key = request["Key"] if kind == "Update" else {KEY_ATTRIBUTE: request["Item"][KEY_ATTRIBUTE]}
    return json.dumps([request["TableName"], key], sort_keys=True)


@functools.cache
def _client() -> GroupedWrites:
    import boto3

    return GroupedWrites(boto3.session.Session().client("dynamodb"))
