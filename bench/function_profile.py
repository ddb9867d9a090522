"""Per-function memory and latency, in-process: where template.yaml's MemorySize and Timeout come from.

    .venv/bin/python bench/function_profile.py [--quick] [--write] [FUNCTION ...]   (DetectFaces or detect_faces)

Each function runs in a fresh process, so its peak RSS is its own, with RECOGNITO_THREADS=1 (one
vCPU: what a 1769 MB Lambda has) against moto in-process, as the tests run. Measured per function:

- init: importing ``functions/<dir>/app.py`` (with the shared code it pulls in);
- cold: the first call on its sample event (events/<dir>.json), which also loads the models;
- warm p50: the same call again (``--quick``: 5 times, else 20);
- 12 MP p50 and first: image operations again on a 4032 x 3024 JPEG (the astronaut scaled up, as a
  phone photo), every image member (``Image``, ``SourceImage``, ``TargetImage``) replaced;
- peak RSS of the process (includes the harness: Python, moto and boto3, shown as "harness").

The upload function (s3_upload) is profiled twice, as deployed: S3UploadFaces and S3UploadAnalysis,
each with a rule for every action it runs, on new objects each call (a repeated object would be
skipped as a duplicate).

The rules that turn these into MemorySize and Timeout (``recommend``), printed next to what
template.yaml has:

- memory: at least the peak RSS plus 25 %, rounded up to 64 MB; at least 512 MB (CPU share for
  imports at cold start); image operations at least 1769 MB, one full vCPU, since inference is
  CPU-bound and below one vCPU a call takes proportionally longer for the same GB-seconds.
- timeout: API functions 3 x (init + cold + one 12 MP call), between 10 s and API Gateway's 29 s;
  upload functions a batch of 5 at 3 x (init + cold + 5 x the 12 MP call), at least 60 s.
- functions that search a collection (those with the Search layer) hold its index in memory, so collection size
  sets their memory and timeout (shared/recognito/search/README.md); measured on one-face
  collections, the profile gives only their floor.

All figures are measured on this project's development machine, not on Lambda: label them so.
``--write`` stores them in bench/function_profile.json and rewrites the README's tables (memory and
timeout; the cost of a million DetectFaces calls); ``--readme`` rewrites those from the stored
figures without measuring.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from recognito.registry import Function, registry

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "function_profile.json"
README = REPO / "README.md"
START, END = "<!-- function-profile:start -->", "<!-- function-profile:end -->"
IMAGE_MEMBERS = ("Image", "SourceImage", "TargetImage")
API_TIMEOUT_CAP = 29
COST_START, COST_END = "<!-- cost-model:start -->", "<!-- cost-model:end -->"
PRICES = {  # us-east-1, x86, on-demand, looked up 2026-11 (sources in the README, "Cost")
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "api_gateway_rest_request": 3.50 / 1e6,  # first 333 million a month
    "rekognition_group2_image": 0.001,  # DetectFaces: first million images a month
}
INVOKE_HOP_S = 0.02  # the front door's synchronous Invoke: an estimate (README, "Routing a stock SDK")
FRONT_DOOR_BUDGET_S = 0.05
BATCH_SIZE = 5


# ---- the worker: one function, one process ------------------------------------------------------


def _environment() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        RECOGNITO_TOKEN_SECRET="bench-only-secret",
        RECOGNITO_FUNCTION_PREFIX="recognito-bench-",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="ERROR",
        RECOGNITO_THREADS="1",
    )
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(variable, None)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phone_photo() -> bytes:
    """12 megapixels, 4032 x 3024: what a phone sends."""
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((4032, 3024), Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _upload_rules(function: Function) -> list[dict[str, str]]:
    """One rule per action the upload function runs, all on the same prefix."""
    return [
        {"prefix": "faces/", "action": action, **({"collection": "my-collection"} if action == "IndexFaces" else {})}
        for action in function.runs
    ]


def _call(name: str, body: dict) -> None:
    from recognito.protocol import proxy_event
    from recognito_local.invoke import call_handler

    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"RekognitionService.{name}"}
    call_handler(registry().operation(name), proxy_event(json.dumps(body), headers))


def _prepare(directory: str, event: dict) -> dict:
    """What the sample event expects to exist (as tests/test_events.py sets it up)."""
    import numpy as np
    from recognito.collections.faces import NewFace, add_faces
    from recognito.faces.similarity import FACE_MODEL_VERSION, face_model

    if directory not in ("create_collection", "list_collections", "front_door"):
        _call("CreateCollection", {"CollectionId": "my-collection"})
    if directory in ("delete_user", "associate_faces", "disassociate_faces"):
        _call("CreateUser", {"CollectionId": "my-collection", "UserId": "my-user"})
    if directory in ("search_faces", "search_users"):
        vector = np.random.default_rng(0).standard_normal(face_model(FACE_MODEL_VERSION).dim)
        box = {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.25}
        new = NewFace(vector / np.linalg.norm(vector), box, 99.0)
        face = add_faces("my-collection", [new], version=FACE_MODEL_VERSION, image_id="i", external_image_id=None)[0]
        event["body"] = json.dumps({**json.loads(event["body"]), "FaceId": face["FaceId"]})
    return event


def _with_photo(event: dict, photo: bytes) -> dict | None:
    """The event with each image member replaced by ``photo``; None for operations without one."""
    body = json.loads(event["body"])
    members = [name for name in IMAGE_MEMBERS if name in body]
    if not members:
        return None
    encoded = base64.b64encode(photo).decode()
    return {**event, "body": json.dumps({**body, **{name: {"Bytes": encoded} for name in members}})}


def _timed(call: Any) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def worker(profile: str, repeats: int) -> dict[str, Any]:
    _environment()
    from moto import mock_aws  # first: it must hook botocore before any client exists; imports boto3

    with mock_aws():
        from recognito_local.invoke import LambdaContext, functions_dir, load_module

        harness = _rss_mb()
        function = registry().functions[profile]
        init = _timed(lambda: load_module(functions_dir() / function.code / "app.py"))
        module = load_module(functions_dir() / function.code / "app.py")

        def handler(event: dict) -> Any:
            return module.handler(event, LambdaContext.for_function(function))

        from recognito.storage import ensure_tables

        ensure_tables()
        if function.kind == "event":
            measured = _profile_upload(function, handler, repeats)
        elif function.kind == "router":
            measured = _profile_front_door(module, handler, repeats)
        else:
            measured = _profile_api(function.code, handler, repeats)
        return {"init_s": init, **measured, "harness_rss_mb": harness, "peak_rss_mb": _rss_mb()}


def _profile_api(profile: str, handler: Any, repeats: int) -> dict[str, Any]:
    event = _prepare(profile, json.loads((REPO / "events" / f"{profile}.json").read_text()))
    cold = _timed(lambda: handler(json.loads(json.dumps(event))))
    warm = [_timed(lambda: handler(json.loads(json.dumps(event)))) for _ in range(repeats)]
    result = {"cold_s": cold, "warm_ms": 1000 * statistics.median(warm)}
    big = _with_photo(event, phone_photo())
    if big is not None:
        first_big = _timed(lambda: handler(big))
        bigs = [_timed(lambda: handler(big)) for _ in range(max(2, repeats // 4))]
        result.update(photo_first_ms=1000 * first_big, photo_ms=1000 * statistics.median(bigs))
    return result


def _profile_front_door(front: Any, handler: Any, repeats: int) -> dict[str, Any]:
    """The front door's own CPU per request of the largest size Lambda accepts (6 MB): reading the
    event, as the runtime does, and writing it into the Invoke payload; the hop itself is stubbed."""
    from recognito.protocol import proxy_event

    front.invoke = lambda operation, event: {"statusCode": 200, "headers": {}, "body": json.dumps(event)[:2]}
    body = json.dumps({"Image": {"Bytes": base64.b64encode(os.urandom(4 * 1024 * 1024)).decode()}})
    raw = json.dumps(proxy_event(body, {"X-Amz-Target": "RekognitionService.DetectFaces"}))
    cold = _timed(lambda: handler(json.loads(raw)))
    cpu = []
    for _ in range(repeats):
        began = time.process_time()
        handler(json.loads(raw))
        cpu.append(time.process_time() - began)
    return {"cold_s": cold, "warm_ms": 1000 * statistics.median(cpu), "request_mb": len(raw) / 1e6}


def _profile_upload(function: Function, handler: Any, repeats: int) -> dict[str, Any]:
    import boto3
    from recognito.uploads.events import CreatedObject, notification_record, sqs_event

    os.environ["RECOGNITO_UPLOAD_RULES"] = json.dumps(_upload_rules(function))
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bench-uploads")
    _call("CreateCollection", {"CollectionId": "my-collection"})
    photos = {"sample": _sample_photo(), "photo": phone_photo()}
    counter = iter(range(10_000))

    def upload(kind: str) -> dict:
        key = f"faces/{kind}-{next(counter)}.jpg"
        etag = s3.put_object(Bucket="bench-uploads", Key=key, Body=photos[kind])["ETag"].strip('"')
        obj = CreatedObject("bench-uploads", key, len(photos[kind]), etag)
        body = json.dumps({"Records": [notification_record(obj, region="us-east-1")]})
        return sqs_event([body], queue_arn="arn:aws:sqs:us-east-1:123456789012:bench")

    def run(kind: str) -> float:
        event = upload(kind)
        began = time.perf_counter()
        reply = handler(event)
        elapsed = time.perf_counter() - began
        assert reply == {"batchItemFailures": []}, reply
        return elapsed

    cold = run("sample")
    warm = [run("sample") for _ in range(repeats)]
    photo_first = run("photo")
    bigs = [run("photo") for _ in range(max(2, repeats // 4))]
    return {
        "cold_s": cold,
        "warm_ms": 1000 * statistics.median(warm),
        "photo_first_ms": 1000 * photo_first,
        "photo_ms": 1000 * statistics.median(bigs),
    }


def _sample_photo() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# ---- the parent: every function, rules, table -----------------------------------------------------


def profiles(selected: list[str]) -> list[str]:
    """The registry's functions (by name, e.g. ``DetectFaces``), or those selected by name or code."""
    return [
        name
        for name, function in registry().functions.items()
        if not selected or name in selected or function.code in selected
    ]


