"""``recognito``: the command line. ``recognito serve`` runs the local endpoint.

Subcommands register themselves in ``COMMANDS`` so that later ones (``recognito keys``,
``recognito celebrities``) slot in beside ``serve``. Heavy imports wait until a command runs,
so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from recognito_local.admission import BUDGET_ENV, DEFAULT_BUDGET_MB, budget_mb
from recognito_local.celebrities import add_celebrities_commands
from recognito_local.keys import add_keys_commands
from recognito_local.producer import add_put_media_command

DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/recognito``, else ``~/.local/share/recognito``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "recognito"


def _add_serve(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the local endpoint (Rekognition plus S3, DynamoDB, SNS, SQS, Step Functions)",
        description="Serve the Rekognition API and the AWS services recognito uses on one port. "
        "Set AWS_ENDPOINT_URL to the printed URL and use boto3 or the AWS CLI unchanged. "
        "State is kept in --data-dir and survives restarts.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to listen on, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="where the state is kept (default: $XDG_DATA_HOME/recognito or ~/.local/share/recognito; now %(default)s)",
    )
    parser.add_argument(
        "--save-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how often a snapshot of the changed state is taken; every acknowledged write is in the "
        "journal on disk before it is answered, and a start replays the writes since the last snapshot "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--memory-budget",
        type=budget_mb,
        default=None,
        metavar="SIZE",
        help="the endpoint process's memory budget, e.g. 4G or 2048M: it bounds how many requests run "
        "models at once; the excess waits in a short queue, then gets ThrottlingException "
        f"(default: ${BUDGET_ENV}, else {DEFAULT_BUDGET_MB // 1024}G)",
    )
    parser.add_argument(
        "--trigger",
        action="append",
        default=[],
        metavar="RULE",
        help="an S3 upload rule as JSON, e.g. "
        '\'{"bucket": "photos", "prefix": "faces/", "action": "IndexFaces", "collection": "staff"}\'; '
        "repeatable; added to the rules in DATA_DIR/triggers.json (see the README, S3 upload triggers)",
    )
    parser.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from recognito_local.server import ServeError, serve

    _configure_logging()
    try:
        serve(args.host, args.port, args.data_dir, args.save_interval, args.trigger, args.memory_budget)
    except ServeError as error:
        print(f"recognito serve: {error}", file=sys.stderr)
        return 1
    # The state is saved; sweeping moto's few hundred thousand objects at exit would only
    # delay the prompt by a second or two.
    gc.freeze()
    return 0


def _configure_logging() -> None:
    """Our one line per request on stderr, as the functions' Powertools JSON lines (any input
    escaped, never a failed log call); the libraries' chatter only from warnings up.

    Our logger has its own handler: Powertools filters the root handlers against every logger
    whose name contains its service name ("recognito"), which would silence ours.
    """
    from recognito.logs import structured_formatter

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    ours = logging.getLogger("recognito_local")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(structured_formatter(service="recognito-local"))
        ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_serve,
    add_keys_commands,
    add_celebrities_commands,
    add_put_media_command,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="recognito", description="recognito: the Amazon Rekognition API, self-hosted."
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
