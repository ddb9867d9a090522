"""Every built function starts with only the layers it declares, as on Lambda.

On Lambda a function sees its own code (``/var/task``), its code layers' ``python/`` folders,
its model layers' files under ``/opt/models``, and the runtime's standard library and SDK;
nothing of the venv it was built from. A module that no layer carries is a ModuleNotFoundError at
the first request after deploying, which no in-process test sees. So each function of the
`sam build` output is imported in its own bare CPython of the template's runtime version
(``-I -S``: no site-packages at all; tests/lambda_probe.py), with ``sys.path`` set to its code and
its layers, no AWS credentials and no network, and is then handed a request that needs no AWS:
API functions a request for an operation that does not exist (the front door answers
NotImplementedYet; operations refuse it unsigned), SQS functions S3's test event. API functions
that take model layers also run their sample request (events/), so the models they load must be
in their layers and ONNX Runtime must run on the runtime's Python.

The runtime's own boto3 (``/var/runtime``) is left out on purpose: the SharedLayer ships boto3 and
its dependencies, and whatever passes without the runtime's packages passes with them.

The build's extension modules are compiled for the runtime's Python (cp312), so no other Python
can stand in: without one (pyenv's, a ``python3.12`` on PATH, or ``RECOGNITO_LAMBDA_PYTHON``) the
test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from recognito.protocol import proxy_event
from recognito.uploads.events import sqs_event
from test_package import BUILD, REPO, BuiltFunction, _TagsAsNone, build, built_functions

pytestmark = pytest.mark.package

PROBE = Path(__file__).with_name("lambda_probe.py")
REGION = "us-east-1"
PSEUDO_PARAMETERS = {"AWS::AccountId": "123456789012", "AWS::Region": REGION, "AWS::StackName": "recognito"}
PROBE_TIMEOUT_S = 180


def runtime_version(build_dir: Path = BUILD) -> str:
    """``3.12`` for the template's ``Runtime: python3.12``."""
    runtime = yaml.safe_load((build_dir / "template.yaml").read_text())["Globals"]["Function"]["Runtime"]
    assert runtime.startswith("python"), runtime
    return runtime.removeprefix("python")


