"""Rasa input channels that carry calls: Twilio Media Streams and browser audio."""