def logical_id(profile: str) -> str:
    return registry().functions[profile].logical_id


def _ceil64(mb: float) -> int:
    return int(math.ceil(mb / 64) * 64)


def recommend(profile: str, m: dict[str, Any]) -> tuple[int, int]:
    """(MemorySize MB, Timeout s) from one function's measurements: the rules in the docstring."""
    image = "photo_ms" in m
    memory = max(512, _ceil64(m["peak_rss_mb"] * 1.25))
    function = registry().functions[profile]
    if function.kind == "router":
        # It waits for the operation's function, so its GB-seconds grow with its memory: the
        # least memory whose CPU share reads and forwards a 6 MB request within FRONT_DOOR_BUDGET.
        share_needed = m["warm_ms"] / 1000 / FRONT_DOOR_BUDGET_S
        memory = max(memory, _ceil64(1769 * share_needed))
        return memory, API_TIMEOUT_CAP
    if image:
        memory = max(memory, 1769)
    if function.kind == "event":
        worst = m["init_s"] + m["cold_s"] + BATCH_SIZE * m["photo_first_ms"] / 1000
        return memory, max(60, math.ceil(3 * worst))
    worst = m["init_s"] + m["cold_s"] + m.get("photo_first_ms", 0) / 1000
    timeout = min(API_TIMEOUT_CAP, max(10, math.ceil(3 * worst)))
    if "Search" in function.layers:
        return max(memory, function.memory), max(timeout, function.timeout)
    return memory, timeout


