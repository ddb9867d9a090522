"""Print the unzipped size of a set of model files (and anything else a Lambda would carry).

    .venv/bin/python layers/inference/build/measure_sizes.py centerface facenet-int8
    .venv/bin/python layers/inference/build/measure_sizes.py centerface facenet-int8 \\
        --plus .aws-sam/build/InferenceLayer --limit-mb 250

Arguments are model names (layers/inference/models/<name>.onnx) or paths to files or folders
(summed recursively). A Lambda function with its layers must fit in "250 MB" unzipped, which AWS
counts as 262,144,000 bytes (250 MiB); with --limit-mb (in those units) the exit status is 1 when
the total is over.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
MIB = 1 << 20


def resolve(item: str) -> Path:
    """A model name or a path."""
    path = Path(item)
    if path.exists():
        return path
    model = MODELS_DIR / f"{item}.onnx"
    if model.exists():
        return model
    raise FileNotFoundError(f"{item}: neither a path nor a built model in {MODELS_DIR}")


def unzipped_size(path: Path) -> int:
    """Bytes on unzip: a file's size, or the sum over a folder's files (links not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def sizes(items: list[str]) -> dict[str, int]:
    return {item: unzipped_size(resolve(item)) for item in items}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("items", nargs="+", help="model names or paths")
    ap.add_argument("--plus", nargs="*", default=[], help="more files or folders to count")
    ap.add_argument("--limit-mb", type=float, help="fail if the total is over this many AWS MB (MiB)")
    args = ap.parse_args(argv)
    try:
        found = sizes(args.items + args.plus)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    width = max(len(k) for k in found)
    for item, size in found.items():
        print(f"{item:<{width}}  {size / MIB:9.1f} MiB  {size:>13,d} bytes")
    total = sum(found.values())
    print(f"{'total':<{width}}  {total / MIB:9.1f} MiB  {total:>13,d} bytes")
    if args.limit_mb is not None:
        left = args.limit_mb * MIB - total
        print(f"{'left of ' + format(args.limit_mb, 'g') + ' MB':<{width}}  {left / MIB:9.1f} MiB")
        if left < 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
