"""A seeded fuzzer for the Rekognition endpoint, generated from botocore's service model.

Each request is built from the operation's input shape: mostly valid values (ids the endpoint
handed out earlier, enum members, numbers in range, small real images now and then), with some
members broken (wrong JSON types, out-of-range and non-finite numbers, over-long and unpaired-
surrogate strings, lists past their bounds, missing required members) and some bodies or targets
broken whole (not JSON, nested thousands deep, not UTF-8, other casings and prefixes of the
target). ``judge`` says whether a reply is what an AWS SDK can parse: JSON, ``__type`` on every
error, and a 200 whose body validates against the operation's output shape.

Shared by tests/test_fuzz.py (a few thousand requests in-process) and bench/fuzz_soak.py (more).
"""

from __future__ import annotations

import base64
import io
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

import regex
from botocore.model import Shape
from recognito.errors import SerializationException, ValidationException
from recognito.protocol import operation_model, operation_names, service_model
from recognito.protocol.validation import parse_input

CONTENT_TYPE = "application/x-amz-json-1.1"
# Members whose values name things the endpoint made: the fuzzer reuses what it was handed back.
KNOWN_NAMES = ("CollectionId", "FaceId", "UserId", "CollectionArn", "ImageId", "ExternalImageId", "Id")
IMAGE_BUCKET, IMAGE_KEY = "fuzz-images", "face.jpg"

Send = Callable[["Request"], "Reply"]


@dataclass(frozen=True)
class Request:
    target: str | None
    body: bytes
    operation: str | None = None  # the operation whose output a 200 must match
    signed: bool = False
    note: str = "valid"
    service: str = "rekognition"  # the SigV4 scope of a signed request
    path: str = "/"  # SDKs post to /; the front door also routes POST /<Operation>

    def describe(self) -> str:
        return f"{self.target} [{self.note}] {self.body[:160]!r}"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


@dataclass
class Tally:
    """What a run saw: status and error type counts, and every 5xx and malformed reply."""

    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    outside: Counter[str] = field(default_factory=Counter)  # 200 bodies beyond a constraint of the shape
    served: Counter[str] = field(default_factory=Counter)  # 200s by operation: how far the fuzzer reached

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def add(self, request: Request, reply: Reply) -> None:
        problem, outside = judge(request.operation, reply)
        if outside:  # one entry per operation and first broken member, whichever list item it was
            first = regex.sub(r"\d+ validation errors? detected: ", "", outside).split("; ")[0]
            self.outside[regex.sub(r"\.\d+\.member", "[]", first)] += 1
        if reply.status == 200 and request.operation:
            self.served[request.operation] += 1
        try:
            kind = json.loads(reply.body).get("__type", "") if reply.status != 200 else ""
        except (ValueError, AttributeError):
            kind = "?"
        self.statuses[f"{reply.status} {kind}".strip()] += 1
        if reply.status >= 500:
            self.server_errors.append(f"{request.describe()} -> {reply.status} {reply.body[:200]!r}")
        if problem:
            self.malformed.append(f"{request.describe()} -> {reply.status}: {problem}")

    def report(self) -> str:
        lines = [f"requests: {self.requests}", f"5xx: {len(self.server_errors)}", f"malformed: {len(self.malformed)}"]
        lines += [f"  {count:6d}  {status}" for status, count in sorted(self.statuses.items())]
        lines.append("200 by operation: " + ", ".join(f"{op} {n}" for op, n in sorted(self.served.items())))
        lines += [f"5xx: {line}" for line in self.server_errors[:20]]
        lines += [f"malformed: {line}" for line in self.malformed[:20]]
        lines += [f"200 beyond its output shape's constraints ({n}x): {what}" for what, n in self.outside.items()]
        return "\n".join(lines)


