"""Converters from a pinned source file to ONNX, run in the build-only venv (.build-venv).

Each converter is one function registered under the `recipe` name used in models.toml, with the
tool groups ([tools.*] in models.toml) it needs. build_models.py imports this module in the run-time
venv only to read that registry and hash the converters' code, so heavy imports (onnx, tensorflow,
onnxruntime) stay inside the functions.

Run as a script, it converts one model: `python converters.py job.json` (written by
build_models.py: recipe, src, out, params, work, samples, calibration, reference, result). A
converter writes `out`, may save what the source framework itself computes to `reference` (the check
step compares), and returns notes that are printed.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Converter:
    fn: Callable[[Path, Path, dict, dict], dict]
    tools: tuple[str, ...]


CONVERTERS: dict[str, Converter] = {}


def converter(name: str, *tools: str) -> Callable:
    """Register `fn(src, out, params, ctx) -> notes` as recipe `name`, needing tool groups `tools`."""

    def register(fn: Callable) -> Callable:
        CONVERTERS[name] = Converter(fn, tools)
        return fn

    return register


def source_digest(fn: Callable) -> str:
    """The code of `fn` and of the module-level functions it calls, for the recipe hash.

    Hashing only what a recipe uses keeps a new converter from rebuilding every other model.
    """
    seen: list[Callable] = []

    def visit(f: Callable) -> None:
        if f in seen:
            return
        seen.append(f)
        for name in f.__code__.co_names:
            obj = f.__globals__.get(name)
            if inspect.isfunction(obj) and obj.__module__ == f.__module__:
                visit(obj)

    visit(fn)
    return "\n".join(inspect.getsource(f) for f in seen)


# ----------------------------------------------------------------------------------- onnx helpers
def _set_dims(value_info: Any, dims: list) -> None:
    """Overwrite a graph input/output shape: ints are fixed sizes, strings symbolic (dynamic) ones."""
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        dim = shape.dim.add()
        if isinstance(d, str):
            dim.dim_param = d
        else:
            dim.dim_value = int(d)


def _rename_tensors(graph: Any, rename: dict[str, str]) -> None:
    """Rename tensors everywhere they appear (tf2onnx keeps TF's `name:0` names)."""
    for node in graph.node:
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        vi.name = rename.get(vi.name, vi.name)


def _name_initializers_by_use(graph: Any) -> None:
    """Name each initializer after its first consumer, and order them so.

    tf2onnx merges identical constants and keeps whichever name its set iteration yields, so the
    same input gave a different file every run; named by use, the output is byte-reproducible.
    """
    from onnx import TensorProto

    inits = {i.name: i for i in graph.initializer}
    rename: dict[str, str] = {}
    for i, node in enumerate(graph.node):
        for k, name in enumerate(node.input):
            if name in inits and name not in rename:
                rename[name] = f"{node.name or i}/input{k}"
    unused = [n for n in inits if n not in rename]
    if unused:
        raise ValueError(f"unused initializers: {unused[:5]}")
    _rename_tensors(graph, rename)
    ordered = []
    for old, new in rename.items():
        t = TensorProto()
        t.CopyFrom(inits[old])
        t.name = new
        ordered.append(t)
    del graph.initializer[:]
    graph.initializer.extend(ordered)


def _save_checked(model: Any, out: Path) -> dict:
    """Check the model (full shape inference included) and save it."""
    import onnx

    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(out))
    return {"opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))}


# ------------------------------------------------------------------------------------- converters
@converter("onnx-dynamic", "onnx")
def onnx_dynamic(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """An ONNX file saved with fixed shapes: give inputs/outputs the dims in params, drop the
    initializers listed as graph inputs (old exporters did; it pins them and blocks optimizations)
    and the stale intermediate shapes."""
    import onnx

    model = onnx.load(str(src))
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    kept = [i for i in graph.input if i.name not in inits]
    dropped = len(graph.input) - len(kept)
    del graph.input[:]
    graph.input.extend(kept)
    del graph.value_info[:]
    for vi in list(graph.input) + list(graph.output):
        dims = params["inputs"].get(vi.name) or params["outputs"].get(vi.name)
        if dims is None:
            raise ValueError(f"no dims given for graph input/output {vi.name!r}")
        _set_dims(vi, dims)
    notes = _save_checked(model, out)
    return {**notes, "ir_version": model.ir_version, "initializer_inputs_dropped": dropped}


@converter("onnx-pruned", "onnx")
def onnx_pruned(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """An ONNX file whose graph lists inputs that no node reads (OpenCV Zoo's blockwise-int8 SFace
    keeps its float weights' names as inputs; onnxruntime refuses them): drop those, then as
    onnx-dynamic."""
    import onnx

    model = onnx.load(str(src))
    read = {name for node in model.graph.node for name in node.input}
    kept = [i for i in model.graph.input if i.name in read]
    unused = len(model.graph.input) - len(kept)
    del model.graph.input[:]
    model.graph.input.extend(kept)
    pruned = Path(ctx["work"]) / f"{out.stem}-pruned.onnx"
    onnx.save(model, str(pruned))
    return {**onnx_dynamic(pruned, out, params, ctx), "unused_inputs_dropped": unused}


@converter("copy")
def copy(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """An ONNX file that runs as shipped (dynamic shapes, current IR): laid out unchanged, so its
    sha256 stays the pinned one and its metadata (PP-OCR's character list) comes along."""
    import shutil

    shutil.copyfile(src, out)
    return {"bytes": out.stat().st_size}


@converter("tf-frozen", "onnx", "tensorflow")
def tf_frozen(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """A TF1 frozen GraphDef (.pb) through tf2onnx; optionally free a batch fixed by Reshape
    constants; then run TensorFlow itself on the samples so the check step can compare."""
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(src.read_bytes())
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=params["inputs"], output_names=params["outputs"], opset=params["opset"]
    )
    notes: dict = {}
    if params.get("batch_reshapes"):
        notes["reshapes_patched"] = _free_batch(model, params["batch_reshapes"])
    _rename_tensors(model.graph, params.get("rename", {}))
    _name_initializers_by_use(model.graph)
    notes.update(_save_checked(model, out))

    if ctx.get("samples"):
        x = np.load(ctx["samples"])["x"]
        (tf_in,) = params["inputs"]
        _tf_reference(graph_def, {tf_in: x}, params["outputs"], params.get("rename", {}), ctx["reference"])
        notes["reference_samples"] = len(x)
    return notes


def _tf_reference(graph_def: Any, feeds: dict, outputs: list[str], rename: dict, path: str) -> None:
    """Run TensorFlow itself, one sample at a time (batch may be fixed at 1), and save inputs and
    outputs under their ONNX names for the check step."""
    import numpy as np
    import tensorflow as tf

    n = len(next(iter(feeds.values())))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as sess:
            runs = [sess.run(outputs, {k: v[i : i + 1] for k, v in feeds.items()}) for i in range(n)]
    saved = {f"in:{rename.get(k, k)}": v for k, v in feeds.items()}
    for j, name in enumerate(outputs):
        saved[f"out:{rename.get(name, name)}"] = np.concatenate([r[j] for r in runs])
    np.savez(path, **saved)


def _free_batch(model: Any, shapes: list[list[int]]) -> int:
    """Make the listed batch-1 Reshape shape constants batch -1; every one must be found.

    A constant matches a listed shape where it has the same numbers or -1 (tf2onnx may have folded
    [1, 1792] to [1, -1]); it becomes the listed shape with -1 first.
    """
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    reshape_shapes = {n.input[1] for n in graph.node if n.op_type == "Reshape"}
    found: set[tuple[int, ...]] = set()
    patched = 0
    for init in graph.initializer:
        if init.name not in reshape_shapes:
            continue
        value = [int(v) for v in numpy_helper.to_array(init)]
        for shape in shapes:
            if len(shape) == len(value) and all(v in (s, -1) for v, s in zip(value, shape, strict=True)):
                new = np.array([-1, *shape[1:]], dtype=numpy_helper.to_array(init).dtype)
                init.CopyFrom(numpy_helper.from_array(new, init.name))
                found.add(tuple(shape))
                patched += 1
                break
    missing = {tuple(s) for s in shapes} - found
    if missing:
        raise ValueError(f"Reshape shape constants not found: {sorted(missing)}")
    for vi in list(graph.input) + list(graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del graph.value_info[:]
    return patched


@converter("tfjs-graph", "onnx", "tensorflow", "tfjs")
def tfjs_graph(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """A TF.js graph model (model.json + weight shards beside it) through tfjs-graph-converter
    and tf2onnx. Inputs and outputs are named by the model's signature keys (`rename` overrides).

    tf2onnx's own TF.js loader fails on `_FusedConv2D` ("NodeDef missing attr 'TArgs'"):
    CompatMode.TFLITE splits the fused ops first. onnx refuses the `_input_shapes` attributes.
    """
    import numpy as np
    import tf2onnx

    api = _import_tfjs_graph_converter()
    model_json = json.loads(src.read_text())
    # Some exporters (human's models) keep the signature at the top level, where the loader
    # does not look: without it, named outputs (faceres' descriptor) would be dropped.
    meta = model_json.setdefault("userDefinedMetadata", {})
    if "signature" not in meta and "signature" in model_json:
        meta["signature"] = model_json["signature"]
    for side in ("inputs", "outputs"):  # faceres names some tensors without their ":0"
        for info in meta.get("signature", {}).get(side, {}).values():
            info["name"] = _tensor_name(info["name"])
    graph, signature = api._convert_graph_model_to_graph(model_json, str(src.parent), api.CompatMode.TFLITE)
    graph_def = graph.as_graph_def()
    for node in graph_def.node:
        if "_input_shapes" in node.attr:
            del node.attr["_input_shapes"]

    inputs = {v.name: k for k, v in signature.inputs.items()}
    outputs = {v.name: k for k, v in signature.outputs.items()}
    rename = {t: params.get("rename", {}).get(k, k) for t, k in {**inputs, **outputs}.items()}
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=list(inputs), output_names=list(outputs), opset=params.get("opset", 13)
    )
    _rename_tensors(model.graph, rename)
    _name_initializers_by_use(model.graph)
    notes = _save_checked(model, out)

    # Reference inputs: the verify samples if the model has them (one input), else seeded noise in
    # the input's range (0..1 floats; 0..255 for integer inputs).
    rng = np.random.default_rng(0)
    feeds = {}
    if ctx.get("samples"):
        (t,) = inputs
        feeds[t] = np.load(ctx["samples"])["x"].astype(graph.get_tensor_by_name(t).dtype.as_numpy_dtype)
    for t in [t for t in inputs if t not in feeds]:
        shape = [max(int(d.size), 1) for d in graph.get_tensor_by_name(t).shape.as_proto().dim]
        dtype = graph.get_tensor_by_name(t).dtype.as_numpy_dtype
        scale = 255 if np.issubdtype(dtype, np.integer) else 1
        feeds[t] = (rng.uniform(0, scale, [2, *shape[1:]])).astype(dtype)
    _tf_reference(graph_def, feeds, list(outputs), rename, ctx["reference"])
    return {**notes, "inputs": [rename[t] for t in inputs], "outputs": [rename[t] for t in outputs]}


def _tensor_name(name: str) -> str:
    return name if ":" in name else f"{name}:0"


def _import_tfjs_graph_converter() -> Any:
    """Import tfjs_graph_converter.api with tensorflowjs installed without its dependencies.

    tensorflowjs' package __init__ imports its Keras/JAX converters (tf_keras, jax, ...); the
    graph converter needs only its weight reader and converters.common. Registering bare package
    modules skips those __init__ files while the submodules still import from the real files.
    """
    import importlib.util
    import types

    spec = importlib.util.find_spec("tensorflowjs")
    root = Path(spec.origin).parent
    for name, path in (("tensorflowjs", root), ("tensorflowjs.converters", root / "converters")):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(path)]
            sys.modules[name] = module
    from tfjs_graph_converter import api

    return api


def _faceapi_weights(manifest_path: Path) -> dict:
    """face-api.js weights: a manifest of named tensors (uint8-quantized with scale and min, or
    float32) over the shard files beside it, as float32 numpy arrays."""
    import numpy as np

    groups = json.loads(manifest_path.read_text())
    weights = {}
    for group in groups:
        data = b"".join((manifest_path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q:
                raw = np.frombuffer(data, np.uint8, n, offset)
                offset += n
                value = raw.astype(np.float32) * q["scale"] + q["min"]
            else:
                value = np.frombuffer(data, np.float32, n, offset).copy()
                offset += 4 * n
            weights[w["name"]] = value.reshape(w["shape"]).astype(np.float32)
        if offset != len(data):
            raise ValueError(f"{manifest_path.name}: {len(data) - offset} bytes of weights left over")
    return weights


@converter("faceapi-age-gender", "onnx", "tensorflow")
def faceapi_age_gender(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """face-api.js's AgeGenderNet (TinyXception with 2 main blocks, an age regressor and a
    2-way gender softmax), rebuilt in TensorFlow op for op from face-api's own source
    (src/xception/TinyXception.ts, src/ageGenderNet/AgeGenderNet.ts) and its weights, then
    through tf2onnx. The file carries no graph, only weights: the architecture is the code.

    Input `input` [N,112,112,3] RGB 0..255 (face-api pads the face crop to a square and resizes);
    outputs `age` [N] (years) and `gender` [N,2] (male, female probabilities)."""
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    # numpy arrays (not eager tensors): traced into the graph as constants, not captured inputs.
    w = _faceapi_weights(src)
    mean_rgb = np.array([122.782, 117.001, 104.298], np.float32)

    def conv(x: Any, p: str, stride: int) -> Any:
        return tf.nn.conv2d(x, w[f"{p}/filters"], stride, "SAME") + w[f"{p}/bias"]

    def sep(x: Any, p: str) -> Any:
        y = tf.nn.separable_conv2d(x, w[f"{p}/depthwise_filter"], w[f"{p}/pointwise_filter"], [1, 1, 1, 1], "SAME")
        return y + w[f"{p}/bias"]

    def reduction(x: Any, p: str, activate: bool = True) -> Any:
        y = tf.nn.relu(x) if activate else x
        y = sep(y, f"{p}/separable_conv0")
        y = sep(tf.nn.relu(y), f"{p}/separable_conv1")
        y = tf.nn.max_pool2d(y, 3, 2, "SAME")
        return y + conv(x, f"{p}/expansion_conv", 2)

    def main_block(x: Any, p: str) -> Any:
        y = sep(tf.nn.relu(x), f"{p}/separable_conv0")
        y = sep(tf.nn.relu(y), f"{p}/separable_conv1")
        y = sep(tf.nn.relu(y), f"{p}/separable_conv2")
        return y + x

    @tf.function(input_signature=[tf.TensorSpec([None, 112, 112, 3], tf.float32, name="input")])
    def net(x: Any) -> Any:
        y = (x - mean_rgb) / 255.0
        y = tf.nn.relu(conv(y, "entry_flow/conv_in", 2))
        y = reduction(y, "entry_flow/reduction_block_0", activate=False)
        y = reduction(y, "entry_flow/reduction_block_1")
        for i in range(params.get("main_blocks", 2)):
            y = main_block(y, f"middle_flow/main_block_{i}")
        y = reduction(y, "exit_flow/reduction_block")
        y = tf.nn.relu(sep(y, "exit_flow/separable_conv"))
        pooled = tf.reshape(tf.nn.avg_pool2d(y, 7, 2, "VALID"), [-1, 512])
        age = tf.identity(tf.reshape(tf.matmul(pooled, w["fc/age/weights"]) + w["fc/age/bias"], [-1]), name="age")
        gender = tf.nn.softmax(tf.matmul(pooled, w["fc/gender/weights"]) + w["fc/gender/bias"])
        return {"age": age, "gender": tf.identity(gender, name="gender")}

    model, _ = tf2onnx.convert.from_function(net, input_signature=net.input_signature, opset=params.get("opset", 13))
    outputs = {o.name: o for o in model.graph.output}
    rename = {}
    for name in list(outputs):
        for key in ("age", "gender"):
            if name.startswith(key) or f"/{key}" in name or name.endswith(key):
                rename[name] = key
    rename.update({i.name: "input" for i in model.graph.input})
    _rename_tensors(model.graph, rename)
    _name_initializers_by_use(model.graph)
    notes = _save_checked(model, out)

    x = np.random.default_rng(0).uniform(0, 255, (4, 112, 112, 3)).astype(np.float32)
    ref = net(tf.constant(x))
    np.savez(ctx["reference"], **{"in:input": x, "out:age": ref["age"].numpy(), "out:gender": ref["gender"].numpy()})
    return {**notes, "outputs": [o.name for o in model.graph.output]}


@converter("keras-h5", "onnx", "tensorflow")
def keras_h5(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """A Keras model saved as HDF5 (any file name) through tf2onnx, batch left free; input named
    `input`, the single output `params["output"]`. Keras itself runs the samples for the check."""
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    model = tf.keras.models.load_model(str(src), compile=False)
    spec = (tf.TensorSpec([None, *model.input_shape[1:]], tf.float32, name="input"),)
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=params.get("opset", 13))
    (output,) = onnx_model.graph.output
    _rename_tensors(onnx_model.graph, {output.name: params["output"]})
    _name_initializers_by_use(onnx_model.graph)
    notes = _save_checked(onnx_model, out)

    if ctx.get("samples"):
        x = np.load(ctx["samples"])["x"].astype(np.float32)
    else:
        x = np.random.default_rng(0).uniform(-1, 1, (4, *model.input_shape[1:])).astype(np.float32)
    np.savez(ctx["reference"], **{"in:input": x, f"out:{params['output']}": model.predict(x, verbose=0)})
    return {**notes, "keras_input": list(model.input_shape), "keras_output": list(model.output_shape)}


@converter("tfjs-layers-js", "onnx", "tensorflow", "tfjs")
def tfjs_layers_js(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """A TF.js layers model bundled as JavaScript modules (nsfwjs): `model.min.js` exports the
    model.json object, each `<shard>.min.js` a base64 string of its weights (often uint8-quantized).

    Node evaluates the modules (they are JS object literals, not JSON); Keras rebuilds the model
    from its topology, tensorflowjs' reader dequantizes the weights, tf2onnx converts. The input is
    named `input`, the output `params["output"]`; Keras' own outputs on seeded noise are saved for
    the check step.
    """
    import base64
    import subprocess

    import numpy as np
    import tensorflow as tf
    import tf2onnx

    _import_tfjs_graph_converter()  # registers tensorflowjs without its heavy __init__
    from tensorflowjs import read_weights

    def evaluate(module: Path) -> Any:
        script = "process.stdout.write(JSON.stringify(require(process.argv[1])))"
        return json.loads(subprocess.run(["node", "-e", script, str(module)], check=True, capture_output=True).stdout)

    model_json = evaluate(src)
    manifest = model_json["weightsManifest"]
    buffers = [
        b"".join(base64.b64decode(evaluate(src.parent / f"{path}.min.js")) for path in group["paths"])
        for group in manifest
    ]
    values = {w["name"]: w["data"] for w in read_weights.decode_weights(manifest, buffers, flatten=True)}
    model = tf.keras.models.model_from_json(json.dumps(model_json["modelTopology"]["model_config"]))
    used = set()
    for layer in model.layers:
        if layer.weights:
            names = [w.name.split(":")[0] for w in layer.weights]
            layer.set_weights([values[n].reshape(w.shape) for n, w in zip(names, layer.weights, strict=True)])
            used.update(names)
    if used != set(values):
        raise ValueError(f"weights not matched to layers: {sorted(set(values) - used)[:5]}")

    shape = model.input_shape[1:]
    signature = (tf.TensorSpec((None, *shape), tf.float32, name="input"),)
    onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=params.get("opset", 13))
    (output,) = [o.name for o in onnx_model.graph.output]
    _rename_tensors(onnx_model.graph, {output: params["output"]})
    _name_initializers_by_use(onnx_model.graph)
    notes = _save_checked(onnx_model, out)

    x = np.random.default_rng(0).uniform(0, 1, (2, *shape)).astype(np.float32)
    np.savez(ctx["reference"], **{"in:input": x, f"out:{params['output']}": model.predict(x, verbose=0)})
    return {**notes, "weights": len(values), "input": [None, *shape]}


@converter("fp16-weights", "onnx")
def fp16_weights(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """Store large float32 initializers as float16, each followed by a Cast back to float32.

    The file halves while inputs, outputs and arithmetic stay float32: onnxruntime's CPU kernels
    are float32, so a float16 graph would only add casts. onnxruntime folds the casts at load.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    min_elements = int(params.get("min_elements", 256))
    model = onnx.load(str(src))
    graph = model.graph
    casts = []
    worst = 0.0
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            continue
        value = numpy_helper.to_array(init)
        half = value.astype(np.float16)
        if not np.isfinite(half).all():
            continue  # out of float16 range: leave it float32
        worst = max(worst, float(np.max(np.abs(half.astype(np.float32) - value))))
        name = init.name
        init.CopyFrom(numpy_helper.from_array(half, f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return {"initializers_fp16": len(casts), "max_weight_rounding": worst}


@converter("int8-dynamic", "onnx", "onnxruntime")
def int8_dynamic(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """int8 weights with onnxruntime's dynamic quantization (activations quantized at run time,
    no calibration data needed). Weights default to QUInt8: onnxruntime's CPU ConvInteger has no
    int8-weight kernel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = Path(ctx["work"]) / "preprocessed.onnx"
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    op_types = params.get("op_types")
    quantize_dynamic(
        str(pre),
        str(out),
        weight_type=QuantType[params.get("weight_type", "QUInt8")],
        per_channel=bool(params.get("per_channel", False)),
        op_types_to_quantize=op_types,
    )
    return {"op_types": op_types or "default"}


@converter("int8-static", "onnx", "onnxruntime")
def int8_static(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """int8 weights and activations (QDQ, per-channel weights), activation ranges calibrated on
    real samples: onnxruntime then runs int8 kernels, faster than float32 but less exact."""
    import numpy as np
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    x = np.load(ctx["calibration"])["x"]
    name = params["input"]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(x[i : i + 1] for i in range(len(x)))

        def get_next(self) -> dict | None:
            batch = next(self.batches, None)
            return None if batch is None else {name: batch}

    pre = Path(ctx["work"]) / "preprocessed.onnx"
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    method = params.get("method", "Percentile")
    quantize_static(
        str(pre),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        calibrate_method=CalibrationMethod[method],
    )
    return {"calibration_samples": len(x), "method": method}


@converter("tflite-packed", "onnx", "tensorflow")
def tflite_packed(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """A TFLite model stored inside a packed asset file (MediaPipe's solution bundles concatenate
    their files: a label map, then the .tflite) through tf2onnx's TFLite reader; then the TFLite
    interpreter itself on seeded inputs for the check step.

    `labels` (params) must equal the label map at the head of the file, so the class order the
    service relies on is checked against the package, not assumed. fp16 weights are dequantized
    by the graph's own DEQUANTIZE ops, which tf2onnx folds into float32 constants.
    """
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    data = src.read_bytes()
    start, end = params["tflite_bytes"]
    head = data[: params["labels_bytes"]].decode("utf-8").rstrip("\n").split("\n")
    if head != params["labels"]:
        raise ValueError(f"label map in the package {head} differs from params.labels")
    tflite = Path(ctx["work"]) / "model.tflite"
    tflite.write_bytes(data[start:end])
    if tflite.read_bytes()[4:8] != b"TFL3":
        raise ValueError("the byte range does not hold a TFLite flatbuffer")
    model, _ = tf2onnx.convert.from_tflite(str(tflite), opset=params.get("opset", 13))
    _rename_tensors(model.graph, params.get("rename", {}))
    _name_initializers_by_use(model.graph)
    notes = _save_checked(model, out)

    interpreter = tf.lite.Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    (inp,) = interpreter.get_input_details()
    x = np.random.default_rng(0).uniform(-1, 1, (2, *inp["shape"][1:])).astype(np.float32)
    saved = {f"in:{params['rename'].get(inp['name'], inp['name'])}": x}
    runs: dict[str, list] = {}
    for sample in x:
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        for o in interpreter.get_output_details():
            runs.setdefault(params["rename"].get(o["name"], o["name"]), []).append(interpreter.get_tensor(o["index"]))
    saved.update({f"out:{k}": np.concatenate(v) for k, v in runs.items()})
    np.savez(ctx["reference"], **saved)
    return {**notes, "tflite_mb": round((end - start) / 1e6, 1)}


@converter("torch-efficientnet-lite", "onnx", "torch")
def torch_efficientnet_lite(src: Path, out: Path, params: dict, ctx: dict) -> dict:
    """An EfficientNet-Lite .pth state dict through efficientnet-lite-pytorch's model code and
    torch.onnx (the TorchScript exporter); then torch itself on seeded inputs for the check step.

    The package's own `set_swish()` must not be called before export: it swaps the Lite models'
    ReLU6 for Swish and the exported network then classifies at random.
    """
    import numpy as np
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    torch.manual_seed(0)
    model = EfficientNet.from_pretrained(params["arch"], weights_path=str(src))
    model.eval()
    size = EfficientNet.get_image_size(params["arch"])  # static "same" padding: fixed H and W

    class WithFeatures(torch.nn.Module):
        """The classifier plus what it classifies from: the head's feature map (N x 1280 x h x w)
        and its spatial mean (N x 1280), the backbone custom labels train their heads on."""

        def __init__(self) -> None:
            super().__init__()
            self.net = model

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            fmap = self.net.extract_features(x)
            pooled = fmap.mean(dim=(2, 3))
            return self.net._fc(pooled), pooled, fmap  # _dropout is the identity in eval mode

    wrapped = WithFeatures().eval()
    names = ["logits", "features", "feature_map"]
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (2, 3, size, size)).astype(np.float32))
    torch.onnx.export(
        wrapped,
        (x[:1],),
        str(out),
        input_names=["input"],
        output_names=names,
        dynamic_axes={"input": {0: "N"}, **{n: {0: "N"} for n in names}},
        opset_version=params.get("opset", 13),
        dynamo=False,
    )
    with torch.no_grad():
        ys = wrapped(x)
        assert float((ys[0] - model(x)).abs().max()) < 1e-5, "the wrapped logits differ from the classifier's"
    outputs = {f"out:{n}": y.numpy() for n, y in zip(names, ys, strict=True)}
    np.savez(ctx["reference"], **{"in:input": x.numpy(), **outputs})
    import onnx

    onnx_model = onnx.load(str(out))
    notes = _save_checked(onnx_model, out)
    return {**notes, "input": [size, size], "torch": torch.__version__}


# ------------------------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    conv = CONVERTERS[spec["recipe"]]
    notes = conv.fn(Path(spec["src"]), Path(spec["out"]), spec["params"], spec)
    Path(spec["result"]).write_text(json.dumps(notes, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
