"""`python -m web agents add|list|remove`: the people who may sign in to the agent console."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from heard import settings
from store.migrate import upgrade
from store.repository import Repository
from web.agents import AgentError, Agents, name_problem, password_problem, username_problem


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    problem = password_problem(password)
    if problem:  # say so before asking again
        raise AgentError(problem)
    if getpass.getpass("Password again: ") != password:
        raise AgentError("the two passwords differ")
    return password


def add(args: argparse.Namespace, agents: Agents) -> int:
    problem = username_problem(args.username) or name_problem(args.name)
    if problem:  # before asking for a password
        raise AgentError(problem)
    agent = agents.add(args.username, args.name, _read_password(args.password_stdin))
    print(f"agent '{agent.username}' ({agent.name}) added; they can sign in at /console/")
    return 0


def list_agents(args: argparse.Namespace, agents: Agents) -> int:
    everyone = agents.all()
    if not everyone:
        print("no agents yet; add one with: python -m web agents add USERNAME --name NAME")
    for agent in everyone:
        print(f"{agent.username}\t{agent.name}\tadded {agent.created_at:%Y-%m-%d %H:%M} UTC")
    return 0


def remove(args: argparse.Namespace, agents: Agents) -> int:
    if not agents.remove(args.username):
        raise AgentError(f"there is no agent called '{args.username}'")
    print(f"agent '{args.username}' removed and signed out")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m web", description=__doc__)
    groups = root.add_subparsers(dest="group", required=True)
    agents = groups.add_parser("agents", help="manage console agents")
    commands = agents.add_subparsers(dest="command", required=True)
    adding = commands.add_parser("add", help="add an agent (asks for the password)")
    adding.add_argument("username")
    adding.add_argument("--name", required=True, help='display name, e.g. "Sam Rivera"')
    adding.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    adding.set_defaults(run=add)
    commands.add_parser("list", help="list the agents").set_defaults(run=list_agents)
    removing = commands.add_parser("remove", help="remove an agent and end their sessions")
    removing.add_argument("username")
    removing.set_defaults(run=remove)
    return root


def main(argv: Optional[list] = None) -> int:
    args = parser().parse_args(argv)
    try:  # every setting, checked as the servers check them (exit code 2 like theirs)
        url = settings.current().database_url
    except settings.SettingsError as error:
        print(error.report(), file=sys.stderr)
        return 2
    try:
        upgrade(url)  # a first `make agent` may come before the first `make run`
        agents = Agents(Repository.from_url(url).engine)
        return args.run(args, agents)
    except AgentError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\ncancelled", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as problem:
        shown = repr(make_url(url))  # the password, if any, as ***
        print(
            f"error: the database at {shown} can't be used: {problem.__class__.__name__}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
