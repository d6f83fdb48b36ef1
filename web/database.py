"""The shop database as the web side uses it: one engine per process, short sessions."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    session = Session(bind=engine, expire_on_commit=False, future=True)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
