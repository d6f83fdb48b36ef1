"""What the console does to a conversation inside the Rasa server: pause Heard, speak as
an agent, resume Heard. The tracker stays the record of everything that was said.

Heard is silenced with Rasa's own `ConversationPaused` event: a paused tracker still logs
(and parses, with emotion) what the customer writes, but predicts no action. Handing back
adds `ConversationResumed` and runs `utter_human_back`, so Heard picks up the conversation
with every slot it had.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from heard.contract import HANDOFF_TURN, agent_metadata, transcript_line
from web.socketio_channel import AGENT_STATUS_EVENT, HeardSocketIOInput

logger = logging.getLogger(__name__)

BACK_RESPONSE = "utter_human_back"


class Conversations:
    def __init__(self, agent: Agent, input_channels: List[InputChannel]):
        self.agent = agent
        self.input_channels = input_channels

    @property
    def _widget(self) -> Optional[HeardSocketIOInput]:
        return next((c for c in self.input_channels if isinstance(c, HeardSocketIOInput)), None)

    async def events(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Every event of the conversation, all sessions; [] when it doesn't exist."""
        tracker = await self.agent.tracker_store.retrieve_full_tracker(conversation_id)
        return [e.as_dict() for e in tracker.events] if tracker else []

    async def _tracker(self, conversation_id: str) -> DialogueStateTracker:
        return await self.agent.tracker_store.get_or_create_tracker(conversation_id)

    async def _push(self, conversation_id: str, event: str, payload: Dict[str, Any]) -> None:
        widget = self._widget
        if widget is not None:
            await widget.push(conversation_id, event, payload)

    async def hand_to_agent(self, conversation_id: str, agent_name: str) -> None:
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self._tracker(conversation_id)
            if not tracker.is_paused():
                tracker.update(ConversationPaused())
                await self.agent.tracker_store.save(tracker)
        await self._push(
            conversation_id, AGENT_STATUS_EVENT, {"status": "joined", "agent": agent_name}
        )
        logger.info("web.conversation.paused conversation=%s", conversation_id)

    async def agent_says(
        self, conversation_id: str, text: str, agent_name: str
    ) -> Optional[Dict[str, Any]]:
        """Records the agent's message in the tracker and sends it to the widget; its
        transcript line."""
        event = BotUttered(text, metadata=agent_metadata(agent_name))
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self._tracker(conversation_id)
            tracker.update(event)
            await self.agent.tracker_store.save(tracker)
        await self._push(
            conversation_id,
            self._widget.bot_message_evt if self._widget else "bot_uttered",
            {"text": text, "sender": "agent", "agent": agent_name},
        )
        logger.info("web.conversation.agent_message conversation=%s", conversation_id)
        return transcript_line(event.as_dict())

    async def hand_back(self, conversation_id: str, agent_name: str) -> None:
        """Heard resumes: it says it is back, and earlier anger doesn't re-escalate."""
        async with self.agent.lock_store.lock(conversation_id):
            tracker = await self._tracker(conversation_id)
            user_turns = sum(
                isinstance(e, UserUttered) for e in tracker.events_after_latest_restart()
            )
            tracker.update(ConversationResumed())
            # Escalation counts the turns since the last handoff (see actions/escalation.py).
            tracker.update(SlotSet(HANDOFF_TURN, float(user_turns)))
            await self.agent.tracker_store.save(tracker)
            await self._push(
                conversation_id, AGENT_STATUS_EVENT, {"status": "left", "agent": agent_name}
            )
            output = self._output_for(tracker)
            for action in (BACK_RESPONSE, ACTION_LISTEN_NAME):  # as the HTTP API's /execute
                await self.agent.execute_action(conversation_id, action, output, None, 1.0)
        logger.info("web.conversation.resumed conversation=%s", conversation_id)

    def _output_for(self, tracker: DialogueStateTracker) -> OutputChannel:
        """The channel the customer last wrote from, as Rasa's trigger_intent picks it."""
        latest = tracker.get_latest_input_channel()
        for channel in self.input_channels:
            if channel.name() == latest:
                output = channel.get_output_channel()
                if output is not None:
                    return output
        return CollectingOutputChannel()
