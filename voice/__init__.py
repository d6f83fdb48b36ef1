"""Heard's voice layer: audio helpers, speech to text (Vosk) and text to speech (pyttsx3).

Nothing heavy happens at import: models and engines load when first used.
"""
