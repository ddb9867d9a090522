"""Start one built function the way Lambda does, in a bare python3.12: import ``app``, call ``handler``.

tests/test_layer_imports.py runs this file as ``python3.12 -I -S lambda_probe.py SPEC RESULT`` with
``sys.path`` left at the standard library: no site-packages, no venv, no user site. SPEC (JSON) names
the function's code folder and its code layers' ``python/`` folders, which go first on ``sys.path``
as Lambda puts ``/var/task`` and ``/opt/python``, and optionally an event to call the handler with.
Every other module must come from those folders. Sockets are refused (an audit hook), so a function
that reaches for AWS or the network while it imports or answers the event is caught too.
RESULT (JSON) gets what happened. Only the standard library is imported here before ``app``.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from typing import Any

# What a socket does before any byte leaves: name lookup, connect, datagram send.
_NETWORK_EVENTS = frozenset({"socket.getaddrinfo", "socket.connect", "socket.sendto", "socket.sendmsg"})


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    aws_request_id = "lambda-probe-request"

    def __init__(self, name: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "lambda-probe"
        self._timeout_ms = timeout_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def _failure(stage: str, error: BaseException) -> dict[str, Any]:
    return {
        "stage": stage,
        "error": f"{type(error).__name__}: {error}",
        # ModuleNotFoundError and ImportError name the module that could not be had.
        "missing": getattr(error, "name", None),
        "traceback": traceback.format_exc(limit=-8),
    }


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    network: list[str] = []

    def refuse_network(event: str, args: tuple[Any, ...]) -> None:
        if event in _NETWORK_EVENTS:
            network.append(f"{event} {args!r:.160}")
            raise PermissionError(f"no network here: {event} {args!r:.160}")

    sys.addaudithook(refuse_network)
    sys.path[:0] = spec["path"]
    result: dict[str, Any] = {"network": network, "python": sys.version}
    try:
        handler = importlib.import_module("app").handler
    except Exception as error:
        result.update(_failure("import", error))
        return result
    if not callable(handler):
        result.update(stage="import", error=f"app.handler is a {type(handler).__name__}, not a function")
        return result
    if spec.get("event") is not None:
        context = LambdaContext(spec["name"], spec["memory_mb"], spec["timeout_s"])
        try:
            result["reply"] = handler(spec["event"], context)
        except Exception as error:
            result.update(_failure("invoke", error))
    return result


if __name__ == "__main__":
    spec_file, result_file = sys.argv[1:3]
    with open(spec_file) as stream:
        outcome = probe(json.load(stream))
    with open(result_file, "w") as stream:
        json.dump(outcome, stream, default=repr)
