"""SQLAlchemy models and the repository actions use to reach them."""
