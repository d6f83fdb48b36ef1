"""deploy/ runs what `make cluster` runs: the same programs with the same arguments and the
same settings as bot/topology.py's Topology, in compose and in Kubernetes.

Nothing here builds an image or starts a container: the files are parsed and compared
with the topology. What may differ between a container and this machine is mapped
explicitly: the project's folder (/app in the image), host names (the services'), the
model (the image's models/ folder) and the API token (a variable).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from bot import topology
from bot.topology import DB_USER, ENDPOINTS, FAIL_TIMEOUT, ROOT, SHOP_DB, TRACKER_DB, Topology

DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
APP = "/app"  # the project's folder in the image (the Dockerfile's WORKDIR)
MODEL = f"{APP}/models"  # the newest model in the image's models/ (trained at build)
COMPOSE_TOKEN = re.compile(r"\$\{HEARD_API_TOKEN(:\?[^}]*)?\}")
KUBERNETES_TOKEN = "$(HEARD_API_TOKEN)"
LIVE = "/health/live"
# Where the Rasa replicas' settings point, in compose: a service for each.
COMPOSE_HOSTS = {
    "DATABASE_URL": "postgres",
    "TRACKER_DB_HOST": "postgres",
    "REDIS_URL": "redis",
    "ACTION_ENDPOINT_URL": "nginx",
}
POSTGRES_PORT, REDIS_PORT = 5432, 6379  # the postgres and redis images' own
NGINX_PREFIX = ".venv/bin/python -m bot.topology nginx"


# ---- reading the files ----------------------------------------------------------------


@lru_cache(maxsize=None)  # read once; nothing changes what it returns
def compose() -> Dict:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text())


@lru_cache(maxsize=None)
def kubernetes() -> List[Tuple[str, Dict]]:
    """(file name, object) of every object in deploy/kubernetes/."""
    found = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def k8s(kind: str, name: str) -> Dict:
    matches = [
        doc for _, doc in kubernetes() if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"deploy/kubernetes/ should have one {kind} {name!r}"
    return matches[0]


def workload(name: str) -> Dict:
    """The StatefulSet or Deployment `name` (the Rasa replicas, the action servers...)."""
    matches = [
        doc
        for _, doc in kubernetes()
        if doc["kind"] in ("StatefulSet", "Deployment") and doc["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"deploy/kubernetes/ should run {name!r} once"
    return matches[0]


def only_container(workload_: Dict) -> Dict:
    containers = workload_["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def k8s_program(container: Dict) -> List[str]:
    return [*container.get("command", []), *container.get("args", [])]


def pod_names(workload_: Dict) -> List[str]:
    spec = workload_["spec"]
    name = workload_["metadata"]["name"]
    if workload_["kind"] != "StatefulSet":
        return []  # a Deployment's pods have no names of their own
    start = (spec.get("ordinals") or {}).get("start", 0)
    return [f"{name}-{start + i}" for i in range(spec["replicas"])]


def k8s_environment(container: Dict) -> Dict[str, Optional[str]]:
    """Every variable the container gets: values from ConfigMaps and Secrets (the Secret's
    example) by name, None where the value is not in the files."""
    values: Dict[str, Optional[str]] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            values.update(k8s("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            values.update(k8s("Secret", source["secretRef"]["name"])["stringData"])
    for variable in container.get("env", []):
        reference = variable.get("valueFrom", {}).get("secretKeyRef")
        if reference:
            secret = k8s("Secret", reference["name"])["stringData"]
            assert reference["key"] in secret, f"the Secret has no {reference['key']}"
            values[variable["name"]] = secret[reference["key"]]
        else:
            values[variable["name"]] = variable.get("value")
    return values


def nginx_listens() -> List[str]:
    return re.findall(r"^\s*listen (\S+);", (DEPLOY / "nginx.conf").read_text(), re.M)


# ---- the topology in containers ---------------------------------------------------------


def container_topology(token: str) -> Topology:
    """`make cluster`'s topology with the containers' ports: every Rasa replica on the
    topology's first Rasa port, every action server on its first action port."""
    here = Topology(folder=Path("unused"), model=Path("unused"), api_token="unused")
    return Topology(
        folder=Path("/unused"),
        model=Path(MODEL),
        api_token=token,
        replicas=here.replicas,
        action_servers=here.action_servers,
        rasa_ports=[here.rasa_ports[0]] * here.replicas,
        action_ports=[here.action_ports[0]] * here.action_servers,
        public_port=here.public_port,
        actions_port=here.actions_port,
        postgres_port=POSTGRES_PORT,
        redis_port=REDIS_PORT,
    )


