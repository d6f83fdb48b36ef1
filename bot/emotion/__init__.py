"""Emotion and intensity detection for every customer message (spaCy, in-process)."""
