"""Heard's command line: `python -m bot run | shell | train | seed | retention | cluster |
new-flow | validate | check`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml

from bot.servers import ROOT, Servers
from bot.supervisor import supervise
from bot.training import ensure_trained


def voice_status(rasa_url: str) -> str:
    """'voice on', or why it is off (e.g. no speech model downloaded)."""
    try:
        with urllib.request.urlopen(
            f"{rasa_url}/webhooks/browser_voice/status", timeout=5
        ) as response:
            status = json.load(response)
    except (OSError, ValueError):
        return "voice status unknown"
    return "voice on" if status.get("available") else f"voice off: {status.get('reason')}"


def _quiet_environment() -> None:
    # No telemetry calls from an offline machine; SQLAlchemy 1.4's 2.0 notice and
    # TensorFlow's start-up lines (CUDA, TensorRT) are noise.
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def action_port(endpoints: Path = ROOT / "endpoints.yml") -> int:
    """The action server listens where endpoints.yml tells Rasa to find it."""
    url = yaml.safe_load(endpoints.read_text())["action_endpoint"]["url"]
    return urlparse(url).port or 80


def seed() -> None:
    """The shop database migrated to the current schema (store/migrations/), then seeded
    when it's empty."""
    from store.migrate import upgrade
    from store.repository import Repository, database_url
    from store.seed import seed as load

    url = database_url()
    print(f"database: schema at revision {upgrade(url)}")
    loaded = load(Repository.from_url(url))
    print("database: demo data loaded" if loaded else "database: has data, left as is")


