"""Fixtures for voice tests: shared recordings (read in place, never copied)."""
from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SHARED_AUDIO = PROJECT.parent / "shared" / "audio"


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    if not SHARED_AUDIO.is_dir():
        pytest.skip(f"shared recordings not found at {SHARED_AUDIO}")
    return SHARED_AUDIO
