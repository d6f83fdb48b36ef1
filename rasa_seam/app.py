"""Where Rasa's server keeps what its routes share: on the Sanic app's `ctx`, the agent
(`rasa.server.create_app` puts it there, `rasa.core.run.load_agent_on_start` replaces it
with the loaded model) and the input channels (`rasa.core.channels.channel.register`).
Heard's routes read them through here only. Also the one parse that carries a message's
metadata (a call's voice cues), which `Agent.parse_message` (text only) cannot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

if TYPE_CHECKING:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import InputChannel, UserMessage

AGENT = "agent"
INPUT_CHANNELS = "input_channels"


def agent_of(app: Any) -> Agent:
    """The agent of Rasa's server `app`: its model, tracker store and lock store."""
    agent = getattr(app.ctx, AGENT, None)
    if agent is None:
        raise LookupError("Rasa's server has not made its agent yet")
    return agent


def input_channels_of(app: Any) -> List[InputChannel]:
    """The input channels Rasa's server `app` serves ([] when it serves none)."""
    return list(getattr(app.ctx, INPUT_CHANNELS, None) or [])


async def parse_with_metadata(agent: Agent, message: UserMessage) -> Dict[str, Any]:
    """The NLU's reading of `message`, its metadata included, through the agent's processor
    (the parse Rasa itself makes for a turn, with the seam's limits)."""
    if agent.processor is None:
        raise LookupError("the agent has no model loaded")
    return await agent.processor.parse_message(message)
