"""Rasa's command line, the `rasa` program (`rasa.__main__:main`), run in this process so
that Heard's changes are installed first."""

from __future__ import annotations

import sys

from rasa.__main__ import main


def run() -> None:
    """Rasa's `rasa` program with this process's arguments (`sys.argv[1:]`)."""
    sys.argv[0] = "rasa"  # Rasa's usage and error lines name the program
    main()
