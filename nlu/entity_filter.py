"""An NLU component that drops extracted entities whose value cannot be what they claim.

A statistical extractor can tag a fragment such as the "ve" of "you've" as an order
number; an order number is 6 to 8 digits and an e-mail address has an @, so such values
are noise.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from heard.contract import EMAIL, ORDER_NUMBER


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class EntityFormatFilter(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # entity -> the whole value must match this pattern
        return {"patterns": {"order_id": ORDER_NUMBER, "email": EMAIL, "rating": r"[1-5]"}}

    def __init__(self, config: Dict[Text, Any]) -> None:
        unknown = set(config) - set(self.get_default_config())
        if unknown:
            raise InvalidConfigException(
                f"EntityFormatFilter: unknown option(s) {sorted(unknown)}; use 'patterns'"
            )
        self._patterns = {name: re.compile(pattern) for name, pattern in config["patterns"].items()}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntityFormatFilter":
        return cls(config)

    def keeps(self, entity: Dict[Text, Any]) -> bool:
        pattern = self._patterns.get(entity.get("entity"))
        return pattern is None or bool(pattern.fullmatch(str(entity.get("value", ""))))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities if self.keeps(e)]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
