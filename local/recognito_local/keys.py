"""``recognito keys create|list|revoke``: the access keys a deployed or local endpoint accepts.

The commands act on whatever the environment points at, as the AWS CLI does: a deployed stack
through the usual AWS credentials and ``--stack`` (its table and KMS alias are named after it),
or ``recognito serve`` when ``AWS_ENDPOINT_URL`` is its URL. The secret is printed once, at
creation; recognito keeps it only as KMS ciphertext.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

STACK_HELP = (
    "the deployed stack's name, which prefixes its table and KMS alias "
    "(default: $RECOGNITO_TABLE_PREFIX, else 'recognito', which `recognito serve` uses)"
)


def add_keys_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="create, list and revoke the access keys an endpoint accepts",
        description="Manage the access keys recognito verifies SigV4 signatures against. Deployed, every request "
        "must be signed with an active key; `recognito serve` accepts any credentials until the first key exists. "
        "Uses your AWS credentials and region, or AWS_ENDPOINT_URL for a local endpoint. "
        "Revocation reaches every warm function within a minute.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    create = commands.add_parser("create", help="issue a new key and print its secret (shown only this once)")
    create.add_argument("--description", default="", help="what the key is for, shown by `keys list`")
    create.set_defaults(run=command(_create))

    listing = commands.add_parser("list", help="every key with its status (never the secrets)")
    listing.set_defaults(run=command(_list))

    revoke = commands.add_parser("revoke", help="make a key Inactive for good")
    revoke.add_argument("access_key_id", metavar="KEY_ID")
    revoke.set_defaults(run=command(_revoke))

    for subcommand in (create, listing, revoke):
        subcommand.add_argument("--stack", help=STACK_HELP)
        subcommand.add_argument("--region", help="the stack's region (default: your AWS configuration's)")


def command(action: Callable[[argparse.Namespace], None], name: str = "keys") -> Callable[[argparse.Namespace], int]:
    """A subcommand's ``run``: settings first, then the action, its failures as one line on stderr."""

    def run(args: argparse.Namespace) -> int:
        configure_environment(args)
        from botocore.exceptions import BotoCoreError, ClientError
        from pynamodb.exceptions import PynamoDBException
        from recognito.auth.keys import KeyStoreError
        from recognito.errors import RekognitionError

        try:
            action(args)
        except (KeyStoreError, RekognitionError, BotoCoreError, ClientError, PynamoDBException) as error:
            print(f"recognito {name}: {error}", file=sys.stderr)
            return 1
        return 0

    return run


def configure_environment(args: argparse.Namespace) -> None:
    """recognito reads its settings once, at import: fix them before its storage is imported."""
    import boto3

    if args.stack:
        os.environ["RECOGNITO_TABLE_PREFIX"] = args.stack
    region = args.region or os.environ.get("AWS_REGION") or boto3.Session().region_name
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    from recognito.settings import settings

    settings.cache_clear()


def _create(args: argparse.Namespace) -> None:
    from recognito.auth.keys import create_key

    key, secret = create_key(args.description)
    print(f"AccessKeyId      {key.access_key_id}")
    print(f"SecretAccessKey  {secret}")
    print(
        "The secret is shown only now. Use the pair as AWS credentials, e.g.\n"
        f"  aws configure set aws_access_key_id {key.access_key_id} --profile recognito\n"
        "  aws configure set aws_secret_access_key <the secret> --profile recognito",
        file=sys.stderr,
    )


def _list(args: argparse.Namespace) -> None:
    from recognito.auth.keys import list_keys

    keys = list_keys()
    if not keys:
        print("no keys yet (an endpoint in auto mode accepts any credentials until one exists)", file=sys.stderr)
        return
    print(f"{'AccessKeyId':<22}{'Status':<10}{'Created':<22}Description")
    for key in keys:
        print(f"{key.access_key_id:<22}{key.status:<10}{key.created:%Y-%m-%dT%H:%M:%SZ}  {key.description}")


def _revoke(args: argparse.Namespace) -> None:
    from recognito.auth.keys import SECRET_TTL, revoke_key

    key = revoke_key(args.access_key_id)
    print(f"{key.access_key_id} is Inactive; functions that cached it refuse it within {SECRET_TTL:.0f} s")
