"""A turn: Rasa's `MessageProcessor.handle_message` (inside Rasa's per-conversation lock),
mirrored step by step, with Heard's guards and the frustration score.

- A message longer than the limit is not parsed or stored; the customer is asked for the
  main point (`utter_message_too_long`).
- A message whose id is already in the conversation (a client's or a load balancer's
  retry) is not processed again: the replies it got are sent again.
- When the action server can't be reached even after brief retries
  (`rasa_seam.action_server`), the turn is dropped whole (nothing stored, so a retry is
  stored once) and the customer gets `utter_actions_unavailable` plus a custom payload
  `{"heard_error": ...}` that the REST channel turns into 503 and the widget can tell apart.
- The conversation's frustration score is updated in the turn itself, from the session's
  customer messages (`actions/frustration.py`), not by a call to the action server on
  every message.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions import frustration
from heard.contract import FRUSTRATION
from heard.limits import max_message_chars
from rasa_seam.action_server import ActionServerUnavailable, in_turn
from rasa_seam.tracker_sessions import this_session

logger = logging.getLogger(__name__)

ACTIONS_UNAVAILABLE = {"heard_error": "actions_unavailable", "retry_after": 30}


async def _utter(
    processor: MessageProcessor,
    response: str,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
) -> None:
    tracker = tracker or DialogueStateTracker(message.sender_id, processor.domain.slots)
    output = message.output_channel
    rendered = await processor.nlg.generate(response, tracker, output.name())
    if rendered:
        await output.send_response(message.sender_id, rendered)


def replies_to(events: List[Any], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """What Heard said after the user message with this id, or None if there is none."""
    replies: Optional[List[Dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append(
                {"text": event.text, **{key: value for key, value in event.data.items() if value}}
            )
    return replies


def frustration_after_message(tracker: DialogueStateTracker) -> SlotSet:
    said = [e.as_dict() for e in this_session(tracker) if isinstance(e, UserUttered)]
    previous = float(tracker.get_slot(FRUSTRATION) or 0.0)
    return SlotSet(FRUSTRATION, frustration.after_message(previous, said))


async def _drop_turn(
    processor: MessageProcessor, message: UserMessage, tracker: Optional[DialogueStateTracker]
) -> None:
    logger.warning(
        "heard.turn.dropped reason=action_server_unreachable conversation=%s", message.sender_id
    )
    output = message.output_channel
    if isinstance(output, CollectingOutputChannel) and isinstance(output.messages, list):
        output.messages.clear()  # half a turn's replies would contradict the apology
    await _utter(processor, "utter_actions_unavailable", message, tracker)
    await output.send_custom_json(message.sender_id, dict(ACTIONS_UNAVAILABLE))


async def handle_message(
    self: MessageProcessor, message: UserMessage
) -> Optional[List[Dict[str, Any]]]:
    """Rasa's `handle_message` (mirrored step by step) with the guards above."""
    limit = max_message_chars()
    if message.text and len(message.text) > limit:
        logger.warning(
            "heard.message.too_long conversation=%s characters=%d",
            message.sender_id,
            len(message.text),
        )
        await _utter(self, "utter_message_too_long", message)
    else:
        token = in_turn.set(True)
        tracker = None
        try:
            tracker = await self.fetch_tracker_and_update_session(
                message.sender_id, message.output_channel, message.metadata
            )
            earlier = replies_to(tracker.events, message.message_id)
            if earlier is not None:
                logger.info("heard.message.repeated conversation=%s", message.sender_id)
                for reply in earlier:
                    await message.output_channel.send_response(message.sender_id, reply)
            else:
                await self._handle_message_with_tracker(message, tracker)
                tracker.update(frustration_after_message(tracker))
                tracker = await self.run_action_extract_slots(message.output_channel, tracker)
                await self._run_prediction_loop(message.output_channel, tracker)
                await self.run_anonymization_pipeline(tracker)
                await self.save_tracker(tracker)
        except ActionServerUnavailable:
            await _drop_turn(self, message, tracker)
        finally:
            in_turn.reset(token)
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


def install() -> None:
    MessageProcessor.handle_message = handle_message
