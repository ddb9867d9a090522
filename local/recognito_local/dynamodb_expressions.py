"""moto's DynamoDB expressions at the cost of reading them once.

A TransactWriteItems of a collection's round (recognito.collections.store) updates a dozen items
under a condition each, and moto handles every item's expressions several times while holding the
DynamoDB lock: it parses a condition expression three times (validating the request, checking the
transaction, applying the update), and each update expression's syntax tree is deep-copied
before validation by ``copy.deepcopy``'s generic path (``__reduce_ex__`` for every node). Under
16 writers to one collection those two were half of moto's time in these transactions. Here:

- a condition expression parsed once is remembered, keyed by everything its result depends on
  (the expression, its names and its values): the same request's second and third parses reuse it.
  The parsed condition is only evaluated afterwards (moto never changes it), so sharing it is safe;
  an expression that fails to parse is parsed, and fails, every time.
- an update expression's syntax tree is parsed once per expression (a pure function of its text;
  the round's items share a handful of expressions). moto only reads the tree it gets, or
  validates a copy of it, so the remembered tree is never changed.
- syntax-tree nodes copy themselves: a new node of the same class with its children copied, the
  same result as the generic deep copy (parents through the memo, leaves by ``copy.deepcopy``).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections import OrderedDict
from typing import Any

CACHED_CONDITIONS = 2048
CACHED_UPDATES = 512

_conditions: OrderedDict[str, tuple[Any, list[str], list[str]]] = OrderedDict()
_conditions_lock = threading.Lock()


def install() -> None:
    """Patch moto's DynamoDB expression handling (once per process)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = ConditionExpressionParser.parse
    if getattr(original, "_remembered", False):
        return

    def parse(self: Any) -> Any:
        key = _condition_key(self)
        with _conditions_lock:
            known = _conditions.get(key)
            if known is not None:
                _conditions.move_to_end(key)
        if known is None:
            op = original(self)
            known = (op, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
            with _conditions_lock:
                _conditions[key] = known
                while len(_conditions) > CACHED_CONDITIONS:
                    _conditions.popitem(last=False)
            return op
        op, names_found, values_found = known
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return op

    parse._remembered = True  # type: ignore[attr-defined]
    parse.__wrapped__ = original  # type: ignore[attr-defined]
    ConditionExpressionParser.parse = parse
    Node.__deepcopy__ = _node_deepcopy
    UpdateExpressionParser.make = classmethod(functools.lru_cache(CACHED_UPDATES)(UpdateExpressionParser.make.__func__))


def _condition_key(parser: Any) -> str:
    return json.dumps(
        [parser.condition_expression, parser.expression_attribute_names, parser.expression_attribute_values],
        sort_keys=True,
        default=repr,
    )


def _node_deepcopy(node: Any, memo: dict[int, Any]) -> Any:
    """What ``copy.deepcopy`` makes of a node (same class, attributes copied, the memo shared),
    without its generic reconstruction."""
    made = memo.get(id(node))
    if made is not None:
        return made
    made = object.__new__(type(node))
    memo[id(node)] = made
    for name, value in node.__dict__.items():
        if name == "children" and isinstance(value, list):
            value = [copy.deepcopy(child, memo) for child in value]
        elif not isinstance(value, str):
            value = copy.deepcopy(value, memo)
        made.__dict__[name] = value
    return made
