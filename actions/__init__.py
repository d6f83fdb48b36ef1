"""Heard's action server: resolutions over the shop's database, with the empathy policy.

`rasa run actions` imports every module of this package and registers its actions.
"""
