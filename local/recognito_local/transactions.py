"""moto's DynamoDB TransactWriteItems at the cost of the items it writes, not of the tables.

moto backs up every table a transaction touches with ``copy.deepcopy`` before applying it, to roll
back on a cancellation. Every face write in recognito is a transaction on the faces table, so each
one copied all faces of every collection (1 KB embeddings included) while holding the endpoint's
DynamoDB lock: 20 ms a transaction with 100 faces, growing with the table, and every other
DynamoDB request queued behind it. Here the transaction backs up only the items it names, and a
rollback puts those back. (Stream records of a rolled-back write stay, as DynamoDB never emits
them; recognito reads no streams.)
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_by_item = threading.local()


def install() -> None:
    """Patch moto's DynamoDB backend (once per process)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_by_item", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups = _backups(self, transact_items)
        _by_item.active = True
        try:
            original(self, transact_items)
        except Exception:
            _restore(backups)
            raise
        finally:
            _by_item.active = False

    transact_write_items._by_item = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items
    Table.__deepcopy__ = _table_deepcopy


def _table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
    """Inside a transaction, moto's whole-table backup is the table itself (its rollback then
    assigns the table back to its own name); anywhere else, an ordinary deep copy."""
    if getattr(_by_item, "active", False):
        return table
    return copy._reconstruct(table, memo, *table.__reduce_ex__(4))  # type: ignore[attr-defined]


def _backups(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item or None) for each item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    backups = []
    for entry in transact_items:
        try:
            operation, spec = next(iter(entry.items()))
            table = backend.tables[spec["TableName"]]
            key = spec["Item"] if operation == "Put" else spec["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_key, range_key)
        except Exception:  # a malformed entry: moto refuses it before anything is written
            continue
        backups.append((table, hash_key, range_key, copy.deepcopy(current) if current is not None else None))
    return backups


def _restore(backups: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, item in reversed(backups):
        rows = table.items[hash_key] if range_key is not None else table.items
        slot = range_key if range_key is not None else hash_key
        if item is None:
            rows.pop(slot, None)
        else:
            rows[slot] = item
