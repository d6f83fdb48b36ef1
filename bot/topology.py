"""The production topology, as data: which processes, on which ports, with what settings.

`make cluster` (bot/cluster.py) runs it on one machine; deploy/ describes the same
processes for containers, and a test keeps the two in step. Pure: nothing here starts
anything.

    clients ── nginx :public ─┬─ Rasa replica 1 ─┐            ┌─ action server 1
                              └─ Rasa replica 2 ─┴─ nginx :actions ─┴─ action server 2
               PostgreSQL (tracker store + shop database) · Redis (lock store, socket.io
               messages, sign-in throttle, call transfers)

nginx round-robins chat requests and retries one that failed to connect or broke off on the
other replica (a turn's message id makes the retry safe: Heard answers it from the
conversation); socket.io and the voice websockets stay on one replica per client address.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from heard.paths import ROOT

ENDPOINTS = (
    ROOT / "deploy" / "endpoints.yml"
)  # read by every Rasa replica, in and out of containers
SHOP_DB, TRACKER_DB, DB_USER = "heard", "heard_tracker", "heard"
FAIL_TIMEOUT = 3  # seconds nginx leaves a replica alone after a failed connection
MAX_BODY = "64k"
ACTION_CALL_MAX = "1m"  # HEARD_MAX_REQUEST_BYTES' default; larger bodies get 413 at nginx already


@dataclass(frozen=True)
class Service:
    name: str  # "rasa-1", "actions-2"...
    command: List[str]  # after the interpreter: python -m ...
    environment: Dict[str, str]
    port: int
    health: str  # the readiness path


@dataclass(frozen=True)
class Topology:
    folder: Path  # databases, logs and nginx's files
    model: Path
    api_token: str
    replicas: int = 2
    action_servers: int = 2
    public_port: int = 8080
    actions_port: int = 5054  # nginx in front of the action servers
    rasa_ports: List[int] = field(default_factory=lambda: [5005, 5006])
    action_ports: List[int] = field(default_factory=lambda: [5055, 5056])
    postgres_port: int = 5433
    redis_port: int = 6380

    def __post_init__(self) -> None:
        if len(self.rasa_ports) < self.replicas or len(self.action_ports) < self.action_servers:
            raise ValueError("a port is needed for every replica and action server")
        if self.replicas < 1 or self.action_servers < 1:
            raise ValueError("at least one Rasa replica and one action server")

    @property
    def database_url(self) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.postgres_port}/{SHOP_DB}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    def rasa_environment(self) -> Dict[str, str]:
        """What deploy/endpoints.yml and Heard's settings read in a Rasa replica."""
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "HEARD_REPLICAS": str(self.replicas),
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_PORT": str(self.postgres_port),
            "TRACKER_DB_NAME": TRACKER_DB,
            "TRACKER_DB_USER": DB_USER,
            "TRACKER_DB_PASSWORD": "",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
        }

    def services(self) -> List[Service]:
        """Heard's own processes, in start order: action servers first."""
        actions = [
            Service(
                f"actions-{i + 1}",
                ["-m", "actions", "--actions", "actions", "--port", str(port)],
                {"DATABASE_URL": self.database_url},
                port,
                "/health/ready",
            )
            for i, port in enumerate(self.action_ports[: self.action_servers])
        ]
        rasas = [
            Service(
                f"rasa-{i + 1}",
                [
                    "-m",
                    "bot.rasa_main",
                    "run",
                    "--enable-api",
                    f"--auth-token={self.api_token}",
                    "--cors",
                    "*",
                    "--port",
                    str(port),
                    "--model",
                    str(self.model),
                    "--credentials",
                    str(ROOT / "credentials.yml"),
                    "--endpoints",
                    str(ENDPOINTS),
                ],
                self.rasa_environment(),
                port,
                "/health/ready",
            )
            for i, port in enumerate(self.rasa_ports[: self.replicas])
        ]
        return actions + rasas

    def nginx_conf(self) -> str:
        local = lambda ports: [f"127.0.0.1:{p}" for p in ports]  # noqa: E731
        return nginx_conf(
            str(self.folder / "nginx"),
            str(self.folder / "log" / "nginx.log"),
            f"127.0.0.1:{self.public_port}",
            f"127.0.0.1:{self.actions_port}",
            local(self.rasa_ports[: self.replicas]),
            local(self.action_ports[: self.action_servers]),
        )


