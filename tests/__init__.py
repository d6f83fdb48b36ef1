"""Heard's tests: fixtures in conftest.py, helpers imported as tests.<module>."""
