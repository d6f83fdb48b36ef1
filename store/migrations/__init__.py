"""Alembic's scripts for the shop database (run them with `python -m store migrate`)."""
