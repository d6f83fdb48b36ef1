"""A call's turns as Rasa conversation turns: the tracker holds the call like any chat."""

from __future__ import annotations

from collections import Counter
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

from heard.contract import VOICE_CHANNEL
from rasa_seam.app import parse_with_metadata
from voice import spoken
from voice.call import BotTurn

GOODBYE_INTENT = "goodbye"


class VoiceOutput(OutputChannel):
    """Collects what Heard says in a turn; buttons become choices read out."""

    def __init__(self, choices: str) -> None:
        self.turn = BotTurn()
        self._choices = choices

    @classmethod
    def name(cls) -> Text:
        return VOICE_CHANNEL

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        self.turn.texts.append(text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: str, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        titles = [str(b.get("title", "")) for b in buttons]
        self.turn.texts.append(spoken.with_choices(text, titles, self._choices))
        self.turn.expect = spoken.expectation(titles) or self.turn.expect

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        voice = json_message.get("voice")
        if isinstance(voice, dict) and voice.get("expect") in spoken.GRAMMARS.keys() | {"email"}:
            self.turn.expect = voice["expect"]
        if isinstance(json_message.get("handoff"), dict):
            self.turn.handoff = json_message["handoff"]

    # Pictures and files can't be heard; the text around them says what matters.
    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        return None

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        return None


def pick_prompt(variations: List[Dict[str, Any]], said_before: int) -> Optional[str]:
    """Voice variants first; repeated prompts rotate so a caller never hears one twice running."""
    voice = [v for v in variations if v.get("channel") == VOICE_CHANNEL and v.get("text")]
    plain = [v for v in variations if not v.get("channel") and v.get("text")]
    usable = voice or plain
    return usable[said_before % len(usable)]["text"] if usable else None


class RasaDialogue:
    """Each caller turn goes through Rasa: NLU (with the voice metadata), then dialogue."""

    def __init__(
        self,
        agent: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        conversation_id: str,
    ) -> None:
        self.agent = agent
        self.on_new_message = on_new_message
        self.conversation_id = conversation_id
        self._said: Counter = Counter()

    def prompt(self, name: str) -> str:
        text = pick_prompt(self.agent.domain.responses.get(name, []), self._said[name])
        self._said[name] += 1
        return text or ""

    async def turn(self, text: str, metadata: Dict[str, Any]) -> BotTurn:
        output = VoiceOutput(self.prompt("utter_voice_choices"))
        # Parsed first so the caller's emotion is known before Heard's reply is voiced.
        parse = await parse_with_metadata(
            self.agent, UserMessage(text, sender_id=self.conversation_id, metadata=metadata)
        )
        await self.on_new_message(
            UserMessage(
                text,
                output,
                self.conversation_id,
                input_channel=VOICE_CHANNEL,
                metadata=metadata,
                parse_data=parse,
            )
        )
        emotion = parse.get("emotion") or {}
        output.turn.emotion = str(emotion.get("name", "neutral"))
        output.turn.intensity = float(emotion.get("intensity", 0.0))
        output.turn.end_call = (parse.get("intent") or {}).get("name") == GOODBYE_INTENT
        return output.turn
