"""The registry (shared/recognito/data/functions.toml) is the one place an operation's facts live.

What is generated from it must be current (`.venv/bin/python tools/generate.py` rewrites it), and
what cannot be generated (the layers' Makefile, the models it names, hand-written handlers and
events) must agree with it.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from dataclasses import fields

import pytest
from cfn_template import load_template
from conftest import EVENTS, FUNCTIONS, REPO
from recognito.images import ImageLimits
from recognito.protocol import operation_model, operation_names
from recognito.registry import API_KINDS, registry

REG = registry()
KINDS = {"operation", "router", "event", "schedule", "job-start", "job-result", "worker"}


def _generator():
    spec = importlib.util.spec_from_file_location("recognito_generate", REPO / "tools" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_current():
    stale = [str(path.relative_to(REPO)) for path in _generator().stale(REG)]
    assert not stale, f"run `.venv/bin/python tools/generate.py`: {stale}"


def test_the_generator_would_notice_a_change(tmp_path):
    """A registry edit shows up as stale files: the check above is not vacuous."""
    text = (REPO / "shared/recognito/data/functions.toml").read_text()
    edited = tmp_path / "functions.toml"
    edited.write_text(text.replace('summary = "A new, empty face collection."', 'summary = "Changed."'))
    from recognito.registry import load

    stale = {path.relative_to(REPO).as_posix() for path in _generator().stale(load(edited))}
    assert stale == {"functions/create_collection/app.py", "template.yaml"}


@pytest.mark.parametrize("function", REG.functions.values(), ids=lambda function: function.name)
def test_each_function_is_complete(function):
    assert function.kind in KINDS
    assert function.group in REG.groups
    assert (FUNCTIONS / function.code / "app.py").is_file()
    assert set(function.policies) <= set(REG.policies)
    assert set(function.layers) <= set(REG.layers)
    assert len(function.layers) + 1 <= 5, "Lambda allows 5 layers, the SharedLayer included"
    assert 128 <= function.memory <= 10_240 and 1 <= function.timeout <= 900
    missing = set(function.models) - REG.layer_models(function)
    assert not missing, f"{function.name} loads {sorted(missing)}, which none of its layers carries"
    if function.kind in API_KINDS:
        assert function.name in operation_names()
        assert callable(function.service())
        assert function.timeout <= 29, "API Gateway waits 29 s at most"
    assert set(function.image) <= {field.name for field in fields(ImageLimits)}


def test_image_limits_only_for_operations_that_take_images():
    for function in REG.operations.values():
        members = operation_model(function.name).input_shape.members.values()
        takes_image = any(member.name == "Image" for member in members)
        assert takes_image or not function.image, function.name
        assert takes_image == bool(function.models) or function.name in ("SearchFaces", "SearchUsers"), (
            f"{function.name}: an image operation runs models, and only image operations do"
        )


def test_every_function_directory_and_event_belongs_to_the_registry():
    codes = {function.code for function in REG.functions.values()}
    assert {path.parent.name for path in FUNCTIONS.glob("*/app.py")} == codes
    assert {path.stem for path in EVENTS.glob("*.json")} == codes


def test_upload_actions_run_where_their_models_are():
    runners = [function for function in REG.functions.values() if function.kind == "event"]
    ran = [action for runner in runners for action in runner.runs]
    assert sorted(ran) == sorted(REG.upload_actions), "each upload action runs in exactly one upload function"
    for runner in runners:
        for action in runner.runs:
            assert set(REG.operation(action).models) <= set(runner.models), (runner.name, action)


def test_template_layers_are_the_registry_layers():
    resources = load_template()["Resources"]
    in_template = {name for name, res in resources.items() if res["Type"] == "AWS::Serverless::LayerVersion"}
    assert in_template == {layer.logical_id for layer in REG.layers.values()} | {"SharedLayer"}


def test_model_layers_copy_exactly_the_registry_models():
    makefile = (REPO / "layers/inference/Makefile").read_text()
    targets = dict(re.findall(r"^build-(\w+)Layer:([^\n]*(?:\n\t[^\n]*)*)", makefile, re.M))
    declared = tomllib.loads((REPO / "layers/inference/build/models.toml").read_text())["models"]

    def copied(layer: str) -> set[str]:
        recipe = targets[layer]
        dependencies = re.findall(r"build-(\w+)Layer", recipe.splitlines()[0])
        return set(re.findall(r"models/([\w.-]+)\.onnx", recipe)).union(*(copied(dep) for dep in dependencies))

    for layer in REG.layers.values():
        if layer.kind == "models":
            assert copied(layer.name) == set(layer.models), layer.name
            assert set(layer.models) <= set(declared), f"{layer.name}: not built by models.toml"
