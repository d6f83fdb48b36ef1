"""Rasa's Redis lock store, made safe for replicas: atomic tickets and renewed leases.

A conversation's turns must run one at a time, whichever replica receives them. Rasa 3.6's
`RedisLockStore` keeps each conversation's ticket queue as one JSON value and changes it
with a plain GET, an edit in Python and a SET. Two replicas issuing a ticket at the same
moment both get the same number and run their turns at once; the tracker store then keeps
one turn's events and drops the other's (the turns lost with Rasa's Redis lock). A replica
finishing its ticket can likewise delete a ticket another replica just added. Here every
change to the queue is a WATCH/MULTI transaction, retried when another writer got there
first.

Rasa's tickets expire 60 s after they are issued, whatever happens: a replica killed
mid-turn blocks its conversations for a minute, and a turn slower than that overlaps the
next one. Here a ticket is a lease of `lease_seconds` that its server renews every third of
that while it waits or works: a dead server frees the conversation within one lease, and a
live one never loses its turn. Waiting polls every `poll_seconds`, not Rasa's 1 s.

It keeps Rasa's keys and lock format (`RedisLockStore.get_lock` reads them) and works on
Rasa's `TicketLock` from inside; `tests/test_rasa_seam_lock_store.py` pins both.

endpoints.yml:
    lock_store:
      type: rasa_seam.lock_store.AtomicRedisLockStore
      url: ${REDIS_URL}        # redis://host:port/db
      key_prefix: heard        # optional, letters and digits
      lease_seconds: 10        # optional
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import AsyncGenerator, Callable, Optional, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from heard import redis_client

logger = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_POLL_SECONDS = 0.05


class AtomicRedisLockStore(RedisLockStore):
    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        *,
        url: Optional[str] = None,
        key_prefix: Optional[str] = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        url = url or (endpoint_config.url if endpoint_config is not None else None)
        if not url or "://" not in url:
            raise ValueError("the lock store needs url: redis://host:port/db (e.g. ${REDIS_URL})")
        # What Rasa's __init__ sets (it makes its client from host, port...: this one has a URL).
        self.red = redis_client.client(url)
        self.key_prefix = DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
        prefix = options.get("key_prefix", key_prefix)
        if prefix:
            self._set_key_prefix(str(prefix))
        self.lease_seconds = float(options.get("lease_seconds", lease_seconds))
        self.poll_seconds = float(options.get("poll_seconds", poll_seconds))
        if not (0 < self.poll_seconds < self.lease_seconds):
            raise ValueError("the lock store needs 0 < poll_seconds < lease_seconds")

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Applies `change` to the conversation's lock (made if missing) atomically and
        saves it, or deletes the lock when no ticket is left; returns what `change` does."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = (
                        TicketLock.from_dict(json.loads(stored))
                        if stored
                        else self.create_lock(conversation_id)
                    )
                    result = change(lock)
                    lock.remove_expired_tickets()
                    pipe.multi()
                    if lock.tickets:
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another replica changed this lock: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 0) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(self.lease_seconds))
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def renew(self, conversation_id: str, ticket_number: int) -> bool:
        """Extends ticket `ticket_number` by one lease; False when it is gone (expired)."""

        def extend(lock: TicketLock) -> bool:
            ticket = lock._ticket_for_ticket_number(ticket_number)
            if ticket is None:
                return False
            ticket.expires = time.time() + self.lease_seconds
            return True

        return self._change(conversation_id, extend)

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: None)  # drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)  # deletes the lock when empty

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, with the lease renewed until the turn is over."""
        ticket = self.issue_ticket(conversation_id)
        renewal = asyncio.ensure_future(self._keep_renewing(conversation_id, ticket))
        try:
            yield await self._acquire_lock(conversation_id, ticket, self.poll_seconds)
        finally:
            renewal.cancel()
            self.cleanup(conversation_id, ticket)

    async def _keep_renewing(self, conversation_id: str, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                alive = self.renew(conversation_id, ticket)
            except redis.RedisError as error:  # the next renewal may get through
                logger.warning("heard.lock.renew_failed error=%s", type(error).__name__)
                continue
            if not alive:
                logger.error(
                    "heard.lock.lease_lost conversation=%s ticket=%d", conversation_id, ticket
                )
                return

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or lock._ticket_for_ticket_number(ticket) is None:
                raise LockError(f"lost the ticket for conversation '{conversation_id}'")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
