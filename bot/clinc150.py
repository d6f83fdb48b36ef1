"""CLINC150 requests as `out_of_scope` training examples, read at training time.

A Rasa training data importer (config.yml, `importers:`, next to Rasa's `RasaFileImporter`,
which still reads data/). It adds a bounded, seeded sample of CLINC150's *train* split, only
from the intents reviewed below as out of scope for an online shop's customer service, plus
its `oos_train` rows. The `val` and `test` splits are never read here: they are for tuning and
evaluation. The data set stays outside git: `heard.datasets.clinc150_file()` (the
`HEARD_DATA_DIR` setting; `python -m bot.datasets download` fetches it). Without the file,
training goes on with data/ alone and one log line says so.

Every one of the 150 intents is in `REVIEWED`. `OUT` intents are requests that are not the
shop's business; `OVERLAP` intents are ones a shop customer could mean (or that Heard's own
intents already cover), so they are never labelled out of scope: they are left out entirely.
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any, Dict, Iterable, List, Optional, Set, Text, Union

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu_importer import NluOnlyImporter
from heard import datasets

logger = logging.getLogger(__name__)

OUT, OVERLAP = "out of scope", "overlaps the shop"
INTENT = "out_of_scope"
EXAMPLES_PER_INTENT = 10  # from each OUT intent's train rows: 108 x 10 = 1,080
OOS_EXAMPLES = 100  # from oos_train (all 100 of the official file)
RANDOM_SEED = 42

REVIEWED: Dict[str, str] = {
    # banking: a bank's own business (routing numbers, PINs, transfers, interest, cheques).
    "routing": OUT,
    "pin_change": OUT,
    "interest_rate": OUT,
    "transfer": OUT,
    "order_checks": OUT,
    # banking worded like questions about the shop's bills, charges and the customer's
    # account ("pay my bill", "what was my last transaction", "why is my account blocked",
    # "how much have I spent", a suspicious charge, "what's my balance" for store credit).
    "pay_bill": OVERLAP,
    "bill_balance": OVERLAP,
    "bill_due": OVERLAP,
    "min_payment": OVERLAP,
    "transactions": OVERLAP,
    "spending_history": OVERLAP,
    "report_fraud": OVERLAP,
    "freeze_account": OVERLAP,
    "account_blocked": OVERLAP,
    "balance": OVERLAP,
    # credit cards: the card issuer's business (limits, APR, credit score, applications).
    "expiration_date": OUT,
    "improve_credit_score": OUT,
    "report_lost_card": OUT,
    "credit_limit_change": OUT,
    "apr": OUT,
    "credit_limit": OUT,
    "application_status": OUT,
    "credit_score": OUT,
    "new_card": OUT,
    # credit cards worded like shop payment questions (payment_issue, check_payment_methods),
    # a replacement in the post, or a loyalty programme ("how many points do I have").
    "card_declined": OVERLAP,
    "damaged_card": OVERLAP,
    "replacement_card_duration": OVERLAP,
    "international_fees": OVERLAP,
    "redeem_rewards": OVERLAP,
    "rewards_balance": OVERLAP,
    # kitchen and dining: recipes, food, restaurants and their reservations.
    "food_last": OUT,
    "confirm_reservation": OUT,
    "how_busy": OUT,
    "ingredients_list": OUT,
    "calories": OUT,
    "nutrition_info": OUT,
    "recipe": OUT,
    "restaurant_reviews": OUT,
    "restaurant_reservation": OUT,
    "meal_suggestion": OUT,
    "restaurant_suggestion": OUT,
    "cancel_reservation": OUT,
    "ingredient_substitution": OUT,
    "cook_time": OUT,
    "accept_reservations": OUT,
    # home: music, lists, reminders, calendars, smart devices.
    "what_song": OUT,
    "play_music": OUT,
    "todo_list_update": OUT,
    "reminder": OUT,
    "reminder_update": OUT,
    "calendar_update": OUT,
    "update_playlist": OUT,
    "calendar": OUT,
    "next_song": OUT,
    "todo_list": OUT,
    "smart_home": OUT,
    # home, but the shop's own requests: track_order, place_order, and shopping lists that
    # read like a basket or an order change ("add milk", "remove corn from my list").
    "order_status": OVERLAP,
    "order": OVERLAP,
    "shopping_list": OVERLAP,
    "shopping_list_update": OVERLAP,
    # auto and commute: all of it (cars, fuel, traffic, directions, Uber).
    "current_location": OUT,
    "oil_change_when": OUT,
    "oil_change_how": OUT,
    "uber": OUT,
    "traffic": OUT,
    "tire_pressure": OUT,
    "schedule_maintenance": OUT,
    "gas": OUT,
    "mpg": OUT,
    "distance": OUT,
    "directions": OUT,
    "last_maintenance": OUT,
    "gas_type": OUT,
    "tire_change": OUT,
    "jump_start": OUT,
    # travel: all of it (flights, hotels, visas, luggage, currencies, translation).
    "plug_type": OUT,
    "travel_notification": OUT,
    "translate": OUT,
    "flight_status": OUT,
    "international_visa": OUT,
    "timezone": OUT,
    "exchange_rate": OUT,
    "travel_suggestion": OUT,
    "travel_alert": OUT,
    "vaccines": OUT,
    "lost_luggage": OUT,
    "book_flight": OUT,
    "book_hotel": OUT,
    "carry_on": OUT,
    "car_rental": OUT,
    # utility: all of it (weather, alarms, timers, calls, texts, maths, spelling).
    "weather": OUT,
    "alarm": OUT,
    "date": OUT,
    "find_phone": OUT,
    "share_location": OUT,
    "timer": OUT,
    "make_call": OUT,
    "calculator": OUT,
    "definition": OUT,
    "measurement_conversion": OUT,
    "flip_coin": OUT,
    "spelling": OUT,
    "time": OUT,
    "roll_dice": OUT,
    "text": OUT,
    # work: an employer's business (time off, payroll, benefits, meetings).
    "pto_request_status": OUT,
    "next_holiday": OUT,
    "insurance_change": OUT,
    "insurance": OUT,
    "meeting_schedule": OUT,
    "payday": OUT,
    "income": OUT,
    "rollover_401k": OUT,
    "pto_balance": OUT,
    "pto_request": OUT,
    "w2": OUT,
    "schedule_meeting": OUT,
    "direct_deposit": OUT,
    "pto_used": OUT,
    # work, but "how much tax do I pay" is also asked about an order or an invoice.
    "taxes": OVERLAP,
    # small talk that isn't the shop's business; data/nlu.yml already has "tell me a joke"
    # and "what's the meaning of life" under out_of_scope.
    "meaning_of_life": OUT,
    "do_you_have_pets": OUT,
    "what_are_your_hobbies": OUT,
    "fun_fact": OUT,
    "where_are_you_from": OUT,
    "tell_joke": OUT,
    "how_old_are_you": OUT,
    # small talk Heard answers itself: greet, goodbye, thank_you, bot_challenge, and
    # questions about the assistant (who it is, who runs it, what it can do).
    "greeting": OVERLAP,
    "goodbye": OVERLAP,
    "thank_you": OVERLAP,
    "are_you_a_bot": OVERLAP,
    "who_made_you": OVERLAP,
    "who_do_you_work_for": OVERLAP,
    "what_is_your_name": OVERLAP,
    "what_can_i_ask_you": OVERLAP,
    # meta: device settings of a voice assistant that Heard has no equivalent of.
    "change_ai_name": OUT,
    "reset_settings": OUT,
    # meta that is part of a conversation with Heard: affirm, deny ("cancel that", "stop",
    # "maybe" to a question), the customer's name and language (inform, edit_account), and
    # how Heard talks on a phone call (repeat, slower, louder, voice, hang up).
    "yes": OVERLAP,
    "no": OVERLAP,
    "maybe": OVERLAP,
    "cancel": OVERLAP,
    "user_name": OVERLAP,
    "change_user_name": OVERLAP,
    "change_language": OVERLAP,
    "repeat": OVERLAP,
    "change_speed": OVERLAP,
    "change_volume": OVERLAP,
    "whisper_mode": OVERLAP,
    "change_accent": OVERLAP,
    "sync_device": OVERLAP,
}
OUT_OF_SCOPE = frozenset(intent for intent, decision in REVIEWED.items() if decision == OUT)

_reported: Set[str] = set()  # missing files already logged in this process


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _rows(data: Dict[str, Any], split: str) -> List[List[str]]:
    rows = data.get(split, [])
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and len(row) == 2 and all(isinstance(v, str) for v in row)
        for row in rows
    ):
        raise ValueError(f"'{split}' is not a list of [text, intent] rows")
    return rows


def sample(
    data: Dict[str, Any],
    per_intent: int = EXAMPLES_PER_INTENT,
    oos: int = OOS_EXAMPLES,
    seed: int = RANDOM_SEED,
    exclude: Iterable[str] = (),
) -> List[str]:
    """The texts to label `out_of_scope`: at most `per_intent` train rows of each OUT intent
    and `oos` oos_train rows, drawn with `seed` (the same file gives the same sample). Texts
    in `exclude` (the project's own examples) or also under an OVERLAP or unreviewed intent
    are left out, so no text ever gets two labels."""
    train = _rows(data, "train")
    blocked = {_key(text) for text in exclude}
    blocked |= {_key(text) for text, intent in train if intent not in OUT_OF_SCOPE}
    by_intent: Dict[str, Set[str]] = {}
    for text, intent in train:
        if intent in OUT_OF_SCOPE and _key(text) not in blocked:
            by_intent.setdefault(intent, set()).add(text)
    by_intent["oos"] = {text for text, _ in _rows(data, "oos_train") if _key(text) not in blocked}
    rng = random.Random(seed)
    chosen: List[str] = []
    seen: Set[str] = set()
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        limit = oos if intent == "oos" else per_intent
        for text in rng.sample(texts, min(max(limit, 0), len(texts))):
            if _key(text) not in seen:
                seen.add(_key(text))
                chosen.append(text)
    return chosen


class Clinc150Importer(NluOnlyImporter):
    """Adds reviewed CLINC150 requests as `out_of_scope`; reads nothing else."""

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Union[List[Text], Text]] = None,
        examples_per_intent: int = EXAMPLES_PER_INTENT,
        oos_examples: int = OOS_EXAMPLES,
        random_seed: int = RANDOM_SEED,
    ) -> None:
        super().__init__(training_data_paths)
        self._per_intent = int(examples_per_intent)
        self._oos = int(oos_examples)
        self._seed = int(random_seed)
        self._path = datasets.clinc150_file()
        self._texts: Optional[List[str]] = None

    def texts(self) -> List[str]:
        if self._texts is None:
            self._texts = self._load()
        return self._texts

    def _load(self) -> List[str]:
        if not self._path.is_file():
            if str(self._path) not in _reported:
                _reported.add(str(self._path))
                logger.info(
                    "clinc150: %s not found, training without CLINC150's out-of-scope "
                    "examples (get it with `python -m bot.datasets download`, or set %s)",
                    self._path,
                    datasets.ENV_VAR,
                )
            return []
        data = json.loads(self._path.read_text(encoding="utf-8"))
        project = [m.get("text") for m in self.project_examples() if m.get("text")]
        texts = sample(data, self._per_intent, self._oos, self._seed, project)
        logger.info("clinc150: %d out_of_scope examples from %s", len(texts), self._path)
        return texts

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        if language not in (None, "en"):
            return TrainingData()
        return TrainingData([Message.build(text=text, intent=INTENT) for text in self.texts()])
