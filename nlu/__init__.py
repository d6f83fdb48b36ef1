"""Heard's own NLU components, loaded by Rasa from config.yml (``nlu.<module>.<Class>``).

Everything under this package runs inside ``rasa train``: bot/training.py fingerprints
every file here, so a change to any of them retrains the model.
"""