def in_container(service: topology.Service) -> List[str]:
    """The service's program as a container runs it: the image's python, /app for the
    project's folder."""
    return ["python", *(arg.replace(str(ROOT), APP) for arg in service.command)]


def kind_of(service: topology.Service) -> str:
    return service.name.rsplit("-", 1)[0]  # "rasa", "actions"


def compose_token() -> str:
    command = compose()["services"]["rasa-1"]["command"]
    tokens = [arg.split("=", 1)[1] for arg in command if arg.startswith("--auth-token=")]
    assert len(tokens) == 1 and COMPOSE_TOKEN.fullmatch(tokens[0]), (
        "compose's Rasa replicas take the API token from HEARD_API_TOKEN"
    )
    return tokens[0]


def interpolated(value: str) -> str:
    """`${NAME}` or `${NAME:?message}`: NAME."""
    match = re.fullmatch(r"\$\{([A-Z_]+)(:\?[^}]*)?\}", value)
    assert match, f"{value!r} should be one variable"
    return match.group(1)


def assert_same_setting(
    name: str, topology_value: str, value: str, host: str, password_variable: Optional[str]
) -> None:
    """A Rasa replica's setting in a container is the topology's, except for the host (and
    a password, which PostgreSQL has in containers)."""
    if "://" in topology_value:
        want, got = urlsplit(topology_value), urlsplit(value)
        assert (got.scheme, got.port, got.path, got.username) == (
            want.scheme,
            want.port,
            want.path,
            want.username,
        ), f"{name}: {value}"
        assert got.hostname == host, f"{name} should point at {host}: {value}"
        if password_variable and got.username:
            assert interpolated(got.password or "") == password_variable, name
    elif name.endswith("_HOST"):
        assert value == host, f"{name} should be {host}"
    elif name.endswith("_PASSWORD"):
        if password_variable:
            assert interpolated(value) == password_variable, name
    else:
        assert value == topology_value, f"{name} is {value!r}, the topology's {topology_value!r}"


# ---- compose ----------------------------------------------------------------------------


def test_compose_runs_the_topologys_processes_with_its_arguments():
    services = compose()["services"]
    expected = container_topology(compose_token()).services()
    for service in expected:
        assert service.name in services, f"compose has no service {service.name}"
        assert services[service.name]["command"] == in_container(service), service.name
    heard = {
        name for name, spec in services.items() if spec.get("image") == services["migrate"]["image"]
    }
    assert heard == {s.name for s in expected} | {"migrate"}, (
        "compose runs the topology's servers, no more and no fewer"
    )


