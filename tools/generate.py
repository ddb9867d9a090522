"""Writes what the registry (shared/recognito/data/functions.toml) generates, or checks it.

    .venv/bin/python tools/generate.py          # rewrite the generated files
    .venv/bin/python tools/generate.py --check  # list the files that differ (exit 1 if any)

Generated: each operation's ``functions/<code>/app.py``, the function blocks of ``template.yaml``
(between the ``functions:`` markers), the API sample events ``events/<code>.json``, and the
README's coverage table. tests/test_registry.py runs the check, so none of them can drift.
"""

from __future__ import annotations

import base64
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "shared"))

from recognito.protocol import operation_names, proxy_event  # noqa: E402
from recognito.registry import Function, Registry, registry  # noqa: E402

TEMPLATE = REPO / "template.yaml"
README = REPO / "README.md"
TEMPLATE_START = "  # ==== functions: generated from shared/recognito/data/functions.toml by tools/generate.py ====\n"
TEMPLATE_END = "  # ==== end of generated functions ====\n"
COVERAGE_START, COVERAGE_END = "<!-- coverage:start -->", "<!-- coverage:end -->"
NOT_YET = "not yet: answers InvalidParameterException"
SAMPLE_HOST = "abc123.execute-api.us-east-1.amazonaws.com"
SAMPLE_STAGE = "v1"

HANDLER = '''"""{docstring}"""

{imports}


@rekognition_operation("{name}")
def handler(request: dict, context: object) -> dict:
    return {attribute}(request)
'''


def handler_source(function: Function) -> str:
    module, _, attribute = function.entry.partition(":")
    summary = function.summary[0].lower() + function.summary[1:]
    # ruff's 120 columns: a long summary becomes a docstring of wrapped lines.
    lines = textwrap.wrap(f"{function.name}: {summary}", width=114)
    docstring = lines[0] if len(lines) == 1 else "\n".join(lines) + "\n"
    imports = sorted([f"from {module} import {attribute}", "from recognito.protocol import rekognition_operation"])
    return HANDLER.format(name=function.name, docstring=docstring, imports="\n".join(imports), attribute=attribute)


def template_functions(reg: Registry) -> str:
    lines: list[str] = []
    group = None
    for function in reg.functions.values():
        if function.group != group:
            group = function.group
            title = f"  # ---- {reg.groups[group]} "
            lines += ["", title + "-" * max(4, 99 - len(title))]
        lines += ["", *_function_block(function, reg)]
    return TEMPLATE_START + "\n".join(lines[1:]) + "\n" + TEMPLATE_END


def _function_block(function: Function, reg: Registry) -> Iterator[str]:
    yield f"  {function.logical_id}:"
    yield "    Type: AWS::Serverless::Function"
    yield "    Metadata: {BuildMethod: makefile, ContextPath: functions}"
    yield "    Properties:"
    yield f"      FunctionName: !Sub ${{AWS::StackName}}-{function.name}"
    yield f"      Description: {json.dumps(function.summary)}"
    yield f"      CodeUri: functions/{function.code}/"
    yield f"      MemorySize: {function.memory}"
    yield f"      Timeout: {function.timeout}"
    if function.layers:
        yield f"      Layers: [{', '.join(f'!Ref {reg.layers[name].logical_id}' for name in function.layers)}]"
    environment = dict(function.environment)
    if function.runs:
        environment["RECOGNITO_UPLOAD_ACTIONS"] = ",".join(function.runs)
    if environment:
        yield "      Environment:"
        yield "        Variables:"
        yield from (f"          {key}: {value}" for key, value in environment.items())
    yield "      Policies:"
    yield from (f"        - {reg.policies[policy]}" for policy in function.policies)
    if function.kind != "worker":  # a worker runs as a Task state of a state machine: no event source
        yield "      Events:"
        yield from _events(function)


def _events(function: Function) -> Iterator[str]:
    if function.kind in ("operation", "router", "job-start", "job-result"):
        path = "/" if function.kind == "router" else f"/{function.name}"
        yield f"        {'Root' if function.kind == 'router' else 'Direct'}:"
        yield "          Type: Api"
        yield f"          Properties: {{RestApiId: !Ref RekognitionApi, Path: {path}, Method: POST}}"
    elif function.kind == "event":
        yield "        Uploads:"
        yield "          Type: SQS"
        yield "          Properties:"
        yield f"            Queue: !GetAtt {function.queue}.Arn"
        yield "            BatchSize: 5"
        yield "            FunctionResponseTypes: [ReportBatchItemFailures]"
    elif function.kind == "schedule":
        yield "        Scheduled:"
        yield "          Type: Schedule"
        yield f"          Properties: {{Schedule: {function.schedule}}}"
    else:
        raise NotImplementedError(f"{function.name}: no template events for kind {function.kind!r}")


def sample_event(function: Function) -> dict[str, Any]:
    """The API Gateway event of ``events/<code>.json``, built from the function's ``sample``."""
    if function.kind == "router":
        operation, request, path = function.sample["operation"], function.sample["request"], "/"
    else:
        operation, request, path = function.name, function.sample, f"/{function.name}"
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"RekognitionService.{operation}",
        "Host": SAMPLE_HOST,
    }
    body = json.dumps(_inline_files(request))
    return proxy_event(body, headers, path=path, rid=f"sample-{function.code.replace('_', '-')}", stage=SAMPLE_STAGE)


def _inline_files(value: Any) -> Any:
    """``"@events/images/x.jpg"`` becomes that file's bytes in base64, as a ``Bytes`` member wants."""
    if isinstance(value, dict):
        return {key: _inline_files(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_inline_files(item) for item in value]
    if isinstance(value, str) and value.startswith("@"):
        return base64.b64encode((REPO / value[1:]).read_bytes()).decode()
    return value


def coverage_table(reg: Registry) -> str:
    served = reg.operations
    rows = ["| operation | status |", "| --- | --- |"]
    rows += [f"| {op} | {'implemented' if op in served else NOT_YET} |" for op in sorted(operation_names())]
    return "\n".join([COVERAGE_START, *rows, COVERAGE_END])


def _replace_between(text: str, start: str, end: str, replacement: str) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    if not rest:
        raise ValueError(f"marker {start.strip()!r} not found")
    return head + replacement + tail


def generated(reg: Registry) -> dict[Path, str]:
    """Every generated file, by path, with the text it should have."""
    files: dict[Path, str] = {}
    for function in reg.functions.values():
        if function.operation:
            files[REPO / "functions" / function.code / "app.py"] = handler_source(function)
        if function.sample is not None and function.kind != "worker":  # a worker's event is hand-written
            files[REPO / "events" / f"{function.code}.json"] = json.dumps(sample_event(function), indent=2) + "\n"
    files[TEMPLATE] = _replace_between(TEMPLATE.read_text(), TEMPLATE_START, TEMPLATE_END, template_functions(reg))
    files[README] = _replace_between(
        README.read_text(), COVERAGE_START, COVERAGE_END + "\n", coverage_table(reg) + "\n"
    )
    return files


def stale(reg: Registry | None = None) -> list[Path]:
    """The generated files whose text on disk differs from what the registry says."""
    files = generated(reg or registry())
    return [path for path, text in files.items() if not path.is_file() or path.read_text() != text]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        differing = stale()
        for path in differing:
            print(f"stale: {path.relative_to(REPO)}")
        return 1 if differing else 0
    for path, text in generated(registry()).items():
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
