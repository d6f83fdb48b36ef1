"""The base of Heard's actions, and the shop database they share in the action server."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Context
from actions.escalation import escalation_for, hand_over
from store.repository import Repository

logger = logging.getLogger(__name__)
_repository: Optional[Repository] = None


def shared_repository() -> Repository:
    """One engine per action-server process, made on first use (never at import)."""
    global _repository
    if _repository is None:
        _repository = Repository.from_env()
    return _repository


class HeardAction(Action, ABC):
    """Base of Heard's actions: escalation check, then the action's own `handle`.

    Database work runs in a worker thread so the action server's event loop stays free.
    """

    acknowledges = True  # say the emotion acknowledgement before handling

    def __init__(self, repo: Optional[Repository] = None):
        self._repo = repo

    @property
    def repo(self) -> Repository:
        return self._repo or shared_repository()

    @abstractmethod
    def handle(self, ctx: Context) -> None:
        """The action's own work, after the escalation check and acknowledgement."""

    def _run(self, ctx: Context) -> None:
        reason = escalation_for(ctx)
        if reason:
            hand_over(ctx, reason)
            return
        if self.acknowledges:
            ctx.acknowledge()
        self.handle(ctx)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        ctx = Context(dispatcher, tracker, domain, self.repo)
        try:
            await asyncio.to_thread(self._run, ctx)
        except Exception:  # a failure must never reach the customer as a crash
            logger.exception(
                "actions.failed action=%s conversation=%s", self.name(), tracker.sender_id
            )
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        return ctx.events