def judge(operation: str | None, reply: Reply) -> tuple[str | None, str | None]:
    """``(malformed, outside)``: why an SDK could not parse ``reply`` (not JSON, an error without
    ``__type``, a 200 body of the wrong JSON types for the output shape), and which of the output
    shape's constraints (lengths, patterns, ranges, enums) a parsable 200 body breaks."""
    try:
        body = json.loads(reply.body)
    except ValueError:
        return f"not JSON: {reply.body[:80]!r}", None
    if not isinstance(body, dict):
        return "not a JSON object", None
    if reply.status != 200:
        if not isinstance(body.get("__type"), str) or not body["__type"]:
            return "an error without __type", None
        return None, None
    if operation is None:
        return "200 for a request that names no operation", None
    try:
        parse_input(operation_model(operation).output_shape, body)
    except SerializationException as error:  # raised on the first member of a wrong type
        return f"200 body does not match {operation}'s output shape: {error.message[:300]}", None
    except ValidationException as error:  # raised once every member's type was read
        return None, f"{operation}: {error.message[:300]}"
    return None, None


@cache
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text)


def _fits(shape: Shape, value: str) -> bool:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
    pattern = shape.metadata.get("pattern")
    if len(value) < low or (high is not None and len(value) > high):
        return False
    return not pattern or bool(_pattern(pattern).fullmatch(value))


def small_images() -> list[bytes]:
    """Real photographs, small: scikit-image's astronaut (a face) and coffee (no face)."""
    import skimage.data
    from PIL import Image

    face = Image.fromarray(skimage.data.astronaut()).crop((130, 10, 320, 240)).resize((120, 145))
    cup = Image.fromarray(skimage.data.coffee()).resize((150, 100))
    images = []
    for picture, kind in ((face, "JPEG"), (cup, "PNG")):
        buffer = io.BytesIO()
        picture.save(buffer, kind)
        images.append(buffer.getvalue())
    return images


