"""The Rasa code `rasa_seam.lock_store` overrides or works inside: its behaviour is tested in
tests/test_lock_store.py; here, that it still fits the pinned Rasa."""

from __future__ import annotations

import inspect

import pytest
import yaml
from rasa.core import lock_store as rasa_lock_store
from rasa.core.agent import Agent
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.shared.utils.common import class_from_module_path

from bot.cluster import LOCK_STORE
from bot.topology import ENDPOINTS
from rasa_seam.lock_store import AtomicRedisLockStore
from tests.rasa_source import digest

OVERRIDDEN = ("issue_ticket", "update_lock", "finish_serving", "cleanup", "lock", "_acquire_lock")
# The Rasa code the lock store relies on: the attributes Rasa's __init__ sets (set here
# too, from a URL), the keys get_lock reads, how endpoints.yml's type is made, the lock
# and ticket format it changes from inside, and Rasa's own lock, which it replaces.
RELIED_ON = {
    RedisLockStore.__init__: "829e898a8cddff8d",
    RedisLockStore._set_key_prefix: "0c3fe826bd851b02",
    RedisLockStore.get_lock: "57d7f8558543450d",
    LockStore.create_lock: "053eef8542dc5bf8",
    LockStore.lock: "8b9b716c031a3444",
    LockStore._acquire_lock: "ead2fff373291c24",
    rasa_lock_store._load_from_module_name_in_endpoint_config: "5479347bbb2762be",
    TicketLock: "2cd46225330fb0ca",
    Ticket: "55773046940aa2b4",
}


@pytest.mark.parametrize("name", OVERRIDDEN)
def test_each_overridden_method_is_rasas_with_its_parameters(name):
    ours, rasas = getattr(AtomicRedisLockStore, name), getattr(RedisLockStore, name)
    assert rasas is not ours
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(rasas).parameters)


@pytest.mark.parametrize("code, expected", RELIED_ON.items())
def test_the_rasa_code_the_lock_store_relies_on_is_unchanged(code, expected):
    assert digest(code) == expected


def test_rasa_takes_each_turn_inside_the_lock():
    assert "async with self.lock_store.lock(message.sender_id):" in inspect.getsource(
        Agent.handle_message
    )


def test_the_endpoints_and_the_cluster_name_this_lock_store():
    assert class_from_module_path(LOCK_STORE) is AtomicRedisLockStore
    assert yaml.safe_load(ENDPOINTS.read_text())["lock_store"]["type"] == LOCK_STORE