def test_compose_servers_have_every_setting_of_the_topology():
    services = compose()["services"]
    password = interpolated(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
    for service in container_topology(compose_token()).services():
        environment = services[service.name]["environment"]
        missing = set(service.environment) - set(environment)
        assert not missing, f"{service.name} lacks {sorted(missing)}"
        for name, value in service.environment.items():
            assert_same_setting(
                name, value, str(environment[name]), COMPOSE_HOSTS.get(name, ""), password
            )
    for host in set(COMPOSE_HOSTS.values()):
        assert host in services


def test_compose_heard_replicas_is_the_number_of_rasa_services():
    services = compose()["services"]
    replicas = [name for name in services if name.startswith("rasa-")]
    for name in replicas:
        assert services[name]["environment"]["HEARD_REPLICAS"] == str(len(replicas))


def test_compose_health_checks_ask_each_servers_readiness_path():
    services = compose()["services"]
    for service in container_topology(compose_token()).services():
        check = " ".join(services[service.name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{service.port}{service.health}" in check, service.name


def test_compose_servers_start_after_the_migration_and_what_they_use():
    services = compose()["services"]
    assert services["migrate"]["command"] == ["python", "-m", "store", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in container_topology(compose_token()).services():
        depends = services[service.name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        if kind_of(service) == "rasa":
            assert depends["postgres"]["condition"] == "service_healthy"
            assert depends["redis"]["condition"] == "service_healthy"
        assert services["nginx"]["depends_on"][service.name]["condition"] == "service_healthy"


def test_compose_postgres_has_both_databases_for_the_topologys_user():
    postgres = compose()["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == DB_USER
    assert postgres["environment"]["POSTGRES_DB"] == SHOP_DB
    scripts = [
        volume.split(":")[0]
        for volume in postgres["volumes"]
        if ":/docker-entrypoint-initdb.d/" in volume
    ]
    assert scripts == ["./postgres-init.sql"]
    sql = (DEPLOY / "postgres-init.sql").read_text()
    assert re.search(rf"^CREATE DATABASE {TRACKER_DB} OWNER {DB_USER};$", sql, re.M)


def test_compose_redis_keeps_an_append_only_file():
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_compose_nginx_serves_the_generated_configuration():
    nginx = compose()["services"]["nginx"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    public, actions = nginx_listens()
    assert nginx["ports"] == [f"{public}:{public}"]
    if "daemon off;" in (DEPLOY / "nginx.conf").read_text():
        assert "daemon" not in " ".join(nginx["command"]), "nginx refuses `daemon` twice"
    url = urlsplit(compose()["services"]["rasa-1"]["environment"]["ACTION_ENDPOINT_URL"])
    assert (url.hostname, str(url.port)) == ("nginx", actions)


def test_compose_builds_one_image_from_the_dockerfile():
    services = compose()["services"]
    for name in [s.name for s in container_topology(compose_token()).services()] + ["migrate"]:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (
            DEPLOY / "Dockerfile"
        )
        assert services[name]["image"] == services["migrate"]["image"]


def test_every_variable_compose_reads_is_in_the_example_env_file():
    wanted = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yml").read_text()))
    example = set(re.findall(r"^([A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.M))
    assert wanted and wanted <= example, f"not in deploy/env.example: {wanted - example}"


# ---- Kubernetes -------------------------------------------------------------------------


def test_kubernetes_runs_the_topologys_processes_with_its_arguments():
    services = container_topology(KUBERNETES_TOKEN).services()
    for kind in ("actions", "rasa"):
        mine = [s for s in services if kind_of(s) == kind]
        runner = workload(kind)
        assert runner["spec"]["replicas"] == len(mine), f"{kind}: one pod per server"
        container = only_container(runner)
        for service in mine:
            assert k8s_program(container) == in_container(service), kind
        assert container["ports"][0]["containerPort"] == mine[0].port
        if KUBERNETES_TOKEN in " ".join(k8s_program(container)):
            # $(NAME) in a command is expanded only from variables the container has.
            assert "HEARD_API_TOKEN" in k8s_environment(container)


def test_kubernetes_has_a_service_with_each_of_composes_names():
    """deploy/nginx.conf serves Kubernetes too: each server it names is a Service there,
    on the same port, in front of the pod of that name."""
    for service in container_topology(KUBERNETES_TOKEN).services():
        assert service.name in pod_names(workload(kind_of(service))), service.name
        front = k8s("Service", service.name)["spec"]
        assert front["selector"] == {"statefulset.kubernetes.io/pod-name": service.name}
        assert [port["port"] for port in front["ports"]] == [service.port]
        assert front.get("clusterIP") != "None"


def test_kubernetes_servers_have_every_setting_of_the_topology():
    for service in container_topology(KUBERNETES_TOKEN).services():
        environment = k8s_environment(only_container(workload(kind_of(service))))
        missing = set(service.environment) - set(environment)
        assert not missing, f"{service.name} lacks {sorted(missing)}"
    rasa = k8s_environment(only_container(workload("rasa")))
    expected = container_topology(KUBERNETES_TOKEN).rasa_environment()
    for name in ("TRACKER_DB_PORT", "TRACKER_DB_NAME", "TRACKER_DB_USER", "HEARD_REPLICAS"):
        assert rasa[name] == expected[name], name
    for name in ("DATABASE_URL", "REDIS_URL"):  # external services: their scheme and path
        want, got = urlsplit(expected[name]), urlsplit(rasa[name])
        assert (got.scheme, got.path) == (want.scheme, want.path), name
    assert urlsplit(rasa["DATABASE_URL"]).username == DB_USER
    action = urlsplit(rasa["ACTION_ENDPOINT_URL"])
    want = urlsplit(expected["ACTION_ENDPOINT_URL"])
    assert (action.scheme, action.port, action.path) == (want.scheme, want.port, want.path)
    nginx = k8s("Service", action.hostname)["spec"]
    assert action.port in [port["port"] for port in nginx["ports"]]
    assert str(action.port) == nginx_listens()[1], "nginx's port for the action servers"


def test_kubernetes_heard_replicas_is_the_number_of_rasa_pods():
    rasa = workload("rasa")
    assert k8s_environment(only_container(rasa))["HEARD_REPLICAS"] == str(rasa["spec"]["replicas"])


def test_kubernetes_probes_ask_each_servers_health_paths():
    for service in container_topology(KUBERNETES_TOKEN).services():
        runner = workload(kind_of(service))
        container = only_container(runner)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        for probe, path in (
            ("readinessProbe", service.health),
            ("livenessProbe", LIVE),
            ("startupProbe", LIVE),
        ):
            check = container[probe]["httpGet"]
            assert check["path"] == path, f"{service.name}: {probe}"
            assert ports.get(check["port"], check["port"]) == service.port


def test_the_servers_answer_the_probes_paths():
    routes = (ROOT / "heard/health.py").read_text()  # both servers' routes, in one place
    for path in {LIVE, *(s.health for s in container_topology("t").services())}:
        assert f'"{path}"' in routes, f"heard/health.py has no route {path}"
    for seam in ("rasa_seam/readiness.py", "actions/sdk_seam.py"):
        assert "health.add_routes(" in (ROOT / seam).read_text(), f"{seam} adds no health routes"


def test_kubernetes_servers_finish_their_turns_before_they_stop():
    from sanic.config import DEFAULT_CONFIG

    for kind in ("actions", "rasa"):
        runner = workload(kind)
        pod = runner["spec"]["template"]["spec"]
        pause = only_container(runner)["lifecycle"]["preStop"]["exec"]["command"]
        assert pause[0] == "sleep"
        needed = int(pause[1]) + DEFAULT_CONFIG["GRACEFUL_SHUTDOWN_TIMEOUT"]
        assert pod["terminationGracePeriodSeconds"] > needed, kind
        # In a rolling update, the next pod goes down only after nginx's pause is over.
        assert runner["spec"]["minReadySeconds"] > FAIL_TIMEOUT, kind


def test_kubernetes_migrates_with_the_same_command():
    job = k8s("Job", "heard-migrate")["spec"]["template"]["spec"]
    container = job["containers"][0]
    assert k8s_program(container) == compose()["services"]["migrate"]["command"]
    assert "DATABASE_URL" in k8s_environment(container)


def test_kubernetes_nginx_serves_the_generated_configuration():
    nginx = workload("nginx")
    container = only_container(nginx)
    mount = container["volumeMounts"][0]
    assert (mount["mountPath"], mount["subPath"]) == ("/etc/nginx/nginx.conf", "nginx.conf")
    volume = nginx["spec"]["template"]["spec"]["volumes"][0]
    assert volume["name"] == mount["name"]
    made = (
        f"kubectl create configmap {volume['configMap']['name']} "
        f"--from-file=nginx.conf=deploy/nginx.conf"
    )
    assert made in (KUBERNETES / "nginx.yaml").read_text(), "how its ConfigMap is made"
    public, actions = nginx_listens()
    assert {str(port["containerPort"]) for port in container["ports"]} == {public, actions}
    assert "daemon" not in " ".join(k8s_program(container))


def image_uid() -> str:
    return re.search(r"useradd --uid (\d+)", (DEPLOY / "Dockerfile").read_text()).group(1)


def test_kubernetes_heard_containers_run_one_image_as_the_images_user():
    uid = image_uid()
    images = set()
    for name, doc in kubernetes():
        if doc["kind"] not in ("StatefulSet", "Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"]:
            if container["image"].startswith("nginx:"):
                continue
            images.add(container["image"])
            assert pod["securityContext"]["runAsUser"] == int(uid), name
    assert len(images) == 1, images


# ---- nginx, the endpoints ---------------------------------------------------------------


def test_nginx_conf_is_the_topologys_for_composes_hosts(capsys):
    services = container_topology("t").services()
    hosts = {
        kind: [f"{s.name}:{s.port}" for s in services if kind_of(s) == kind]
        for kind in ("rasa", "actions")
    }
    assert all(
        name in compose()["services"]
        for name in [h.split(":")[0] for h in hosts["rasa"] + hosts["actions"]]
    )
    arguments = ["nginx", "--rasa", *hosts["rasa"], "--actions", *hosts["actions"]]
    topology.main(arguments)
    generated = capsys.readouterr().out
    command = f"{NGINX_PREFIX} {' '.join(arguments[1:])} > deploy/nginx.conf"
    assert (DEPLOY / "nginx.conf").read_bytes() == generated.encode(), (
        f"deploy/nginx.conf is not what bot/topology.py makes; regenerate it:\n  {command}"
    )
    assert command in (DEPLOY / "README.md").read_text(), "deploy/README.md's command"


def test_the_containers_read_the_deployed_endpoints():
    endpoints = ENDPOINTS.read_text()
    variables = set(re.findall(r"\$\{([A-Z_]+)\}", endpoints))
    assert variables and variables <= set(container_topology("t").rasa_environment())
    rasa = [s for s in container_topology("t").services() if kind_of(s) == "rasa"]
    for program in [compose()["services"][s.name]["command"] for s in rasa] + [
        k8s_program(only_container(workload("rasa")))
    ]:
        path = program[program.index("--endpoints") + 1]
        assert path.startswith(f"{APP}/")
        assert ROOT / path[len(APP) + 1 :] == ENDPOINTS


# ---- the image --------------------------------------------------------------------------


def dockerfile_instructions() -> List[Tuple[str, str]]:
    """(INSTRUCTION, its text with continuations joined) of the Dockerfile's last stage."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [
        tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")
    ]
    last = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return [(word, rest) for word, rest in instructions[last:]]


def makefile_install_steps() -> List[str]:
    """The `$(PY) -m ...` commands of the Makefile's install recipe ($(STAMP))."""
    recipe = re.search(
        r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M
    ).group(1)
    return re.findall(r"\$\(PY\) (-m [^#\n]+?)\s*(?:#.*)?$", recipe, re.M)


def test_the_image_installs_heard_as_the_makefile_does():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.10-slim-bookworm")
    runs = " && ".join(rest for word, rest in instructions if word == "RUN")
    steps = makefile_install_steps()
    assert steps, "the Makefile's install recipe"
    for step in steps:
        step = step.replace("--quiet ", "")
        if "-e " in step:  # the project itself: the same constraints, not the [test] extra
            constraints = re.search(r"-c (\S+)", step).group(1)
            assert f"python -m pip install -c {constraints} -e . " in f"{runs} "
            assert (ROOT / constraints).is_file()
        else:
            assert f"python {step}" in runs, f"the image does not run `{step}`"
    assert "[test]" not in runs
    assert ("WORKDIR", APP) in instructions
    assert "python -m bot train" in runs, "the image carries its model"


def test_the_image_has_the_packages_and_ports_heard_needs():
    instructions = dockerfile_instructions()
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    install = re.search(r"apt-get install ([^&]+)", runs).group(1).split()
    assert {"espeak-ng", "libespeak-ng1"} <= set(install)
    exposed = {
        int(port) for word, rest in instructions if word == "EXPOSE" for port in rest.split()
    }
    assert exposed == {s.port for s in container_topology("t").services()}
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] == image_uid() != "0"
    environment = " ".join(rest for word, rest in instructions if word == "ENV")
    assert "RASA_TELEMETRY_ENABLED=false" in environment


def dockerignore_patterns() -> List[Tuple[bool, re.Pattern]]:
    """(excludes, regex) of each .dockerignore line, matched as Docker does: relative to
    the project, `**` for any number of folders, `*` and `?` within one name."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, re.escape(part)
            )
        patterns.append((excludes, re.compile(regex)))
    return patterns


def left_out(path: str, patterns: List[Tuple[bool, re.Pattern]]) -> bool:
    parts = path.split("/")
    excluded = False
    for excludes, regex in patterns:  # the last matching line decides
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = excludes
    return excluded


def test_dockerignore_leaves_out_what_git_ignores_and_no_project_file():
    patterns = dockerignore_patterns()
    samples = [".git/HEAD", "deploy/.env", "datasets/goemotions/train.tsv"]
    for line in (ROOT / ".gitignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = line.rstrip("/").replace("*", "x")
        samples.append(f"{name}/inside" if line.endswith("/") else name)
        if "/" not in line.rstrip("/"):  # .gitignore: at any depth
            samples.append(f"web/{samples[-1]}")
    kept = [path for path in samples if not left_out(path, patterns)]
    assert not kept, f".dockerignore lets these into the image: {kept}"

    needed = [
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "config.yml",
        "domain.yml",
        "credentials.yml",
        "endpoints.yml",
        "deploy/endpoints.yml",
    ]
    for folder in ("actions", "bot", "data", "heard", "nlu", "rasa_seam", "store", "voice", "web"):
        needed += [
            str(path.relative_to(ROOT))
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
            and not {"__pycache__", "node_modules"} & set(path.parts)
            and path.suffix != ".pyc"
        ]
    missing = [path for path in needed if left_out(path, patterns)]
    assert not missing, f".dockerignore leaves these out of the image: {missing[:10]}"