def nginx_conf(
    prefix: str,
    error_log: str,
    public: str,
    actions_listen: str,
    rasa_servers: List[str],
    action_servers: List[str],
) -> str:
    """nginx's configuration: `public` and `actions_listen` are where it listens, the
    servers are host:port of each Rasa replica and action server."""

    def servers(addresses: List[str]) -> str:
        return "".join(
            f"    server {a} max_fails=1 fail_timeout={FAIL_TIMEOUT}s;\n" for a in addresses
        )

    rasa, actions = servers(rasa_servers), servers(action_servers)
    # In every location: nginx drops the server's proxy_set_header lines in a location
    # that sets any of its own.
    forwarded = "".join(
        f"      proxy_set_header {header};\n"
        for header in (
            "Host $http_host",
            "X-Forwarded-For $proxy_add_x_forwarded_for",
            "X-Request-Id $request_id",
        )
    )
    temp = "".join(
        f"  {kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Made by bot/topology.py (`python -m bot.topology nginx ...` for containers).
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {error_log} warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}  client_max_body_size {MAX_BODY};
  # Bodies and replies stay in memory: nginx's workers may not write in the folder.
  client_body_buffer_size {MAX_BODY};
  proxy_max_temp_file_size 0;
  # Chat: any replica. A request whose replica refused the connection or broke off is
  # sent to the other one (POSTs too: Heard answers a repeated message id from the
  # conversation, and $request_id is the message id when the client gave none).
  upstream rasa {{
{rasa}    keepalive 32;
  }}
  # socket.io (its polling handshake) and voice websockets: one replica per client.
  upstream rasa_sticky {{
    hash $remote_addr consistent;
{rasa}  }}
  upstream actions {{
{actions}    keepalive 16;
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  proxy_http_version 1.1;
  proxy_connect_timeout 2s;
  proxy_read_timeout 60s;
  proxy_next_upstream error timeout non_idempotent;
  proxy_next_upstream_tries 2;
  server {{
    listen {public};
    location /socket.io/ {{
{forwarded}      proxy_pass http://rasa_sticky;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    location ~ ^/webhooks/[a-z_]+/stream$ {{
{forwarded}      proxy_pass http://rasa_sticky;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    location / {{
{forwarded}      proxy_pass http://rasa;
      proxy_set_header Connection "";
    }}
  }}
  server {{
    listen {actions_listen};
    # An action call carries the session's events and, until the action server has it,
    # the 43 KB domain: about 150 KB at most with 20-message sessions.
    client_max_body_size {ACTION_CALL_MAX};
    client_body_buffer_size {ACTION_CALL_MAX};
    location / {{
      proxy_pass http://actions;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def main(argv: Optional[List[str]] = None) -> None:
    """Prints nginx's configuration for other hosts, e.g. containers (deploy/nginx.conf)."""
    parser = argparse.ArgumentParser(prog="python -m bot.topology nginx")
    parser.add_argument("what", choices=["nginx"])
    parser.add_argument("--rasa", nargs="+", required=True, help="host:port of each replica")
    parser.add_argument(
        "--actions", nargs="+", required=True, help="host:port of each action server"
    )
    parser.add_argument("--listen", default="8080")
    parser.add_argument("--listen-actions", default="5054")
    # The official nginx image's own folder for temporary files (its packages create it).
    parser.add_argument("--prefix", default="/var/cache/nginx")
    parser.add_argument("--error-log", default="/dev/stderr")
    args = parser.parse_args(argv)
    print(
        nginx_conf(
            args.prefix, args.error_log, args.listen, args.listen_actions, args.rasa, args.actions
        ),
        end="",
    )


if __name__ == "__main__":
    main()