def find_python(version: str) -> str | None:
    """A CPython ``version``: ``RECOGNITO_LAMBDA_PYTHON``, ``python<version>`` on PATH, or pyenv's."""
    candidates = [os.environ.get("RECOGNITO_LAMBDA_PYTHON"), shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += sorted(str(path) for path in pyenv.glob(f"versions/{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        # pyenv's shim is on PATH even where that version is not selected, and then fails: run it.
        check = subprocess.run(
            [candidate, "-I", "-S", "-c", "import sys; print(sys.implementation.name, *sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if check.returncode == 0 and check.stdout.split() == ["cpython", *version.split(".")]:
            return candidate
    return None


def _stand_in(value: object, parameters: dict[str, Any]) -> str:
    """An environment value as deployed: literals as they are, a parameter's default for its Ref,
    a pseudo parameter's usual value, and a placeholder for what only CloudFormation resolves."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if "Default" in parameters.get(name, {}):
            return str(parameters[name]["Default"])
    return "lambda-probe-stand-in"


def lambda_environment(function: BuiltFunction, parameters: dict[str, Any], scratch: Path) -> dict[str, str]:
    """What Lambda sets, the template's variables, no credentials and nowhere to find any."""
    environment = {name: _stand_in(value, parameters) for name, value in function.environment.items()}
    environment.update(
        PATH="/usr/local/bin:/usr/bin:/bin",
        LANG="en_US.UTF-8",
        TZ=":UTC",
        LAMBDA_TASK_ROOT=str(function.code),
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_LAMBDA_FUNCTION_NAME=function.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(function.memory_mb),
        HOME=str(scratch),
        AWS_CONFIG_FILE=str(scratch / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(scratch / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # Lambda mounts model layers at /opt/models; recognito_inference.sessions takes this first.
        RECOGNITO_MODEL_DIR=str(scratch / "models"),
        # X-Ray's daemon is Lambda's: here the tracer's UDP segments would be refused network.
        POWERTOOLS_TRACE_DISABLED="true",
    )
    return environment


def _mount_models(function: BuiltFunction, models: Path) -> None:
    """Lambda merges the model layers' ``models/`` into ``/opt/models``: the same, with links."""
    models.mkdir()
    for folder in function.layers.values():
        for model in sorted((folder / "models").glob("*")):
            (models / model.name).symlink_to(model)


def request_for(function: BuiltFunction) -> tuple[dict[str, Any] | None, str]:
    """An event the function can answer without AWS, and what a good answer is; None: import only."""
    if "Api" in function.events:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "RekognitionService.NoSuchOperation"}
        return proxy_event("{}", headers), "a 4xx error response"
    if "SQS" in function.events:
        # What S3 sends when notifications are set up: an SQS batch that announces no object.
        test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads", "RequestId": "PROBE"}
        event = sqs_event([json.dumps(test_event)], queue_arn=f"arn:aws:sqs:{REGION}:123456789012:uploads")
        return event, "no batch item failures"
    return None, "import only"


def _good_reply(function: BuiltFunction, reply: Any) -> bool:
    if "Api" in function.events:
        return isinstance(reply, dict) and 400 <= reply.get("statusCode", 0) < 500 and "__type" in reply.get("body", "")
    if "SQS" in function.events:
        return reply == {"batchItemFailures": []}
    return True


def probe(
    python: str,
    function: BuiltFunction,
    parameters: dict[str, Any],
    event: dict[str, Any] | None = None,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Import ``function`` in a fresh interpreter and call it with ``event`` if given; what
    lambda_probe.py reports. ``environment`` overrides variables the template sets."""
    code_layers = [folder / "python" for folder in function.layers.values() if (folder / "python").is_dir()]
    for name, folder in function.layers.items():
        assert (folder / "python").is_dir() or (folder / "models").is_dir(), f"{name}: neither python/ nor models/"
    with tempfile.TemporaryDirectory(prefix="lambda-probe-") as scratch_dir:
        scratch = Path(scratch_dir)
        _mount_models(function, scratch / "models")
        spec = {
            "name": function.name,
            "path": [str(function.code), *map(str, code_layers)],
            "event": event,
            "memory_mb": function.memory_mb,
            "timeout_s": function.timeout_s,
        }
        (scratch / "spec.json").write_text(json.dumps(spec))
        started = time.perf_counter()
        run = subprocess.run(
            [python, "-I", "-S", str(PROBE), str(scratch / "spec.json"), str(scratch / "result.json")],
            cwd=scratch,
            env={**lambda_environment(function, parameters, scratch), **(environment or {})},
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
        )
        seconds = time.perf_counter() - started
        result_file = scratch / "result.json"
        if run.returncode != 0 or not result_file.is_file():
            return {"stage": "interpreter", "error": f"exit {run.returncode}: {run.stderr[-2000:]}", "seconds": seconds}
        # The function's own log lines (a 500's traceback among them) for the failure message.
        return {**json.loads(result_file.read_text()), "seconds": seconds, "log": run.stdout[-3000:]}


def problems(function: BuiltFunction, result: dict[str, Any]) -> list[str]:
    """What keeps ``function`` from starting on Lambda with its layers, one line each."""
    layers = ", ".join(function.layers)
    found = []
    if "error" in result:
        missing = f" (no layer carries {result['missing']!r})" if result.get("missing") else ""
        found.append(f"{function.name} [{layers}]: {result['stage']} failed: {result['error']}{missing}")
    if result.get("network"):
        found.append(f"{function.name}: reached for the network: {result['network'][:3]}")
    if "error" not in result and "reply" in result and not _good_reply(function, result["reply"]):
        wanted = request_for(function)[1]
        found.append(f"{function.name}: wanted {wanted}, got {json.dumps(result['reply'])[:400]}")
    return found


@pytest.fixture(scope="module")
def lambda_python() -> str:
    build()
    version = runtime_version()
    python = find_python(version)
    if python is None:
        pytest.skip(
            f"no CPython {version} here (pyenv's, python{version} on PATH, or RECOGNITO_LAMBDA_PYTHON): "
            f"the build's extension modules are for {version} only, so no other Python can check it"
        )
    return python


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    return yaml.safe_load((BUILD / "template.yaml").read_text()).get("Parameters", {})


def _probe_all(
    python: str,
    functions: list[BuiltFunction],
    parameters: dict[str, Any],
    events: Callable[[BuiltFunction], dict[str, Any] | None],
    environment: dict[str, str] | None = None,
) -> Iterator[tuple[BuiltFunction, dict[str, Any]]]:
    """``probe`` for each function with its event, two at a time, in order."""
    # Each function in its own process: a module one function imported must not serve the next.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(
            lambda function: probe(python, function, parameters, events(function), environment), functions
        )
        yield from zip(functions, results, strict=True)


def test_every_function_imports_and_answers_with_only_its_declared_layers(lambda_python, parameters):
    functions = built_functions()
    assert functions, "the built template has no functions"
    found = []
    print()
    for function, result in _probe_all(lambda_python, functions, parameters, lambda f: request_for(f)[0]):
        reply = result.get("reply", {})
        status = reply.get("statusCode", "") if isinstance(reply, dict) else ""
        outcome = result.get("error", "ok")[:80]
        print(f"{function.name:38} {result['seconds']:5.1f} s  {status!s:4} {outcome}")
        found += problems(function, result)
    assert not found, "\n".join(found)


def test_the_probe_sees_nothing_but_the_given_layers(lambda_python, parameters):
    """Without the SharedLayer a function must fail to import: the venv's packages are not visible."""
    function = built_functions()[0]
    shared = yaml.safe_load((BUILD / "template.yaml").read_text())["Globals"]["Function"]["Layers"]
    global_layers = {entry["Ref"] for entry in shared}
    bare = replace(function, layers={k: v for k, v in function.layers.items() if k not in global_layers})
    result = probe(lambda_python, bare, parameters)
    assert result.get("stage") == "import", result
    shipped = {path.name for folder in function.layers.values() for path in (folder / "python").glob("*")}
    assert result["missing"] in shipped, result


def sample_event(function: BuiltFunction) -> dict[str, Any] | None:
    """``events/<code folder>.json``, the function's sample request (generated from the registry)."""
    source = yaml.load((REPO / "template.yaml").read_text(), Loader=_TagsAsNone)  # noqa: S506
    code = Path(source["Resources"][function.name]["Properties"]["CodeUri"]).name
    path = REPO / "events" / f"{code}.json"
    return json.loads(path.read_text()) if path.is_file() else None


# Keys that are no one's: a request that needs AWS then gets as far as the network, which the probe
# refuses and records (with no keys at all botocore would stop before, and say less).
SAMPLE_ENVIRONMENT = {
    "RECOGNITO_AUTH": "off",
    "AWS_ACCESS_KEY_ID": "AKIAPROBENOTAKEY0000",
    "AWS_SECRET_ACCESS_KEY": "probe-not-a-secret",
}


def test_functions_with_models_run_their_sample_request(lambda_python, parameters):
    """Where a request needs no AWS (image analysis), it runs for real: models load from the layers.

    Signatures are not what is checked here: the request goes unsigned with RECOGNITO_AUTH off. A
    request that needs DynamoDB or S3 (IndexFaces, the image searches) reaches for the network,
    which the probe refuses: that is as far as it can go without AWS.
    """
    with_models = [
        function
        for function in built_functions()
        if "Api" in function.events and any((folder / "models").is_dir() for folder in function.layers.values())
    ]
    assert with_models, "no API function takes a model layer"
    samples = {function.name: sample_event(function) for function in with_models}
    assert all(samples.values()), f"no sample event in events/ for {[n for n, e in samples.items() if not e]}"
    found, ran = [], []
    print()
    for function, result in _probe_all(
        lambda_python, with_models, parameters, lambda f: samples[f.name], SAMPLE_ENVIRONMENT
    ):
        reply = result.get("reply") or {}
        status = reply.get("statusCode")
        print(f"{function.name:38} {result['seconds']:5.1f} s  {status!s:4} {'needs AWS' if result['network'] else ''}")
        if "error" in result:
            found += problems(function, result)
        elif status == 200:
            ran.append(function.name)
        elif not result["network"]:
            found.append(f"{function.name}: sample request answered {status}; its log:\n{result['log']}")
    assert not found, "\n".join(found)
    assert ran, "no function ran its sample request through"
