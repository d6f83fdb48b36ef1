"""The seven emotions Heard tells apart, and how GoEmotions' 28 labels map onto them."""

from heard.contract import EMOTIONS

LABELS = EMOTIONS  # in the contract: the actions, the console and the dashboard read them too

# The reference mapping of ../shared/data/README.md; labels absent here drop the row.
GOEMOTIONS_TO_HEARD = {
    "anger": "anger",
    "disgust": "anger",
    "annoyance": "frustration",
    "disapproval": "frustration",
    "sadness": "sadness",
    "disappointment": "sadness",
    "grief": "sadness",
    "remorse": "sadness",
    "fear": "anxiety",
    "nervousness": "anxiety",
    "confusion": "confusion",
    "joy": "joy",
    "gratitude": "joy",
    "admiration": "joy",
    "amusement": "joy",
    "approval": "joy",
    "caring": "joy",
    "excitement": "joy",
    "love": "joy",
    "optimism": "joy",
    "pride": "joy",
    "relief": "joy",
    "neutral": "neutral",
}
