"""Photographs by category from GCompris's "categorization" activity, for the custom labels bench.

Debian's ``gcompris-qt-data`` (3.1-2) carries the activity's pictures in a Qt resource file
(``usr/share/gcompris-qt/rcc/categorization.rcc``): 320 x 240 photographs sorted into folders by the
activity's categories (fishes, tools, monuments, renewable energy, ...), each folder with a README
naming every photo's author, source (Wikimedia Commons, publicdomainpictures.net, ...) and licence
(public domain or CC0). The package is fetched once with ``apt-get download`` into
``.cache/gcompris`` (git-ignored) and the resource file read by ``read_rcc`` below; nothing is
labelled by us: a photo's class is the folder GCompris put it in.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "gcompris"
PACKAGE = "gcompris-qt-data=3.1-2"
RCC = "usr/share/gcompris-qt/rcc/categorization.rcc"
IMAGES = "gcompris/src/activities/categorization/resource/images/"


def read_rcc(data: bytes) -> dict[str, bytes]:
    """Every file of a Qt resource file (format versions 1-3; zlib-compressed entries inflated)."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 14 if version == 1 else 22

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        return data[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        at = tree + index * node
        name_offset, flags = struct.unpack(">IH", data[at : at + 6])
        path = f"{prefix}{name(name_offset)}" if index else ""
        if flags & 2:  # a directory: its children are contiguous nodes
            count, first = struct.unpack(">II", data[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, f"{path}/" if path else "")
            return
        (offset,) = struct.unpack(">I", data[at + 10 : at + 14])
        (size,) = struct.unpack(">I", data[payload + offset : payload + offset + 4])
        blob = data[payload + offset + 4 : payload + offset + 4 + size]
        files[path] = zlib.decompress(blob[4:]) if flags & 1 else blob  # qCompress: 4-byte length first

    walk(0, "")
    return files


def categories(names: tuple[str, ...]) -> dict[str, list[tuple[str, bytes]]]:
    """{category folder: [(file name, image bytes), ...]} for the given category folders."""
    rcc = CACHE / RCC
    if not rcc.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", PACKAGE], cwd=CACHE, check=True)
        deb = next(CACHE.glob("gcompris-qt-data_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(CACHE)], check=True)
    files = read_rcc(rcc.read_bytes())
    found: dict[str, list[tuple[str, bytes]]] = {name: [] for name in names}
    for path, blob in sorted(files.items()):
        if not path.startswith(IMAGES) or path.endswith("README"):
            continue
        folder, _, file_name = path[len(IMAGES) :].partition("/")
        if folder in found:
            found[folder].append((file_name, blob))
    return found
