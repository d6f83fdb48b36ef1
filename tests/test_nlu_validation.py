"""The threshold tuning of bench/nlu_validation.py: Rasa's fallback rule and the costs."""

from __future__ import annotations

import numpy as np

from bench.nlu_validation import FALLBACK, decide, noise_messages, offer_gain, utility

LABELS = np.array(["get_refund", "out_of_scope", "track_order"])


def test_decide_mirrors_rasas_fallback_classifier():
    probs = np.array(
        [
            [0.7, 0.1, 0.2],  # clear
            [0.3, 0.3, 0.4],  # top below the threshold
            [0.46, 0.1, 0.44],
        ]
    )  # top two too close
    assert list(decide(probs, LABELS, threshold=0.45, ambiguity=0.05)) == [
        "get_refund",
        FALLBACK,
        FALLBACK,
    ]
    assert list(decide(probs, LABELS, threshold=0.0, ambiguity=0.0)) == [
        "get_refund",
        "track_order",
        "get_refund",
    ]


def test_a_wrong_intent_costs_more_than_a_fallback():
    gold = np.array(["get_refund", "track_order"])
    assert utility(gold, np.array(["get_refund", FALLBACK])) == 0.5
    assert utility(gold, np.array(["get_refund", "get_refund"])) == 0.0


def test_offering_counts_only_offerable_pairs_above_the_floor():
    gold = np.array(["get_refund", "track_order", "get_refund"])
    probs = np.array([[0.3, 0.1, 0.25], [0.3, 0.1, 0.25], [0.05, 0.9, 0.05]])
    fell_back = np.array([True, True, True])
    offerable = {"get_refund", "track_order"}
    assert offer_gain(gold, probs, LABELS, fell_back, 0.5, offerable) == (2, 0)
    assert offer_gain(gold, probs, LABELS, fell_back, 0.6, offerable) == (0, 0)


def test_noise_is_seeded_and_short():
    first, again = noise_messages(50, seed=3), noise_messages(50, seed=3)
    assert first == again and first != noise_messages(50, seed=4)
    assert all(1 <= len(text.split()) <= 4 for text in first)


def test_confirm_threshold_is_the_lowest_that_keeps_unasked_writes_right():
    from bench.nlu_validation import confirm_threshold

    gold = np.array(["get_refund", "track_order", "get_refund", "get_refund"])
    predicted = np.array(["get_refund", "get_refund", "get_refund", "track_order"])
    probs = np.array(
        [[0.9, 0.05, 0.05], [0.3, 0.25, 0.45], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]]
    )  # the top of row 2 is another label's: 0.45
    t, right, asked = confirm_threshold(gold, probs, predicted, ["get_refund"], 0.95)
    assert t == 0.5  # below it the wrong refund (read at 0.45) would be made unasked
    assert right == 1.0 and asked == 0.0
