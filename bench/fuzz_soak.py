"""Soak the local endpoint with the schema-driven fuzzer: no 5xx and no malformed reply, ever.

Runs ``tests/fuzzing.py``'s seeded requests (every implemented operation, built from botocore's
service model) through ``recognito serve``'s WSGI app in-process over moto, and prints the number
of requests, the replies by status and error type, every 5xx and every malformed reply (not JSON,
an error without ``__type``, a 200 whose body does not match the output shape), and 200 bodies
beyond a constraint of their output shape. Exits 1 when there was a 5xx or a malformed reply.

    .venv/bin/python bench/fuzz_soak.py --requests 20000 --seed 7
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

# As in the tests: fixed settings, moto's in-memory AWS, Powertools' logs from warnings up.
os.environ.update(
    AWS_ACCESS_KEY_ID="fuzz",
    AWS_SECRET_ACCESS_KEY="fuzz",
    AWS_DEFAULT_REGION="us-east-1",
    RECOGNITO_TOKEN_SECRET="fuzz-only-secret",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_LOG_LEVEL=os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
)
for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
    os.environ.pop(variable, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--image-rate", type=float, default=0.03, help="share of Image members given a real photo")
    parser.add_argument("--every", type=int, default=2000, help="print progress every N requests")
    parser.add_argument("--url", help="a running `recognito serve` to soak over HTTP instead of the app in-process")
    args = parser.parse_args()

    from fuzzing import Fuzzer, Tally, fuzz, http_endpoint, local_endpoint, small_images
    from recognito_local.invoke import implemented_operations

    images = small_images()
    operations = sorted(implemented_operations())
    started = time.perf_counter()
    tally = Tally()
    with (
        tempfile.TemporaryDirectory() as directory,
        http_endpoint(args.url, images) if args.url else local_endpoint(Path(directory), images) as send,
    ):
        fuzzer = Fuzzer(args.seed, operations, images, image_rate=args.image_rate)
        while tally.requests < args.requests:
            fuzz(send, fuzzer, min(args.every, args.requests - tally.requests), tally)
            elapsed = time.perf_counter() - started
            print(
                f"{tally.requests} requests, {elapsed:.0f} s, 5xx {len(tally.server_errors)}, "
                f"malformed {len(tally.malformed)}",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    where = args.url or "in-process"
    rate = tally.requests / elapsed
    print(f"{where}, seed {args.seed}, {len(operations)} operations, {elapsed:.0f} s ({rate:.0f}/s)")
    print(tally.report())
    return 1 if tally.server_errors or tally.malformed else 0


if __name__ == "__main__":
    sys.exit(main())
