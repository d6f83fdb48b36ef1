"""The customer asks for a person: `action_handoff`."""

from __future__ import annotations

from actions.base import HeardAction
from actions.context import Context
from actions.escalation import hand_over


class ActionHandoff(HeardAction):
    acknowledges = False

    def name(self) -> str:
        return "action_handoff"

    def handle(self, ctx: Context) -> None:
        hand_over(ctx, "customer_request")