def checked_settings():
    """Every setting (`heard.settings`), or None after saying on stderr which are wrong: a
    bad one stops the start here, not in the middle of a customer's handoff."""
    from heard import settings

    try:
        return settings.current()
    except settings.SettingsError as error:
        print(error.report(), file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    current = checked_settings()
    if current is None:
        return 2
    from bot import retention
    from store.repository import database_url

    retention_days = current.retention_days
    seed()
    servers = Servers(ensure_trained(), rasa_port=args.port, action_port=action_port())
    print("starting the action server and the Rasa server...", flush=True)
    servers.start()
    try:
        servers.wait_until_ready()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"\nHeard is running.\n"
        f"  REST:      POST {servers.rasa_url}/webhooks/rest/webhook "
        f'{{"sender": "me", "message": "hi"}}\n'
        f"  socket.io: {servers.rasa_url}/socket.io\n"
        f"  Rasa HTTP API (parse, trackers): add ?token={servers.api_token} "
        f"(set HEARD_API_TOKEN to choose it)\n"
        f"  actions:   {servers.action_url}/webhook\n"
        f"  demo shop with the chat widget: {servers.rasa_url}/shop/\n"
        f"  agent console and dashboard:    {servers.rasa_url}/console/\n"
        f'    (create an agent: make agent USERNAME=sam NAME="Sam Rivera", or\n'
        f'     .venv/bin/python -m web agents add sam --name "Sam Rivera")\n'
        f"  phone calls: point a Twilio number at POST "
        f"{servers.rasa_url}/webhooks/twilio_voice/incoming\n"
        f"  talk from this machine: make call ({voice_status(servers.rasa_url)})\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    daily = None
    if retention_days is not None:  # a minute after start, then every 24 h
        daily = retention.start_daily(
            retention_days,
            servers.endpoints,
            servers.environment.get("DATABASE_URL") or database_url(),
            stopped,
            log,
        )
    supervise(servers, stopped, log=log)
    print("\nstopping...", flush=True)
    if daily is not None:
        daily.join(timeout=5)  # a run in progress stops after its current batch
    servers.stop()
    print("stopped.")
    return 0


def shell(args: argparse.Namespace) -> int:
    """Chat in the terminal, with the action server running beside it."""
    if checked_settings() is None:
        return 2
    seed()
    model = ensure_trained()
    servers = Servers(model, action_port=action_port())
    servers.start_actions()
    try:
        return subprocess.call(
            [
                sys.executable,
                "-m",
                "rasa",
                "shell",
                "--model",
                str(model),
                "--endpoints",
                "endpoints.yml",
            ],
            cwd=ROOT,
        )
    finally:
        servers.stop()


def retention_command(args: argparse.Namespace) -> int:
    from bot import retention
    from heard.settings import parse_retention_days
    from store.repository import database_url

    try:  # a bad --days or HEARD_RETENTION_DAYS, or no SQL tracker store
        days = (
            parse_retention_days(args.days, "--days")
            if args.days is not None
            else retention.retention_days()
        )
        if days is None:
            print("retention: off, nothing deleted")
            return 0
        print(retention.run(days, ROOT / "endpoints.yml", database_url(), dry_run=args.dry_run))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="seed, train if needed, start both servers")
    run_parser.add_argument("--port", type=int, default=5005, help="the Rasa server's port")
    commands.add_parser("shell", help="chat in the terminal")
    commands.add_parser("train", help="train only if the training inputs changed")
    commands.add_parser("seed", help="load demo customers and orders into an empty database")
    retention_parser = commands.add_parser(
        "retention",
        help="delete conversations idle longer than the retention, keeping their dashboard figures",
    )
    retention_parser.add_argument("--days", help="instead of HEARD_RETENTION_DAYS (default 90)")
    retention_parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, change nothing"
    )
    cluster_parser = commands.add_parser(
        "cluster",
        help="the production topology on this machine: PostgreSQL, Redis, nginx, "
        "Rasa replicas and action servers",
    )
    cluster_parser.add_argument(
        "--folder",
        type=Path,
        default=ROOT / "var" / "cluster",
        help="databases, logs and nginx's files (default var/cluster)",
    )
    cluster_parser.add_argument(
        "--replicas",
        type=int,
        default=2,
        choices=range(1, 3),
        help="Rasa replicas (ports 5005, 5006)",
    )
    cluster_parser.add_argument(
        "--action-servers",
        type=int,
        default=2,
        choices=range(1, 3),
        help="action servers (ports 5055, 5056)",
    )
    new_flow_parser = commands.add_parser(
        "new-flow",
        help="scaffold a new request or answer: its data, wording, handler stub, rule, "
        "tests and story, with placeholders to replace (README, 'adding a flow')",
    )
    new_flow_parser.add_argument("name", help="the new intent, e.g. gift_wrap")
    new_flow_parser.add_argument(
        "--area", help="the actions/ module of its handler (orders, refunds...) or a new one"
    )
    new_flow_parser.add_argument(
        "--no-identity",
        action="store_true",
        help="no order number and e-mail check before the handler runs",
    )
    new_flow_parser.add_argument(
        "--answer",
        action="store_true",
        help="a fixed reply (actions/info.py ANSWERS), no handler and no identity",
    )
    commands.add_parser(
        "validate",
        help="Rasa's validation of the data, every finding a failure but responses the "
        "code utters; prints nothing when clean",
    )
    commands.add_parser(
        "check",
        help="placeholders, lint, the flow tests and the data at once; then training and "
        "every test story when the inputs changed (make check)",
    )
    args = parser.parse_args(argv)
    _quiet_environment()
    if args.command == "validate":
        from bot import data_validation

        return data_validation.main()
    if args.command == "check":
        from bot import check

        return check.main()
    if args.command == "new-flow":
        from bot.new_flow import command as new_flow

        return new_flow.run(
            ROOT, args.name, args.area, identity=not args.no_identity, answer=args.answer
        )
    if args.command == "run":
        return run(args)
    if args.command == "shell":
        return shell(args)
    if args.command == "retention":
        return retention_command(args)
    if args.command == "cluster":
        from bot import cluster

        return cluster.main(args.folder.resolve(), args.replicas, args.action_servers)
    if args.command == "train":
        print(ensure_trained())
        return 0
    seed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
