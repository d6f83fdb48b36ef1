"""Where the project is: every module that finds a file beside the code starts here."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