class Fuzzer:
    """Requests for ``operations``, reproducible from ``seed``; ``learn`` feeds ids back in."""

    def __init__(self, seed: int, operations: list[str], images: list[bytes], image_rate: float = 0.03) -> None:
        self.rng = random.Random(seed)
        self.operations = sorted(operations)
        self.unimplemented = sorted(operation_names() - set(operations))
        self.images = images
        self.image_rate = image_rate
        # Ids handed out, oldest first: recent ones are likelier to still exist.
        self.known: dict[str, list[str]] = {"CollectionId": ["fuzz"]}
        self._mutations_left = 0  # how many members of the request being built still get broken

    # ---- the request stream -------------------------------------------------------------
    def warmup(self) -> Iterator[Request]:
        """A collection with a real face and a user in it, so later requests find things."""
        face = base64.b64encode(self.images[0]).decode()
        yield self._json("CreateCollection", {"CollectionId": "fuzz"})
        yield self._json("IndexFaces", {"CollectionId": "fuzz", "Image": {"Bytes": face}, "ExternalImageId": "astro"})
        yield self._json("CreateUser", {"CollectionId": "fuzz", "UserId": "fuzz-user"})

    def requests(self, count: int) -> Iterator[Request]:
        for _ in range(count):
            yield self.request()

    def request(self) -> Request:
        roll = self.rng.random()
        if roll < 0.01:  # bring back what fuzzed deletes took away
            return self.rng.choice(list(self.warmup()))
        if roll < 0.05:
            return self._odd_target()
        operation = self.rng.choice(self.operations)
        shape = operation_model(operation).input_shape
        if roll < 0.15:
            return self._odd_body(operation)
        mutations = 0 if roll < 0.45 else self.rng.choice((1, 1, 2, 3))
        self._mutations_left = mutations
        body = self._structure(shape, depth=0) if shape is not None else {}
        return self._json(operation, body, note="valid" if mutations == 0 else f"{mutations} mutations")

    def learn(self, request: Request, reply: Reply) -> None:
        """Remember the ids a successful request named or was handed back."""
        if reply.status != 200:
            return
        for source in (request.body, reply.body):
            with suppress(ValueError):  # a body that is not JSON names nothing
                self._harvest(json.loads(source))

    # ---- whole-request breakage ---------------------------------------------------------
    def _json(self, operation: str, body: Any, note: str = "valid") -> Request:
        return Request(
            target=f"RekognitionService.{operation}",
            body=json.dumps(body).encode(),
            operation=operation,
            signed=self.rng.random() < 0.2,
            note=note,
        )

    def _odd_target(self) -> Request:
        operation = self.rng.choice(self.operations)
        target = self.rng.choice(
            [
                f"rekognitionservice.{operation}",
                f"REKOGNITIONSERVICE.{operation}",
                f"Rekognition.{operation}",
                f"RekognitionService_20160627.{operation}",
                f"RekognitionService{operation}",
                operation,
                f"RekognitionService.{operation.lower()}",
                f"RekognitionService.{operation}.",
                # Once every operation is implemented, a name the model does not have.
                f"RekognitionService.{self.rng.choice(self.unimplemented or ['DetectUnicorns'])}",
                "RekognitionService.",
                "RekognitionService.__init__",
            ]
        )
        return Request(target, b"{}", None, self.rng.random() < 0.5, "odd target")

    def _odd_body(self, operation: str) -> Request:
        deep = self.rng.choice((900, 1100, 5000, 50000))
        bodies: list[tuple[str, bytes]] = [
            ("not json", b"{not json"),
            ("truncated", b'{"CollectionId": "fu'),
            ("empty", b""),
            ("null", b"null"),
            ("array", b"[]"),
            ("scalar", b"42"),
            ("string", b'"x"'),
            ("deep arrays", b"[" * deep + b"]" * deep),
            ("deep member", b'{"CollectionId": ' + b"[" * deep + b"]" * deep + b"}"),
            ("deep unknown", b'{"Zz": ' + b'{"a": ' * deep + b"1" + b"}" * (deep + 1)),
            ("NaN", b'{"MaxResults": NaN, "MaxFaces": NaN}'),
            ("Infinity", b'{"MaxResults": -Infinity, "FaceMatchThreshold": Infinity}'),
            ("1e999", b'{"MaxResults": 1e999, "MaxFaces": 1e999, "MinConfidence": 1e999}'),
            ("400 digits", b'{"FaceMatchThreshold": ' + b"9" * 400 + b', "MaxResults": ' + b"9" * 400 + b"}"),
            ("5000 digits", b'{"MaxResults": ' + b"9" * 5000 + b"}"),
            ("not utf-8", b'{"CollectionId": "\xff\xfe\xc3"}'),
            ("bom", b'\xef\xbb\xbf{"CollectionId": "fuzz"}'),
            ("lone surrogate", b'{"CollectionId": "\\ud800", "UserId": "\\udfff", "Id": "\\ud83d"}'),
            ("duplicate keys", b'{"CollectionId": "a", "CollectionId": 7}'),
            ("nul", b'{"CollectionId": "fu\\u0000zz"}'),
        ]
        note, body = self.rng.choice(bodies)
        return Request(f"RekognitionService.{operation}", body, operation, self.rng.random() < 0.2, note)

    # ---- values from shapes ------------------------------------------------------------
    def _mutate(self) -> bool:
        """Spend one of this request's mutations here, now and then."""
        if self._mutations_left and self.rng.random() < 0.3:
            self._mutations_left -= 1
            return True
        return False

    def _value(self, shape: Shape, name: str, depth: int) -> Any:
        if self._mutate():
            return self._broken(shape)
        if shape.name == "Image":
            return self._image()
        reader = getattr(self, f"_{shape.type_name}")
        return reader(shape, name, depth)

    def _structure(self, shape: Shape, name: str = "", depth: int = 0) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if depth > 6:
            return value
        for member_name, member in shape.members.items():
            required = member_name in shape.required_members
            if (required and not self._mutate()) or (not required and self.rng.random() < 0.35):
                value[member_name] = self._value(member, member_name, depth + 1)
        if self._mutate():
            value["Unmodelled" + str(self.rng.randrange(9))] = self.rng.choice([1, "x", [], {}, None])
        return value

    def _list(self, shape: Shape, name: str, depth: int) -> list[Any]:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 4)
        size = self.rng.randint(low, max(low, min(high, 3)))
        return [self._value(shape.member, name, depth + 1) for _ in range(size)]

    def _map(self, shape: Shape, name: str, depth: int) -> dict[str, Any]:
        size = self.rng.randint(shape.metadata.get("min", 0), 3)
        return {self._string(shape.key, "Key", depth): self._value(shape.value, name, depth + 1) for _ in range(size)}

    def _string(self, shape: Shape, name: str, depth: int) -> str:
        if shape.enum:
            return self.rng.choice(shape.enum)
        known = [v for v in self.known.get(name, ()) if _fits(shape, v)]
        if name in ("ResourceArn", "CollectionArn"):
            known = [f"arn:{arn}" for arn in self.known.get("CollectionArn", ())]
        if known and self.rng.random() < 0.85:
            # Faces and users: recent ones are likelier to still exist; collections: "fuzz" has a face.
            recent = ["fuzz"] if name == "CollectionId" else known[-5:]
            return self.rng.choice(recent if self.rng.random() < 0.6 else known)
        candidates = [
            "fuzz",
            str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "a",
            "Fuzz-1_x.y",
            "user:1",
            IMAGE_BUCKET,
            IMAGE_KEY,
            "arn:aws:rekognition:us-east-1:123456789012:collection/fuzz",
            "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=self.rng.randint(1, 40))),
            "",
        ]
        self.rng.shuffle(candidates)
        return next((candidate for candidate in candidates if _fits(shape, candidate)), "fuzz")

    def _integer(self, shape: Shape, name: str, depth: int) -> int:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 1000)
        return self.rng.choice([low, high, self.rng.randint(low, min(high, low + 50))])

    _long = _integer

    def _float(self, shape: Shape, name: str, depth: int) -> float:
        low, high = shape.metadata.get("min", 0.0), shape.metadata.get("max", 100.0)
        return self.rng.choice([low, high, round(self.rng.uniform(low, high), 3)])

    _double = _float

    def _boolean(self, shape: Shape, name: str, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _blob(self, shape: Shape, name: str, depth: int) -> str:
        return base64.b64encode(self.rng.randbytes(self.rng.randint(0, 64))).decode()

    def _timestamp(self, shape: Shape, name: str, depth: int) -> float:
        return self.rng.uniform(0, 2e9)

    def _image(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < self.image_rate:
            return {"Bytes": base64.b64encode(self.rng.choice(self.images)).decode()}
        if roll < self.image_rate * 1.5:
            return {"S3Object": {"Bucket": IMAGE_BUCKET, "Name": IMAGE_KEY}}
        junk = [
            {"Bytes": base64.b64encode(self.rng.randbytes(self.rng.randint(1, 300))).decode()},
            {"Bytes": base64.b64encode(self.images[0][: self.rng.randint(1, 400)]).decode()},  # truncated JPEG
            {"Bytes": ""},
            {"S3Object": {"Bucket": IMAGE_BUCKET, "Name": "missing.jpg"}},
            {"S3Object": {"Bucket": "no-such-bucket", "Name": IMAGE_KEY, "Version": "1"}},
            {"S3Object": {"Bucket": IMAGE_BUCKET}},
            {},
            {"Bytes": "aGk=", "S3Object": {"Bucket": IMAGE_BUCKET, "Name": IMAGE_KEY}},
        ]
        return self.rng.choice(junk)

    def _broken(self, shape: Shape) -> Any:
        """A value the member's shape does not allow, or one at the edge of what it allows."""
        kind = shape.type_name
        wrong_types = [None, True, 0, -1, 1.5, "x", [], {}, [1, "x"], {"a": 1}]
        by_kind: dict[str, list[Any]] = {
            "string": [
                "",
                " ",
                "x" * (shape.metadata.get("max", 256) + 1),
                "\ud800",
                "fu\udfffzz",
                "\u0000",
                "Ünïcödé 😀",
                "../../etc/passwd",
                "%s%n{0}",
                "a" * 70000,
                "\n\r\t",
            ],
            "integer": [-1, 0, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30, 1.0, 1e308, -0.0],
            "float": [-1.0, -0.0, 100.0001, 1e308, -1e308, 1e-320, 10**30, 10**400, 5e-324],
            "boolean": [0, 1, "true", "false"],
            "blob": ["***", "aGk", "a" * 5, "=" * 4, base64.b64encode(b"\x00" * 100).decode()],
            "list": [[], [None], [[1]], ["x"] * 101, [{}] * 5],
            "map": [{}, {"": ""}, {"aws:x": "y"}, {f"k{i}": "v" for i in range(60)}, {"k": 1}],
            "structure": [{}, {"Zz": 1}],
            "timestamp": [-1, 1e20, "yesterday", "2024-13-45T99:00:00Z"],
        }
        by_kind["long"], by_kind["double"] = by_kind["integer"], by_kind["float"]
        return self.rng.choice(by_kind.get(kind, []) + wrong_types)

    def _harvest(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                self._harvest(item, name)
        elif isinstance(value, list):
            for item in value:
                self._harvest(item, key[:-1] if key.endswith("s") else key)
        elif isinstance(value, str) and key in KNOWN_NAMES and value:
            bucket = self.known.setdefault(key, [])
            if value in bucket:
                bucket.remove(value)
            bucket.append(value)
            del bucket[:-50]


def input_shapes_cover(operations: list[str]) -> set[str]:
    """The shape kinds the operations' inputs use (the fuzzer must know how to build each)."""
    kinds: set[str] = set()

    def walk(shape: Shape, depth: int) -> None:
        kinds.add(shape.type_name)
        if depth > 8:
            return
        if shape.type_name == "structure":
            for member in shape.members.values():
                walk(member, depth + 1)
        elif shape.type_name == "list":
            walk(shape.member, depth + 1)
        elif shape.type_name == "map":
            walk(shape.key, depth + 1)
            walk(shape.value, depth + 1)

    model = service_model()
    for operation in operations:
        shape = model.operation_model(operation).input_shape
        if shape is not None:
            walk(shape, 0)
    return kinds


@contextmanager
def local_endpoint(directory: Path, images: list[bytes]) -> Iterator[Send]:
    """``recognito serve``'s WSGI app in-process over moto's in-memory AWS: ``send(request)``.

    The first of ``images`` is in S3 as ``s3://fuzz-images/face.jpg`` for S3Object requests.
    """
    import boto3
    from moto import mock_aws
    from recognito.storage import ensure_tables
    from recognito_local.persistence import StateStore
    from recognito_local.server import LocalEndpoint
    from werkzeug.test import Client

    with mock_aws():
        ensure_tables()
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=IMAGE_BUCKET)
        s3.put_object(Bucket=IMAGE_BUCKET, Key=IMAGE_KEY, Body=images[0])
        client = Client(LocalEndpoint(StateStore(directory)))

        def send(request: Request) -> Reply:
            headers = _signed_headers(request, "http://localhost" + request.path)
            response = client.post(request.path, data=request.body, headers=headers)
            return Reply(response.status_code, response.headers.get("Content-Type", ""), response.get_data())

        yield send


def _signed_headers(request: Request, url: str) -> dict[str, str]:
    headers = {"Content-Type": CONTENT_TYPE}
    if request.target is not None:
        headers["X-Amz-Target"] = request.target
    if request.signed:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        signed = AWSRequest("POST", url, data=request.body, headers=headers)
        SigV4Auth(Credentials("fuzz", "fuzz"), request.service, "us-east-1").add_auth(signed)
        headers = dict(signed.headers)
    return headers


@contextmanager
def http_endpoint(url: str, images: list[bytes]) -> Iterator[Send]:
    """A running ``recognito serve`` at ``url`` (keys off or none issued), over real HTTP."""
    import http.client
    from urllib.parse import urlsplit

    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="fuzz",
                      aws_secret_access_key="fuzz")  # fmt: skip
    s3.create_bucket(Bucket=IMAGE_BUCKET)
    s3.put_object(Bucket=IMAGE_BUCKET, Key=IMAGE_KEY, Body=images[0])
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=120)

    def send(request: Request) -> Reply:
        headers = _signed_headers(request, url + request.path)
        connection.request("POST", request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.getheader("Content-Type") or "", response.read())

    try:
        yield send
    finally:
        connection.close()


def fuzz(send: Send, fuzzer: Fuzzer, count: int, tally: Tally | None = None) -> Tally:
    """Send the warm-up and ``count`` fuzzed requests; the tally of what came back."""
    tally = tally or Tally()
    stream = chain(fuzzer.warmup(), fuzzer.requests(count)) if tally.requests == 0 else fuzzer.requests(count)
    for request in stream:  # lazily: each request may use what the replies before it handed out
        reply = send(request)
        tally.add(request, reply)
        fuzzer.learn(request, reply)
    return tally
