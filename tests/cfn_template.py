"""template.yaml as data, for tests that check it against the code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _TaggedLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags as their long form: ``!Ref X`` as ``{"Ref": "X"}``,
    ``!GetAtt A.B`` as ``{"GetAtt": "A.B"}`` and so on, so references can be checked."""


_TaggedLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: {
        suffix: loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    },
)


@cache
def load_template() -> dict[str, Any]:
    """The parsed template (shared between tests: do not change it)."""
    return yaml.load(TEMPLATE.read_text(), Loader=_TaggedLoader)  # noqa: S506 - a SafeLoader subclass
