"""Rasa input channels that carry calls: what they all share (`base`), Twilio Media
Streams (`twilio`) and the browser's audio (`browser`)."""
