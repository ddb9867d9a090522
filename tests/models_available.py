"""Skip tests that need ONNX models when `make models` has not laid them out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "layers" / "inference" / "models"


def needs_models(*names: str) -> None:
    missing = [name for name in names or ("centerface", "sface") if not (MODELS / f"{name}.onnx").exists()]
    if missing and os.environ.get("CI"):
        pytest.fail(f"models missing in CI ({', '.join(missing)}): `make models` must lay them out")
    if missing:
        pytest.skip(f"models not built ({', '.join(missing)}): run `make models`")
