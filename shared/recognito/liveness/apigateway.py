"""StartFaceLivenessSession deployed: the API Gateway WebSocket API's routes and the decision worker.

One handler serves the ``LivenessStream`` and ``LivenessDecision`` functions (functions.toml):

- ``$connect``: the presigned URL is checked and the session opened (recognito.liveness.stream);
  the connection's state goes to S3 (``connections/<connectionId>.json``). API Gateway lets no
  message be sent before ``$connect`` returns, so the challenge goes out with the first message.
- ``$default``: each client message (one Lambda invocation each) is decoded; video chunks and
  client events are kept in S3 under ``sessions/<SessionId>/``. When the stream ends the video is
  decoded here (PyAV, the Video layer) to frames in S3, and LivenessDecision (ONNX Runtime and the
  models; the two do not fit one function's 250 MB) decides; ``DisconnectionEvent`` follows.
- ``$disconnect``: a session left undecided is FAILED.

API Gateway WebSocket APIs refuse binary frames (close code 1003), and the AWS SDKs send
event-stream messages as binary frames; so this API takes messages as base64 text frames
(``ContentHandlingStrategy: CONVERT_TO_BINARY``). A stock SDK client needs a front that passes
binary frames: the local endpoint's WebSocket server (recognito_local.liveness) in a container
behind a load balancer. The README says so.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from dataclasses import asdict
from functools import cache
from typing import Any

from recognito.errors import RekognitionError
from recognito.liveness import challenge as challenges
from recognito.liveness import presign, sessions, stream
from recognito.settings import settings


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")


def _bucket() -> str:
    return str(settings().liveness_bucket)


class S3Recording:
    """A connection's chunks and client events as S3 objects, ordered by the client's timestamps."""

    def __init__(self, session_id: str) -> None:
        self.prefix = f"sessions/{session_id}/"

    def add_chunk(self, timestamp: int, chunk: bytes) -> int:
        key = f"{self.prefix}chunks/{timestamp:015d}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        _s3().put_object(Bucket=_bucket(), Key=key, Body=chunk)
        return sum(item["Size"] for item in self._list("chunks/"))

    def add_event(self, body: dict[str, Any]) -> None:
        _s3().put_object(Bucket=_bucket(), Key=f"{self.prefix}events/{time.time_ns():020d}.json", Body=json.dumps(body))

    def video(self) -> bytes:
        return b"".join(self._read(item["Key"]) for item in self._list("chunks/"))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(self._read(item["Key"])) for item in self._list("events/")]

    def _list(self, folder: str) -> list[dict[str, Any]]:
        pages = _s3().get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=self.prefix + folder)
        return sorted((item for page in pages for item in page.get("Contents", [])), key=lambda item: item["Key"])

    def _read(self, key: str) -> bytes:
        return _s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry of both functions: a WebSocket route, or ``{"Step": "decide", ...}``."""
    if event.get("Step") == "decide":
        return _decide(event)
    route = (event.get("requestContext") or {}).get("routeKey")
    if route == "$connect":
        return _connect(event)
    if route == "$disconnect":
        return _disconnect(event)
    return _message(event)


def _connection_key(event: dict[str, Any]) -> str:
    return f"connections/{event['requestContext']['connectionId']}.json"


def _connect(event: dict[str, Any]) -> dict[str, Any]:
    query = [(k, v) for k, values in (event.get("multiValueQueryStringParameters") or {}).items() for v in values]
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        chain = presign.check(stream.PATH, query, headers.get("host", ""))
        opened = stream.open_session(dict(query))
    except RekognitionError as error:
        return {
            "statusCode": 404
            if error.code == "SessionNotFoundException"
            else 403
            if error.code == "AccessDeniedException"
            else 400
        }
    state = {"SessionId": opened.settings.session_id, "Greeted": False, "Chain": chain and asdict(chain)}
    _s3().put_object(Bucket=_bucket(), Key=_connection_key(event), Body=json.dumps(state))
    return {"statusCode": 200}


def _message(event: dict[str, Any]) -> dict[str, Any]:
    state = json.loads(_s3().get_object(Bucket=_bucket(), Key=_connection_key(event))["Body"].read())
    session_id = state["SessionId"]
    opened = stream.restore(sessions.load(session_id))
    post = _poster(event)
    if not state["Greeted"]:
        post(opened.greeting())
        state["Greeted"] = True
        _s3().put_object(Bucket=_bucket(), Key=_connection_key(event), Body=json.dumps(state))
    try:
        # The client's text frame is the message in base64 (see the module docstring).
        data = base64.b64decode(event.get("body") or "", validate=True)
        recording = S3Recording(session_id)
        # The chain moves on with every message, so its last signature is kept with the connection.
        chain = presign.Chain(**state["Chain"]) if state.get("Chain") else None
        ended = stream.receive(data, recording, opened.challenge.type, chain)
        if chain is not None:
            state["Chain"] = asdict(chain)
            _s3().put_object(Bucket=_bucket(), Key=_connection_key(event), Body=json.dumps(state))
        if ended:
            _conclude(session_id, opened, recording)
            post(stream.disconnection())
            _close(event)
    except Exception as error:  # noqa: BLE001 - every failure reaches the client as its exception event
        post(stream.refusal(error))
        sessions.fail(session_id)
        _close(event)
    return {"statusCode": 200}


def _conclude(session_id: str, opened: stream.Opened, recording: S3Recording) -> None:
    """Decode here, decide in LivenessDecision (the models' function)."""
    import boto3

    from recognito.liveness.video import decode, pack

    frames_key = f"sessions/{session_id}/frames.npz"
    _s3().put_object(Bucket=_bucket(), Key=frames_key, Body=pack(decode(recording.video())))
    payload = {"Step": "decide", "SessionId": session_id, "Frames": frames_key, "Events": recording.events()}
    decision = settings().liveness_decision_function
    reply = boto3.client("lambda").invoke(FunctionName=decision, Payload=json.dumps(payload).encode())
    if reply.get("FunctionError"):
        raise RuntimeError(f"LivenessDecision failed: {reply['Payload'].read()[:500]!r}")


def _decide(event: dict[str, Any]) -> dict[str, Any]:
    from recognito.liveness.video import unpack

    opened = stream.restore(sessions.load(event["SessionId"]))
    frames = unpack(_s3().get_object(Bucket=_bucket(), Key=event["Frames"])["Body"].read())
    client = challenges.ClientReport()
    for body in event["Events"]:
        client.add(body, opened.challenge.type)
    return {"Live": stream.decide_frames(opened, frames, client)}


def _disconnect(event: dict[str, Any]) -> dict[str, Any]:
    try:
        state = json.loads(_s3().get_object(Bucket=_bucket(), Key=_connection_key(event))["Body"].read())
    except _s3().exceptions.NoSuchKey:
        return {"statusCode": 200}
    sessions.fail(state["SessionId"])  # only an IN_PROGRESS session changes
    _s3().delete_object(Bucket=_bucket(), Key=_connection_key(event))
    return {"statusCode": 200}


def _poster(event: dict[str, Any]) -> Any:
    import boto3

    context = event["requestContext"]
    client = boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{context['domainName']}/{context['stage']}")
    return lambda data: client.post_to_connection(ConnectionId=context["connectionId"], Data=data)


def _close(event: dict[str, Any]) -> None:
    import boto3

    context = event["requestContext"]
    client = boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{context['domainName']}/{context['stage']}")
    with contextlib.suppress(client.exceptions.GoneException):
        client.delete_connection(ConnectionId=context["connectionId"])
