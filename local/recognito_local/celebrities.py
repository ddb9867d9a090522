"""``recognito celebrities add|list``: the gallery RecognizeCelebrities recognizes.

Like ``recognito keys``, the commands act on what the environment points at: a deployed stack
(``--stack``) or ``recognito serve`` (``AWS_ENDPOINT_URL``). Adding a celebrity runs the face
models in this process, so it needs ``make models`` (or a deployed stack's layers) first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recognito_local.keys import STACK_HELP, command

GENDERS = ("Male", "Female", "Nonbinary", "Unlisted")


def add_celebrities_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "celebrities",
        help="add and list the celebrities RecognizeCelebrities knows",
        description="No model knows who is famous: RecognizeCelebrities recognizes the people you add here, "
        "from one or more photographs of each (the largest face of each photograph is used).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add = commands.add_parser("add", help="add a celebrity from photographs; prints their Id")
    add.add_argument("--name", required=True)
    add.add_argument("--url", action="append", default=[], help="a URL about them (repeatable)")
    add.add_argument("--gender", choices=GENDERS, help="KnownGender, as the celebrity has stated it publicly")
    add.add_argument("photos", nargs="+", type=Path, metavar="IMAGE", help="JPEG or PNG photographs")
    add.set_defaults(run=command(_add, "celebrities"))
    listing = commands.add_parser("list", help="every celebrity of the gallery")
    listing.set_defaults(run=command(_list, "celebrities"))
    for sub in (add, listing):
        sub.add_argument("--stack", help=STACK_HELP)
        sub.add_argument("--region", help="the stack's region (default: your AWS configuration's)")


def _add(args: argparse.Namespace) -> None:
    from recognito.celebrities import add_celebrity
    from recognito.storage import ensure_tables

    ensure_tables()
    celebrity_id = add_celebrity(args.name, [path.read_bytes() for path in args.photos], args.url, args.gender)
    print(f"{celebrity_id}  {args.name}")


def _list(args: argparse.Namespace) -> None:
    from recognito.celebrities import list_celebrities

    for celebrity in list_celebrities():
        print(f"{celebrity.celebrity_id}  {celebrity.name}  {' '.join(celebrity.urls)}")
