"""Face Liveness sessions through their handlers (moto in-process) and the streaming API's parts
that need no models: event-stream framing, the challenge, the stream's checks, the presigned URL.

The whole path, a scripted client over WebSocket deciding live and not live from real video, is
tests/e2e/test_liveness_e2e.py.
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.eventstream import EventStreamBuffer
from conftest import call
from liveness_client import presigned_url, signed
from recognito.errors import AccessDeniedException, SessionNotFoundException, ValidationException
from recognito.liveness import challenge as challenges
from recognito.liveness import eventstream, presign, sessions, stream
from recognito.settings import env_name, settings

LIGHT_VERSIONS = "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0"


def _create(settings: dict | None = None, **extra) -> str:
    status, body = call("CreateFaceLivenessSession", {**({"Settings": settings} if settings else {}), **extra})
    assert status == 200, body
    return body["SessionId"]


def _query(session_id: str, versions: str = LIGHT_VERSIONS) -> dict[str, str]:
    return {"session-id": session_id, "video-width": "640", "video-height": "480", "challenge-versions": versions}


# ---- sessions ----------------------------------------------------------------------------------
def test_a_new_session_reads_created_until_it_expires(aws, monkeypatch):
    session_id = _create({"AuditImagesLimit": 2})
    status, body = call("GetFaceLivenessSessionResults", {"SessionId": session_id})
    assert status == 200
    assert body == {"SessionId": session_id, "Status": "CREATED"}

    created = sessions.load(session_id).created
    monkeypatch.setattr(sessions, "now", lambda: created + sessions.SESSION_LIFETIME)
    status, body = call("GetFaceLivenessSessionResults", {"SessionId": session_id})
    assert body == {"SessionId": session_id, "Status": "EXPIRED"}
    with pytest.raises(SessionNotFoundException):  # an expired session cannot be streamed to
        stream.open_session(_query(session_id))


def test_client_request_token_gives_the_same_session_and_refuses_other_settings(aws):
    first = _create({"AuditImagesLimit": 1}, ClientRequestToken="retry-1")
    assert _create({"AuditImagesLimit": 1}, ClientRequestToken="retry-1") == first
    assert _create({"AuditImagesLimit": 1}, ClientRequestToken="retry-2") != first
    status, body = call(
        "CreateFaceLivenessSession", {"Settings": {"AuditImagesLimit": 3}, "ClientRequestToken": "retry-1"}
    )
    assert (status, body["__type"]) == (400, "IdempotentParameterMismatchException")


@pytest.mark.parametrize(
    ("request_body", "code"),
    [
        ({"Settings": {"AuditImagesLimit": 5}}, "ValidationException"),  # the model's constraints, as AWS
        ({"Settings": {"OutputConfig": {"S3Bucket": "x"}}}, "ValidationException"),
        ({"Settings": {"ChallengePreferences": [{"Type": "Blink"}]}}, "ValidationException"),
        ({"KmsKeyId": ""}, "ValidationException"),
        (
            {
                "Settings": {
                    "ChallengePreferences": [
                        {"Type": "FaceMovementAndLightChallenge", "Versions": {"Minimum": "3.0.0"}}
                    ]
                }
            },
            "InvalidParameterException",
        ),
        (
            {
                "Settings": {
                    "ChallengePreferences": [
                        {"Type": "FaceMovementChallenge", "Versions": {"Minimum": "1.2.0", "Maximum": "1.1.0"}}
                    ]
                }
            },
            "InvalidParameterException",
        ),
    ],
)
def test_bad_settings_are_refused(aws, request_body, code):
    status, body = call("CreateFaceLivenessSession", request_body)
    assert (status, body["__type"]) == (400, code), body


def test_an_output_bucket_that_cannot_be_reached_is_access_denied(aws):
    status, body = call("CreateFaceLivenessSession", {"Settings": {"OutputConfig": {"S3Bucket": "no-such-bucket"}}})
    assert (status, body["__type"]) == (400, "AccessDeniedException")


def test_images_in_the_output_bucket_are_encrypted_with_the_sessions_kms_key(aws):
    import io

    import boto3
    from PIL import Image
    from skimage import data

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="liveness-output")
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    output = {"OutputConfig": {"S3Bucket": "liveness-output", "S3KeyPrefix": "audits/"}}
    jpeg = io.BytesIO()
    Image.fromarray(data.astronaut()).save(jpeg, format="JPEG")
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}
    for kms in (key_id, None):
        session_id = _create(output, **({"KmsKeyId": kms} if kms else {}))
        image = sessions.store_image(sessions.settings_of(sessions.load(session_id)), "reference", jpeg.getvalue(), box)
        assert image["S3Object"]["Name"] == f"audits/{session_id}/reference.jpg"
        head = s3.head_object(Bucket="liveness-output", Key=image["S3Object"]["Name"])
        assert head.get("SSEKMSKeyId") == kms and (head.get("ServerSideEncryption") == "aws:kms") == bool(kms)


def test_unknown_and_malformed_session_ids(aws):
    status, body = call("GetFaceLivenessSessionResults", {"SessionId": "3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e"})
    assert (status, body["__type"]) == (400, "SessionNotFoundException")
    status, body = call("GetFaceLivenessSessionResults", {"SessionId": "not-a-session"})
    assert (status, body["__type"]) == (400, "ValidationException")


def test_a_session_streams_once_and_shows_its_challenge(aws):
    session_id = _create({"ChallengePreferences": [{"Type": "FaceMovementChallenge"}]})
    opened = stream.open_session(_query(session_id))
    assert opened.challenge.type == "FaceMovementChallenge" and not opened.challenge.colors
    status, body = call("GetFaceLivenessSessionResults", {"SessionId": session_id})
    assert body["Status"] == "IN_PROGRESS"
    assert body["Challenge"] == {"Type": "FaceMovementChallenge", "Version": "1.0.0"}
    with pytest.raises(SessionNotFoundException):
        stream.open_session(_query(session_id))


@pytest.mark.parametrize(
    "change",
    [{"session-id": "abc"}, {"video-width": "wide"}, {"video-height": "0"}, {"challenge-versions": "nope"}],
)
def test_bad_connection_parameters_are_validation_errors(aws, change):
    session_id = _create()
    with pytest.raises(ValidationException):
        stream.open_session({**_query(session_id), **change})


def test_a_client_without_the_sessions_challenge_is_refused(aws):
    session_id = _create()  # FaceMovementAndLightChallenge by default
    with pytest.raises(ValidationException):
        stream.open_session(_query(session_id, versions="FaceMovementChallenge_1.0.0"))


# ---- the challenge -----------------------------------------------------------------------------
def test_challenges_are_drawn_anew_and_fit_the_video():
    drawn = [challenges.draw(challenges.LIGHT, "2.0.0", 640, 480) for _ in range(20)]
    for challenge in drawn:
        x1, y1, x2, y2 = challenge.oval.box()
        assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480
        assert challenge.oval.height / challenge.oval.width == pytest.approx(
            challenges.OVAL_HEIGHT_WIDTH_RATIO, rel=0.01
        )
        assert challenge.colors[0] == (0, 0, 0) and len(challenge.colors) == 1 + challenges.FLASHES
        assert all(a != b for a, b in zip(challenge.colors, challenge.colors[1:], strict=False))
        body = challenge.event()["SessionInformation"]["Challenge"]["FaceMovementAndLightChallenge"]
        assert body["LightChallengeType"] == "SEQUENTIAL" and len(body["ColorSequences"]) == len(challenge.colors)
    assert len({c.colors for c in drawn}) > 15  # not one fixed sequence
    assert len({(c.oval.center_x, c.oval.center_y) for c in drawn}) > 15


def test_a_client_reporting_other_colours_than_asked_is_refused():
    challenge = challenges.draw(challenges.LIGHT, "2.0.0", 640, 480)
    report = challenges.ClientReport(video_start=1000.0)
    wrong = next(c for c in challenges.PALETTE if c != challenge.colors[1])
    report.colors = {0: (challenge.colors[0], 1500.0), 1: (wrong, 1600.0)}
    with pytest.raises(ValidationException):
        report.color_times(challenge)


# ---- event-stream framing ----------------------------------------------------------------------
def test_messages_encode_as_botocore_decodes_them():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = eventstream.encode(
        {":event-type": "VideoEvent", "n": 7, "flag": True, ":date": when, "raw": b"\x00\x01"}, b"{}"
    )
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    (message,) = list(buffer)
    assert message.headers == {
        ":event-type": "VideoEvent",
        "n": 7,
        "flag": True,
        ":date": int(when.timestamp() * 1000),
        "raw": b"\x00\x01",
    }
    assert message.payload == b"{}"
    decoded = list(eventstream.decode(data + eventstream.event("DisconnectionEvent", {"TimestampMillis": 1})))
    assert [m.event_type for m in decoded] == ["VideoEvent", "DisconnectionEvent"]


def test_corrupt_or_truncated_messages_are_refused():
    data = bytearray(eventstream.event("VideoEvent", {"TimestampMillis": 1}))
    with pytest.raises(eventstream.EventStreamError):
        list(eventstream.decode(bytes(data[:-3])))
    data[20] ^= 0xFF
    with pytest.raises(eventstream.EventStreamError):
        list(eventstream.decode(bytes(data)))
    assert zlib.crc32(b"") == 0  # (the CRC is zlib's, as botocore checks it)


def test_signed_envelopes_unwrap_and_the_empty_one_ends_the_stream():
    inner = eventstream.event("VideoEvent", {"TimestampMillis": 5, "VideoChunk": base64.b64encode(b"abc").decode()})
    (outer,) = eventstream.decode(signed(inner, b"\x01" * 32))
    assert eventstream.unwrap(outer).json()["TimestampMillis"] == 5
    (end,) = eventstream.decode(signed(b"", b"\x02" * 32))
    assert eventstream.unwrap(end) is None


def test_the_stream_keeps_chunks_refuses_strangers_and_ends():
    recording = stream.MemoryRecording()
    kind = challenges.LIGHT
    chunk = eventstream.event("VideoEvent", {"TimestampMillis": 2, "VideoChunk": base64.b64encode(b"second").decode()})
    first = eventstream.event("VideoEvent", {"TimestampMillis": 1, "VideoChunk": base64.b64encode(b"first-").decode()})
    assert not stream.receive(signed(chunk, b"s"), recording, kind)
    assert not stream.receive(first, recording, kind)  # unsigned clients too
    assert recording.video() == b"first-second"  # in the client's timestamp order
    with pytest.raises(ValidationException):
        stream.receive(eventstream.event("Surprise", {}), recording, kind)
    with pytest.raises(ValidationException):
        stream.receive(eventstream.event("ClientSessionInformationEvent", {"Challenge": {}}), recording, kind)
    with pytest.raises(ValidationException):
        stream.receive(b"not an event stream", recording, kind)
    end = {"Challenge": {kind: {"VideoEndTimestamp": 10}}}
    assert not stream.receive(eventstream.event("ClientSessionInformationEvent", end), recording, kind)
    assert stream.receive(eventstream.event("VideoEvent", {"TimestampMillis": 3, "VideoChunk": ""}), recording, kind)
    assert stream.receive(signed(b"", b"s"), stream.MemoryRecording(), kind)


def test_refusals_are_exception_messages():
    (message,) = eventstream.decode(stream.refusal(SessionNotFoundException("gone")))
    assert message.headers[":message-type"] == "exception"
    assert message.event_type == "SessionNotFoundException" and json.loads(message.payload) == {"Message": "gone"}
    (internal,) = eventstream.decode(stream.refusal(RuntimeError("secret detail")))
    assert internal.event_type == "InternalServerException" and b"secret" not in internal.payload


# ---- the presigned URL -------------------------------------------------------------------------
def test_presigned_urls_are_checked_once_keys_exist(monkeypatch):
    from urllib.parse import parse_qsl, urlsplit

    monkeypatch.setattr(presign.keys, "keys_configured", lambda: True)
    monkeypatch.setattr(presign.keys, "secret_for", lambda key: {"AKIDGOOD": "secret"}[key])
    url = presigned_url("http://127.0.0.1:8765", _query("3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e"), "AKIDGOOD", "secret")
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    assert presign.check(parts.path, query, parts.netloc).access_key_id == "AKIDGOOD"
    tampered = [(k, "99999999-1d4a-4b6f-9e7c-2a5d8f0b1c3e" if k == "session-id" else v) for k, v in query]
    with pytest.raises(AccessDeniedException):
        presign.check(parts.path, tampered, parts.netloc)
    with pytest.raises(AccessDeniedException):
        presign.check(parts.path, query, parts.netloc, now=datetime.now(UTC) + timedelta(hours=1))
    wrong_key = presigned_url(
        "http://127.0.0.1:8765", _query("3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e"), "AKIDGOOD", "other"
    )
    with pytest.raises(AccessDeniedException):
        presign.check(parts.path, parse_qsl(urlsplit(wrong_key).query), parts.netloc)
    with pytest.raises(AccessDeniedException):
        presign.check(parts.path, [(k, v) for k, v in query if k != "X-Amz-Signature"], parts.netloc)


# ---- the messages' chunk signatures --------------------------------------------------------------
# Signed by the AWS SDK for JavaScript's own signer (@smithy/signature-v4, as Amplify's client signs
# them; bench/liveness_sign_vectors.mjs), not by this repository's code.
SDK_SIGNED = json.loads((Path(__file__).parent / "liveness_signed_stream.json").read_text())
SDK_SIGNED_AT = datetime(2026, 12, 3, 18, 30, 5, tzinfo=UTC)


def _sdk_chain(monkeypatch) -> presign.Chain:
    monkeypatch.setattr(presign.keys, "keys_configured", lambda: True)
    monkeypatch.setattr(presign.keys, "secret_for", lambda key: {"AKIDEXAMPLELIVENESS": SDK_SIGNED["secret"]}[key])
    query = [tuple(pair) for pair in SDK_SIGNED["query"]]
    chain = presign.check(SDK_SIGNED["path"], query, SDK_SIGNED["host"], now=SDK_SIGNED_AT)
    assert chain is not None and chain.access_key_id == "AKIDEXAMPLELIVENESS"
    return chain


def _sdk_messages() -> list[eventstream.Message]:
    return [next(eventstream.decode(bytes.fromhex(data))) for data in SDK_SIGNED["messages"]]


def test_the_sdks_message_signatures_chain_from_the_url(monkeypatch):
    chain, messages = _sdk_chain(monkeypatch), _sdk_messages()
    for message in messages:
        chain.verify(message, now=SDK_SIGNED_AT)
        assert chain.prior == message.headers[":chunk-signature"].hex()
    assert eventstream.unwrap(messages[0]).event_type == "ClientSessionInformationEvent"
    assert eventstream.unwrap(messages[-1]) is None  # the empty envelope that ends the stream


@pytest.mark.parametrize(
    "attack",
    ["payload", "skipped", "replayed", "unsigned", "stale", "other secret"],
)
def test_a_message_whose_signature_does_not_follow_the_chain_is_refused(monkeypatch, attack):
    chain = _sdk_chain(monkeypatch)
    if attack == "other secret":  # the URL's key, another secret: as if the messages were forged
        monkeypatch.setattr(presign.keys, "secret_for", lambda key: "not the signer's")
    first, second, _ = _sdk_messages()
    now = SDK_SIGNED_AT + timedelta(minutes=10) if attack == "stale" else SDK_SIGNED_AT
    if attack in ("payload", "skipped", "replayed", "unsigned"):
        chain.verify(first, now=now)
    bad = {
        "payload": eventstream.Message(second.headers, second.payload[:-20] + b"9" + second.payload[-19:]),
        "skipped": second,  # signed on the first one's signature, which this chain has not seen
        "replayed": first,
        "unsigned": eventstream.unwrap(second),
        "stale": first,
        "other secret": first,
    }[attack]
    if attack == "skipped":
        chain = _sdk_chain(monkeypatch)
    with pytest.raises(AccessDeniedException):
        chain.verify(bad, now=now)


def test_the_stream_checks_each_message_once_keys_exist(monkeypatch):
    monkeypatch.setattr(presign.keys, "secret_for", lambda key: {"AKIDGOOD": "secret"}[key])
    prior = b"\x07" * 32
    chain = presign.Chain("AKIDGOOD", "us-east-1", prior.hex())
    recording = stream.MemoryRecording()
    chunk = eventstream.event("VideoEvent", {"TimestampMillis": 1, "VideoChunk": base64.b64encode(b"abc").decode()})
    first = signed(chunk, prior, secret="secret")
    assert not stream.receive(first, recording, challenges.LIGHT, chain)
    with pytest.raises(AccessDeniedException):  # the same message again: its signature is not the next one
        stream.receive(first, recording, challenges.LIGHT, chain)
    with pytest.raises(AccessDeniedException):  # an unsigned client, where keys are checked
        stream.receive(chunk, recording, challenges.LIGHT, chain)
    (envelope,) = eventstream.decode(first)
    assert stream.receive(signed(b"", envelope.headers[":chunk-signature"], secret="secret"), recording, "x", chain)
    assert recording.video() == b"abc"


# ---- the deployed WebSocket API's routes (moto's S3 and API Gateway Management API) -------------
def test_the_websocket_api_routes_greet_keep_and_fail(aws, monkeypatch):
    import boto3
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from recognito.liveness import apigateway

    monkeypatch.setenv(env_name("liveness_bucket"), "liveness-video")
    settings.cache_clear()
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="liveness-video")
    session_id = _create()
    context = {"connectionId": "c1", "domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "v1"}
    query = {k: [v] for k, v in _query(session_id).items()}
    connect = {"requestContext": {**context, "routeKey": "$connect"}, "headers": {"Host": "abc"}}
    unknown = {k: [v] for k, v in _query("3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e").items()}
    assert apigateway.handle({**connect, "multiValueQueryStringParameters": unknown}) == {"statusCode": 404}
    assert apigateway.handle({**connect, "multiValueQueryStringParameters": query}) == {"statusCode": 200}

    start = eventstream.event(
        "ClientSessionInformationEvent", {"Challenge": {challenges.LIGHT: {"VideoStartTimestamp": 1}}}
    )
    message = {
        "requestContext": {**context, "routeKey": "$default"},
        "body": base64.b64encode(signed(start, b"s")).decode(),
    }
    assert apigateway.handle(message) == {"statusCode": 200}
    sent = apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections["c1"].data
    (greeting,) = eventstream.decode(sent)
    assert greeting.event_type == "ServerSessionInformationEvent"
    assert apigateway.S3Recording(session_id).events() == [
        json.loads(eventstream.unwrap(next(eventstream.decode(start))).payload)
    ]

    assert apigateway.handle({"requestContext": {**context, "routeKey": "$disconnect"}}) == {"statusCode": 200}
    assert sessions.load(session_id).status == "FAILED"  # the client left before the end


def test_the_websocket_api_keeps_each_connections_signature_chain(aws, monkeypatch):
    """Deployed, each message is its own invocation: the chain's last signature is kept with the
    connection, so the next message must follow it, and a forged one ends the session."""
    from urllib.parse import parse_qs, urlsplit

    import boto3
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from recognito.liveness import apigateway

    monkeypatch.setenv(env_name("liveness_bucket"), "liveness-video")
    settings.cache_clear()
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="liveness-video")
    session_id = _create()
    monkeypatch.setattr(presign.keys, "keys_configured", lambda: True)
    monkeypatch.setattr(presign.keys, "secret_for", lambda key: {"AKIDGOOD": "secret"}[key])
    url = urlsplit(
        presigned_url("https://abc.execute-api.us-east-1.amazonaws.com", _query(session_id), "AKIDGOOD", "secret")
    )
    context = {"connectionId": "c2", "domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "v1"}
    connect = {
        "requestContext": {**context, "routeKey": "$connect"},
        "headers": {"Host": url.netloc},
        "multiValueQueryStringParameters": parse_qs(url.query),
    }
    assert apigateway.handle(connect) == {"statusCode": 200}

    def send(inner: bytes, prior: bytes) -> bytes:
        message = signed(inner, prior, secret="secret")
        routed = {"requestContext": {**context, "routeKey": "$default"}, "body": base64.b64encode(message).decode()}
        assert apigateway.handle(routed) == {"statusCode": 200}
        return next(eventstream.decode(message)).headers[":chunk-signature"]

    start = eventstream.event(
        "ClientSessionInformationEvent", {"Challenge": {challenges.LIGHT: {"VideoStartTimestamp": 1}}}
    )
    first = send(start, bytes.fromhex(parse_qs(url.query)["X-Amz-Signature"][0]))
    send(start, first)  # on the one before, kept in S3 between the invocations
    assert len(apigateway.S3Recording(session_id).events()) == 2 and sessions.load(session_id).status == "IN_PROGRESS"
    connection = apigatewaymanagementapi_backends["123456789012"]["us-east-1"].connections["c2"]
    send(start, first)  # a replay
    (*_, refusal) = eventstream.decode(connection.data)  # then the connection was closed
    assert refusal.event_type == "AccessDeniedException"
    assert sessions.load(session_id).status == "FAILED"


# ---- the standalone WebSocket server (the deployed container's) --------------------------------
def test_the_standalone_server_greets_and_refuses_a_forged_message(aws, monkeypatch):
    """recognito_local.liveness_server: the local endpoint's WebSocket side alone, binary frames,
    keys checked; a message whose chunk signature is not the URL's chain ends the session."""
    import threading
    import time
    import urllib.request

    from liveness_client import LivenessClient
    from recognito_local.liveness_server import make_server

    session_id = _create()
    monkeypatch.setattr(presign.keys, "keys_configured", lambda: True)  # from here on: the URL's key is checked
    monkeypatch.setattr(presign.keys, "secret_for", lambda key: {"AKIDGOOD": "secret"}[key])
    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=10) as answer:
            assert answer.status == 200
        client = LivenessClient(presigned_url(url, _query(session_id), "AKIDGOOD", "secret"))
        try:
            greeting = client.receive()
            assert greeting.event_type == "ServerSessionInformationEvent"
            assert "FaceMovementAndLightChallenge" in greeting.json()["SessionInformation"]["Challenge"]
            start = {"Challenge": {challenges.LIGHT: {"VideoStartTimestamp": 1}}}
            client.event("ClientSessionInformationEvent", start)  # signed on the URL's signature: accepted
            client.prior = b"\x00" * 32  # the next one signed on another chain
            client.event("ClientSessionInformationEvent", start)
            refused = client.receive()
        finally:
            client.close()
        assert refused.headers[":message-type"] == "exception" and refused.event_type == "AccessDeniedException"
        for _ in range(100):  # the connection's thread marks it as it closes, after the refusal
            if sessions.load(session_id).status == "FAILED":
                break
            time.sleep(0.05)
        assert sessions.load(session_id).status == "FAILED"
    finally:
        server.shutdown()
        server.server_close()
