"""blazeface-front (TF.js graph model, outputs per feature map) -> the single ``Identity`` output
[1, 896, 17] (score, then 16 box/keypoint values) that @tensorflow-models/face-detection reads."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path


def _const(name: str) -> dict:
    value = {"tensor": {"dtype": "DT_INT32", "tensorShape": {}}}
    return {"name": name, "op": "Const", "attr": {"value": value, "dtype": {"type": "DT_INT32"}}}


def _concat(name: str, inputs: list[str]) -> dict:
    attr = {"N": {"i": str(len(inputs) - 1)}, "T": {"type": "DT_FLOAT"}, "Tidx": {"type": "DT_INT32"}}
    return {"name": name, "op": "ConcatV2", "input": inputs, "attr": attr}


def rewire(source: Path, out: Path) -> None:
    model = json.loads(source.read_text())
    nodes = model["modelTopology"]["node"]
    outputs = {n["name"]: n["input"][0] for n in nodes if n["name"].startswith("Identity")}
    nodes[:] = [n for n in nodes if not n["name"].startswith("Identity")]
    # Identity/Identity_2: the 16x16 map's scores/boxes (512 anchors), _1/_3 the 8x8 map's (384).
    nodes += [
        _const("axis1"),
        _const("axis2"),
        _concat("scores", [outputs["Identity"], outputs["Identity_1"], "axis1"]),
        _concat("boxes", [outputs["Identity_2"], outputs["Identity_3"], "axis1"]),
        _concat("Identity", ["scores", "boxes", "axis2"]),
    ]
    axes = [{"name": "axis1", "shape": [], "dtype": "int32"}, {"name": "axis2", "shape": [], "dtype": "int32"}]
    model["weightsManifest"].append({"paths": ["axes.bin"], "weights": axes})
    (out / "axes.bin").write_bytes(struct.pack("<ii", 1, 2))
    (out / "model.json").write_text(json.dumps(model))


if __name__ == "__main__":
    rewire(Path(sys.argv[1]), Path(sys.argv[2]))
