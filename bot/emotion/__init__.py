"""Emotion and intensity detection for every customer message (scikit-learn, in-process)."""
