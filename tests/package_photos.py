"""Photographs that installed packages ship, read as files: foolbox's 20 ImageNet validation
images (``foolbox/data/imagenet_<n>_<class>.jpg``; a dev dependency). foolbox itself is never
imported (it pulls in eagerpy and GitPython): only its data folder is located."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def foolbox_photo_path(index: int, imagenet_class: int) -> Path:
    """The path of foolbox's n-th ImageNet photograph, whose ImageNet class is ``imagenet_class``."""
    spec = importlib.util.find_spec("foolbox")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "data" / f"imagenet_{index:02d}_{imagenet_class}.jpg"
    if path is None or not path.is_file():
        if os.environ.get("CI"):
            pytest.fail("foolbox's photographs are missing in CI: it is a dev dependency")
        pytest.skip("foolbox (a dev dependency) is not installed")
    return path


def foolbox_photo(index: int, imagenet_class: int) -> np.ndarray:
    """That photograph as H x W x 3 uint8 RGB."""
    return np.asarray(Image.open(foolbox_photo_path(index, imagenet_class)).convert("RGB"))
