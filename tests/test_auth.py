"""SigV4 authentication against recognito's own access keys, with the errors AWS sends.

Requests are signed by botocore itself (``SigV4Auth`` over an ``AWSRequest``, or a real boto3
client), turned into the API Gateway proxy events a REST API delivers (stage-prefixed path in
``requestContext.path``), and run through real handlers against moto's DynamoDB and KMS.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cfn_template import load_template
from conftest import invoke_event
from recognito.auth import keys
from recognito.protocol import proxy_event
from recognito.settings import settings
from recognito_local.cli import main as cli

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
ENDPOINT = f"https://{HOST}/v1"
CONTENT_TYPE = "application/x-amz-json-1.1"


@pytest.fixture
def keystore(aws, monkeypatch):
    """moto's DynamoDB and KMS with the stack's KMS alias, auth required, caches empty."""
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key(Description="recognito access key secrets")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/recognito-access-keys", TargetKeyId=key_id)
    monkeypatch.setenv("RECOGNITO_AUTH", "required")
    settings.cache_clear()
    keys.reset_caches()
    yield
    keys.reset_caches()


@pytest.fixture
def key(keystore) -> tuple[str, str]:
    created, secret = keys.create_key("tests")
    return created.access_key_id, secret


def signed_request(
    operation: str,
    body: dict | None = None,
    credentials: tuple[str, str] | Credentials = ("AKRGAAAAAAAAAAAAAAAA", "x"),
    *,
    url: str = ENDPOINT,
    region: str = "us-east-1",
) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"RekognitionService.{operation}"},
    )
    if not isinstance(credentials, Credentials):
        credentials = Credentials(*credentials)
    SigV4Auth(credentials, "rekognition", region).add_auth(request)
    return request


def to_event(request: AWSRequest, stage: str = "v1") -> dict[str, Any]:
    """What a REST API stage delivers for ``request``: ``path`` without the stage,
    ``requestContext.path`` with it, the Host header the client signed, headers API Gateway adds."""
    parts = urlsplit(request.url)
    signed_path = parts.path or "/"
    resource = "/" + signed_path.removeprefix(f"/{stage}").lstrip("/")
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    headers |= {"Host": parts.netloc, "X-Forwarded-For": "203.0.113.9", "X-Amzn-Trace-Id": "Root=1-abc"}
    event = proxy_event(request.body.decode(), headers, path=resource, stage=stage)
    event["requestContext"]["path"] = signed_path
    return event


def run(event: dict[str, Any], operation: str = "ListCollections") -> tuple[int, dict]:
    reply = invoke_event(xform_name(operation), event)
    return reply["statusCode"], json.loads(reply["body"])


def refused(event: dict[str, Any]) -> tuple[int, str, str]:
    status, body = run(event)
    return status, body["__type"], body["message"]


# ---- good and bad signatures ---------------------------------------------------------------


def test_a_good_signature_is_served_through_the_front_door_path_and_the_direct_path(key):
    assert run(to_event(signed_request("ListCollections", {}, key))) == (
        200,
        {"CollectionIds": [], "FaceModelVersions": []},
    )
    direct = signed_request("ListCollections", {}, key, url=f"{ENDPOINT}/ListCollections")
    assert run(to_event(direct))[0] == 200
    trailing = signed_request("ListCollections", {}, key, url=f"{ENDPOINT}/")
    assert run(to_event(trailing))[0] == 200


def test_a_wrong_secret_is_an_invalid_signature(key):
    status, code, message = refused(to_event(signed_request("ListCollections", {}, (key[0], "not-the-secret"))))
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_a_tampered_body_is_an_invalid_signature(key):
    event = to_event(signed_request("CreateCollection", {"CollectionId": "mine"}, key))
    event["body"] = json.dumps({"CollectionId": "theirs"})
    status, body = run(event, "CreateCollection")
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    event["body"] = json.dumps({"CollectionId": "mine"})
    assert run(event, "CreateCollection")[0] == 200


def test_a_declared_body_hash_must_be_the_body_s(key):
    body = json.dumps({}).encode()
    request = AWSRequest(
        method="POST",
        url=ENDPOINT,
        data=body,
        headers={
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": "RekognitionService.ListCollections",
            "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
        },
    )
    SigV4Auth(Credentials(*key), "rekognition", "us-east-1").add_auth(request)
    event = to_event(request)
    assert run(event)[0] == 200
    event["body"] = json.dumps({"MaxResults": 1})
    assert refused(event)[:2] == (400, "InvalidSignatureException")


def test_a_tampered_signed_header_is_an_invalid_signature(key):
    event = to_event(signed_request("ListCollections", {}, key))
    event["headers"]["X-Amz-Target"] = event["multiValueHeaders"]["X-Amz-Target"][0] = (
        "RekognitionService.DeleteCollection"
    )
    assert refused(event)[:2] == (400, "InvalidSignatureException")


@pytest.mark.parametrize(("minutes", "wording"), [(-20, "Signature expired"), (20, "Signature not yet current")])
def test_a_date_outside_five_minutes_is_refused_with_aws_wording(key, monkeypatch, minutes, wording):
    then = datetime.now(UTC) + timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: then)
    status, code, message = refused(to_event(signed_request("ListCollections", {}, key)))
    assert (status, code) == (400, "InvalidSignatureException")
    sign = "-" if minutes < 0 else "+"
    stamp = r"\d{8}T\d{6}Z"
    relation = "is now earlier than" if minutes < 0 else "is still later than"
    pattern = rf"{wording}: {then:%Y%m%dT%H%M%SZ} {relation} {stamp} \({stamp} \{sign} 5 min\.\)"
    assert re.fullmatch(pattern, message), message


def test_a_date_within_five_minutes_is_accepted(key, monkeypatch):
    then = datetime.now(UTC) - timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: then)
    assert run(to_event(signed_request("ListCollections", {}, key)))[0] == 200


def test_an_unknown_key_is_unrecognized(key):
    for unknown in ("AKRGZZZZZZZZZZZZZZZZ", "AKIAIOSFODNN7EXAMPLE"):
        status, code, message = refused(to_event(signed_request("ListCollections", {}, (unknown, key[1]))))
        assert (status, code, message) == (
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )


def test_a_revoked_key_is_unrecognized(key):
    event = to_event(signed_request("ListCollections", {}, key))
    assert run(event)[0] == 200
    keys.revoke_key(key[0])
    assert refused(to_event(signed_request("ListCollections", {}, key)))[:2] == (400, "UnrecognizedClientException")


def test_a_revocation_elsewhere_takes_effect_when_the_cached_secret_expires(key, monkeypatch):
    """Another process (the CLI) revokes: a warm instance keeps its cached secret for at most SECRET_TTL."""
    from recognito.storage.tables import AccessKeyRecord

    assert run(to_event(signed_request("ListCollections", {}, key)))[0] == 200
    AccessKeyRecord(key[0]).update(actions=[AccessKeyRecord.status.set(keys.INACTIVE)])
    assert run(to_event(signed_request("ListCollections", {}, key)))[0] == 200
    later = keys.time.monotonic() + keys.SECRET_TTL + 1
    monkeypatch.setattr(keys.time, "monotonic", lambda: later)
    assert refused(to_event(signed_request("ListCollections", {}, key)))[:2] == (400, "UnrecognizedClientException")


def test_session_tokens_are_not_accepted(key):
    session = Credentials(key[0], key[1], "FwoGZXIvYXdzEXAMPLE")
    assert refused(to_event(signed_request("ListCollections", {}, session)))[:2] == (400, "UnrecognizedClientException")


def test_scope_must_be_this_region_and_rekognition(key):
    status, code, message = refused(to_event(signed_request("ListCollections", {}, key, region="eu-west-1")))
    assert (status, code, message) == (
        400,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    )
    request = signed_request("ListCollections", {}, key)
    request.headers["Authorization"] = request.headers["Authorization"].replace("/rekognition/", "/s3/")
    assert refused(to_event(request))[2] == "Credential should be scoped to correct service: 'rekognition'. "


def test_missing_and_malformed_authorization(key):
    unsigned = proxy_event("{}", {"Content-Type": CONTENT_TYPE, "X-Amz-Target": "RekognitionService.ListCollections"})
    assert refused(unsigned) == (400, "MissingAuthenticationTokenException", "Request is missing Authentication Token")

    bearer = to_event(signed_request("ListCollections", {}, key))
    bearer["headers"]["Authorization"] = "Bearer abc"
    del bearer["multiValueHeaders"]["Authorization"]
    status, code, message = refused(bearer)
    assert (status, code) == (400, "IncompleteSignatureException")
    assert message == (
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc"
    )

    undated = to_event(signed_request("ListCollections", {}, key))
    for headers in (undated["headers"], undated["multiValueHeaders"]):
        del headers["X-Amz-Date"]
    status, code, message = refused(undated)
    assert code == "IncompleteSignatureException"
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in message


def test_the_error_reaches_a_boto3_client_as_its_own_code(key):
    """Through a real boto3 client: the SDK signs, our handler answers, the SDK parses the error."""
    ok = _client_through_handlers(key)
    assert ok.list_collections()["CollectionIds"] == []
    with pytest.raises(ClientError) as caught:
        _client_through_handlers((key[0], "wrong")).list_collections()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    local = _client_through_handlers(key, endpoint="http://127.0.0.1:8765", stage="local")
    assert local.create_collection(CollectionId="signed")["StatusCode"] == 200


# ---- modes ---------------------------------------------------------------------------------


def test_auto_mode_accepts_anything_until_a_key_exists(keystore, monkeypatch):
    monkeypatch.setenv("RECOGNITO_AUTH", "auto")
    settings.cache_clear()
    unsigned = proxy_event("{}", {"Content-Type": CONTENT_TYPE, "X-Amz-Target": "RekognitionService.ListCollections"})
    assert run(unsigned)[0] == 200
    assert run(to_event(signed_request("ListCollections", {}, ("test", "test"))))[0] == 200
    created, secret = keys.create_key("first")
    key_id = created.access_key_id
    assert refused(unsigned)[:2] == (400, "MissingAuthenticationTokenException")
    assert run(to_event(signed_request("ListCollections", {}, (key_id, secret))))[0] == 200
    keys.revoke_key(key_id)
    assert refused(unsigned)[:2] == (400, "MissingAuthenticationTokenException"), "revoking keeps auth on"


def test_auto_mode_notices_a_key_created_by_another_process_within_the_recheck(keystore, monkeypatch):
    monkeypatch.setenv("RECOGNITO_AUTH", "auto")
    settings.cache_clear()
    unsigned = proxy_event("{}", {"Content-Type": CONTENT_TYPE, "X-Amz-Target": "RekognitionService.ListCollections"})
    assert run(unsigned)[0] == 200
    created = keys.create_key("elsewhere")[0]
    keys._configured = (keys.time.monotonic() + keys.AUTO_RECHECK, False)  # as a process that saw no keys
    assert run(unsigned)[0] == 200
    later = keys.time.monotonic() + keys.AUTO_RECHECK + 1
    monkeypatch.setattr(keys.time, "monotonic", lambda: later)
    assert refused(unsigned)[:2] == (400, "MissingAuthenticationTokenException")
    assert created.status == keys.ACTIVE


def test_off_mode_checks_nothing_and_required_mode_refuses_without_keys(keystore, monkeypatch):
    garbage = to_event(signed_request("ListCollections", {}, ("nobody", "nothing")))
    monkeypatch.setenv("RECOGNITO_AUTH", "off")
    settings.cache_clear()
    assert run(garbage)[0] == 200
    monkeypatch.setenv("RECOGNITO_AUTH", "required")
    settings.cache_clear()
    assert refused(garbage)[:2] == (400, "UnrecognizedClientException")
    monkeypatch.setenv("RECOGNITO_AUTH", "requried")  # a typo must not open the endpoint
    settings.cache_clear()
    assert refused(garbage)[:2] == (400, "UnrecognizedClientException")


# ---- the keys themselves -------------------------------------------------------------------


def test_secrets_are_stored_only_as_kms_ciphertext_bound_to_their_key(key):
    from recognito.storage.tables import AccessKeyRecord

    record = AccessKeyRecord.get(key[0])
    assert key[1].encode() not in record.encrypted_secret
    assert re.fullmatch(r"AKRG[A-Z2-7]{16}", key[0]) and len(key[1]) == 40
    other = keys.create_key("other")[0].access_key_id
    AccessKeyRecord(other).update(actions=[AccessKeyRecord.encrypted_secret.set(record.encrypted_secret)])
    status, code, _ = refused(to_event(signed_request("ListCollections", {}, (other, key[1]))))
    assert (status, code) == (500, "InternalServerError"), "a ciphertext moved to another key must not decrypt"


def test_cli_create_list_revoke_round_trip(keystore, monkeypatch, capsys):
    # The CLI pins the region in the environment: let monkeypatch put it back.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert cli(["keys", "create", "--description", "ci runner"]) == 0
    out = capsys.readouterr().out
    key_id = re.search(r"AccessKeyId\s+(\S+)", out).group(1)
    secret = re.search(r"SecretAccessKey\s+(\S+)", out).group(1)
    assert run(to_event(signed_request("ListCollections", {}, (key_id, secret))))[0] == 200

    assert cli(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(rf"{key_id}\s+Active\s+\S+\s+ci runner", listing)
    assert secret not in listing

    assert cli(["keys", "revoke", key_id]) == 0
    assert "Inactive" in capsys.readouterr().out
    assert re.search(rf"{key_id}\s+Inactive", (cli(["keys", "list"]), capsys.readouterr().out)[1])
    assert refused(to_event(signed_request("ListCollections", {}, (key_id, secret))))[:2] == (
        400,
        "UnrecognizedClientException",
    )
    assert cli(["keys", "revoke", "AKRGNOSUCHKEY0000000"]) == 1
    assert "no access key AKRGNOSUCHKEY0000000" in capsys.readouterr().err


# ---- deployment ----------------------------------------------------------------------------


def test_template_requires_auth_and_lets_every_operation_read_the_keys():
    document = load_template()
    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["RECOGNITO_AUTH"] == "required"
    assert variables["RECOGNITO_KMS_KEY_ID"] == {"GetAtt": "AccessKeysKey.Arn"}
    resources = document["Resources"]
    assert resources["AccessKeysTable"]["Properties"]["TableName"] == {"Sub": "${AWS::StackName}-access-keys"}
    assert resources["AccessKeysKeyAlias"]["Properties"]["AliasName"] == {"Sub": "alias/${AWS::StackName}-access-keys"}
    for logical, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        if not any(event["Type"] == "Api" for event in (props.get("Events") or {}).values()):
            continue  # not reachable through the API: nothing to authenticate
        if props["CodeUri"].strip("/").endswith("front_door"):
            continue
        assert {"Ref": "AccessKeyReaderPolicy"} in props.get("Policies", []), f"{logical} cannot verify signatures"


# ---- helpers -------------------------------------------------------------------------------


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, *args: Any, **kwargs: Any):
        yield self.data


def _client_through_handlers(credentials: tuple[str, str], endpoint: str = ENDPOINT, stage: str = "v1") -> Any:
    """A boto3 Rekognition client whose requests are answered by the handlers, not the network."""
    client = boto3.client(
        "rekognition",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        aws_request = AWSRequest(method=request.method, url=request.url, data=request.body, headers=request.headers)
        event = to_event(aws_request, stage)
        operation = event["headers"]["X-Amz-Target"].partition(".")[2]
        reply = invoke_event(xform_name(operation), event)
        return AWSResponse(request.url, reply["statusCode"], reply["headers"], _Raw(reply["body"].encode()))

    client.meta.events.register("before-send.rekognition", answer)
    return client