def template_settings() -> dict[str, tuple[int, int]]:
    """(MemorySize, Timeout) by logical id, as the registry sets them (template.yaml is generated from it)."""
    return {function.logical_id: (function.memory, function.timeout) for function in registry().functions.values()}


def table(results: dict[str, dict[str, Any]]) -> str:
    configured = template_settings()
    rows = [
        "| function | init | cold call | warm p50 | 12 MP first / p50 | peak RSS (harness) | memory | timeout |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for profile, m in sorted(results.items(), key=lambda item: logical_id(item[0])):
        name = logical_id(profile)
        memory, timeout = configured.get(name, ("-", "-"))
        photo = f"{m['photo_first_ms']:.0f} / {m['photo_ms']:.0f} ms" if "photo_ms" in m else "-"
        rows.append(
            f"| {name.removesuffix('Function')} | {m['init_s']:.2f} s | {m['cold_s']:.2f} s | {m['warm_ms']:.0f} ms "
            f"| {photo} | {m['peak_rss_mb']:.0f} MB ({m['harness_rss_mb']:.0f}) | {memory} MB | {timeout} s |"
        )
    return "\n".join(rows)


def cost_model(results: dict[str, dict[str, Any]]) -> str:
    """A million DetectFaces calls: Lambda time at the latency measured here, next to Rekognition's price."""
    from PIL import Image

    configured = template_settings()
    detect, front = results["DetectFaces"], results["FrontDoor"]
    gb = configured["DetectFacesFunction"][0] / 1024
    front_gb = configured["FrontDoorFunction"][0] / 1024
    sample = json.loads(json.loads((REPO / "events" / "detect_faces.json").read_text())["body"])["Image"]["Bytes"]
    width, height = Image.open(io.BytesIO(base64.b64decode(sample))).size
    million = 1e6
    rows = [
        "| input | DetectFaces latency (measured locally) | DetectFaces function | front door | API Gateway "
        "| recognito per million | Rekognition per million |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, seconds in (
        (f"sample event ({width} x {height} JPEG)", detect["warm_ms"] / 1000),
        ("12 MP photo (4032 x 3024 JPEG)", detect["photo_ms"] / 1000),
    ):
        function = million * (gb * seconds * PRICES["lambda_gb_second"] + PRICES["lambda_request"])
        hop = seconds + INVOKE_HOP_S + front["warm_ms"] / 1000
        door = million * (front_gb * hop * PRICES["lambda_gb_second"] + PRICES["lambda_request"])
        gateway = million * PRICES["api_gateway_rest_request"]
        total = function + door + gateway
        rows.append(
            f"| {label} | {seconds * 1000:.0f} ms | ${function:,.2f} | ${door:,.2f} | ${gateway:,.2f} "
            f"| **${total:,.2f}** | ${million * PRICES['rekognition_group2_image']:,.0f} |"
        )
    return "\n".join(rows)


def _replace_block(text: str, start: str, end: str, body: str) -> str:
    if start not in text or end not in text:
        return text
    return text[: text.index(start)] + "\n".join([start, body, end]) + text[text.index(end) + len(end) :]


def write_readme(results: dict[str, dict[str, Any]]) -> None:
    text = _replace_block(README.read_text(), START, END, table(results))
    if "DetectFaces" in results and "FrontDoor" in results:
        text = _replace_block(text, COST_START, COST_END, cost_model(results))
    README.write_text(text)


def main(argv: list[str]) -> int:
    if "--readme" in argv:
        write_readme(json.loads(RESULTS.read_text()))
        return 0
    quick = "--quick" in argv
    write = "--write" in argv
    selected = [arg for arg in argv if not arg.startswith("--")]
    repeats = 5 if quick else 20
    results: dict[str, dict[str, Any]] = {}
    mismatches = []
    for profile in profiles(selected):
        command = [sys.executable, __file__, "--worker", profile, str(repeats)]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "RECOGNITO_THREADS": "1"})
        if done.returncode != 0:
            print(f"{profile}: failed\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        results[profile] = json.loads(done.stdout.strip().splitlines()[-1])
        memory, timeout = recommend(profile, results[profile])
        results[profile].update(recommended_memory_mb=memory, recommended_timeout_s=timeout)
        configured = template_settings().get(logical_id(profile))
        flag = "" if configured == (memory, timeout) else f"   the registry has {configured}"
        if flag:
            mismatches.append(profile)
        print(f"{profile:<28} {json.dumps({k: round(v, 3) for k, v in results[profile].items()})}{flag}", flush=True)
    print()
    print(table(results))
    print("\nmeasured locally (2-core development machine, RECOGNITO_THREADS=1), not on Lambda")
    if "DetectFaces" in results and "FrontDoor" in results:
        print("\n" + cost_model(results))
    if mismatches:
        print(f"the registry (data/functions.toml) differs from the rules for: {', '.join(mismatches)}")
    if write:
        stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        RESULTS.write_text(json.dumps({**stored, **results}, indent=1, sort_keys=True) + "\n")
        write_readme(json.loads(RESULTS.read_text()))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.exit(main(sys.argv[1:]))
