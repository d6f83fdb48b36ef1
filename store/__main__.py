"""`python -m store migrate [--url URL]`: the shop database to the current schema;
`python -m store revision -m MESSAGE [--autogenerate]`: a new revision after head."""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from store import migrate
from store.repository import database_url


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m store", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    migrating = commands.add_parser("migrate", help="upgrade the database to head")
    revising = commands.add_parser(
        "revision", help="write store/migrations/versions/NNNN_<message>.py"
    )
    revising.add_argument("-m", "--message", required=True, help="what the revision changes")
    revising.add_argument(
        "--autogenerate",
        action="store_true",
        help="draft it from the models against a database at head",
    )
    for command in (migrating, revising):
        command.add_argument(
            "--url", help="the database (default: DATABASE_URL, else sqlite:///var/heard.db)"
        )
    return root


def main(argv: Optional[list] = None) -> int:
    args = parser().parse_args(argv)
    url = args.url or database_url()
    shown = repr(make_url(url))  # the password, if any, as ***
    try:
        if args.command == "migrate":
            print(f"database: {shown} at revision {migrate.upgrade(url)} (head)")
        else:
            print(f"wrote {migrate.revision(url, args.message, args.autogenerate)}")
    except SQLAlchemyError as problem:
        print(f"error: the database at {shown} can't be migrated: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
