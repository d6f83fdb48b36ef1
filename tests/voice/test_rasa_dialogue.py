"""What Heard's answers become on a call: spoken choices, hints and the handoff signal."""

import asyncio

from voice.rasa_dialogue import VoiceOutput, pick_prompt


def collect(*messages):
    output = VoiceOutput("You can say {choices}.")
    for message in messages:
        asyncio.run(output.send_response("caller", dict(message)))
    return output.turn


def test_buttons_are_read_as_choices_and_hint_the_recogniser():
    turn = collect(
        {
            "text": "Shall I cancel order 1234567?",
            "buttons": [
                {"title": "Yes, cancel it", "payload": "yes"},
                {"title": "No, keep it", "payload": "no"},
            ],
        }
    )
    assert turn.texts == [
        "Shall I cancel order 1234567? You can say Yes, cancel it or No, keep it."
    ]
    assert turn.expect == "yes_no"


def test_voice_hints_and_the_handoff_signal_are_picked_up():
    turn = collect(
        {"text": "What's your order number?", "custom": {"voice": {"expect": "digits"}}},
        {"custom": {"handoff": {"reference": "H-1", "step": "transfer"}}},
        {"custom": {"voice": {"expect": "sing"}}},
    )  # unknown hints are ignored
    assert turn.texts == ["What's your order number?"]
    assert turn.expect == "digits"
    assert turn.handoff == {"reference": "H-1", "step": "transfer"}


def test_pictures_are_not_read_out():
    turn = collect({"text": "Here is the label.", "image": "https://example.com/label.png"})
    assert turn.texts == ["Here is the label."]


def test_prompts_prefer_voice_variants_and_rotate():
    variations = [
        {"text": "Written one."},
        {"channel": "voice", "text": "Spoken one."},
        {"channel": "voice", "text": "Spoken two."},
        {"channel": "socketio", "text": "x"},
    ]
    assert [pick_prompt(variations, n) for n in range(3)] == [
        "Spoken one.",
        "Spoken two.",
        "Spoken one.",
    ]
    assert pick_prompt([{"text": "Only written."}], 5) == "Only written."
    assert pick_prompt([], 0) is None
