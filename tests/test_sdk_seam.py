"""The action server keeps the domain by digest (`heard.domain_digest`, `actions.sdk_seam`)."""

from __future__ import annotations

import asyncio
import hashlib
import inspect

import pytest
from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from actions import sdk_seam
from heard.domain_digest import DIGEST_KEY, UNKNOWN, Domains, digest

DOMAIN = {"responses": {"utter_greet": [{"text": "Hello"}]}}
OTHER = {"responses": {"utter_greet": [{"text": "Hi"}]}}
# rasa_sdk code the seam relies on: its executor reads `domain` from the call, and its
# webhook answers an ActionExecutionRejection with 400 and the message, which Rasa turns
# back into an ActionExecutionRejection. A change must be read before these are updated.
PINNED = {
    "run": (ActionExecutor.run, "e7b927646292849f"),
    "create_app": (endpoint.create_app, "4f0ea292cb96d1f8"),
}


@pytest.mark.parametrize("name", PINNED)
def test_the_rasa_sdk_code_relied_on_is_unchanged(name):
    function, expected = PINNED[name]
    original = sdk_seam._original.get(name, function)
    assert hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16] == expected


def test_a_domain_sent_once_is_put_back_by_its_digest():
    domains = Domains()
    assert domains.fill({"domain": DOMAIN, DIGEST_KEY: digest(DOMAIN)})
    call = {DIGEST_KEY: digest(DOMAIN)}
    assert domains.fill(call) and call["domain"] == DOMAIN


def test_an_unknown_digest_is_refused_and_a_plain_call_passes():
    domains = Domains()
    assert not domains.fill({DIGEST_KEY: digest(DOMAIN)})
    assert domains.fill({"next_action": "action_x"})  # Rasa's own call, no digest


def test_only_the_latest_domains_are_kept():
    domains = Domains(keep=1)
    domains.fill({"domain": DOMAIN, DIGEST_KEY: digest(DOMAIN)})
    domains.fill({"domain": OTHER, DIGEST_KEY: digest(OTHER)})
    assert not domains.fill({DIGEST_KEY: digest(DOMAIN)})
    assert domains.fill({DIGEST_KEY: digest(OTHER)})


def test_digests_differ_for_different_domains_and_ignore_key_order():
    assert digest(DOMAIN) != digest(OTHER)
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})


def test_the_executor_runs_an_action_with_the_remembered_domain(monkeypatch):
    seen = []

    async def original(self, call):
        seen.append(call["domain"])
        return {"events": [], "responses": []}

    monkeypatch.setitem(sdk_seam._original, "run", original)
    monkeypatch.setattr(sdk_seam, "domains", Domains())
    executor = ActionExecutor()
    asyncio.run(
        sdk_seam.run(executor, {"next_action": "a", "domain": DOMAIN, DIGEST_KEY: digest(DOMAIN)})
    )
    asyncio.run(sdk_seam.run(executor, {"next_action": "a", DIGEST_KEY: digest(DOMAIN)}))
    assert seen == [DOMAIN, DOMAIN]
    with pytest.raises(ActionExecutionRejection) as rejected:
        asyncio.run(sdk_seam.run(executor, {"next_action": "a", DIGEST_KEY: digest(OTHER)}))
    assert rejected.value.message == UNKNOWN


def test_a_domain_is_kept_only_under_its_own_digest():
    domains = Domains()
    assert domains.fill({"domain": OTHER, DIGEST_KEY: digest(DOMAIN)})  # runs with its own
    assert not domains.fill({DIGEST_KEY: digest(DOMAIN)})  # but poisons nothing


def test_the_digest_survives_the_trip_as_json():
    """The Rasa server digests the domain it sends; the action server, what it received."""
    import json

    from tests.harness import domain

    sent = domain()
    assert digest(json.loads(json.dumps(sent))) == digest(sent)


def test_the_action_server_has_health_routes_and_readiness_checks_the_database(
    monkeypatch, tmp_path
):
    import sqlalchemy as sa
    from rasa_sdk import endpoint

    from bot.servers import free_port

    monkeypatch.setattr(endpoint, "create_app", endpoint.create_app)  # restored after
    sdk_seam.install()
    paths = {route.path for route in endpoint.create_app("actions").router.routes}
    assert {"health/live", "health/ready"} <= paths
    assert sdk_seam.readiness_problems(sa.create_engine(f"sqlite:///{tmp_path}/x.db")) == []
    gone = sa.create_engine(f"postgresql://heard@127.0.0.1:{free_port()}/heard")
    assert sdk_seam.readiness_problems(gone) == [
        "the shop database does not answer (OperationalError)"
    ]
