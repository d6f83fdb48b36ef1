"""Rasa's project validation, `rasa data validate --fail-on-warnings`, with what it finds
returned instead of printed.

Rasa 3.6 reports its findings as Python warnings and story conflicts as log warnings, and
exits 0 for some of them even with `--fail-on-warnings` (a response used nowhere): what
counts as a problem is Heard's decision (`bot/data_validation.py`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

# Raised by the libraries Rasa imports, not about the project's data.
NOT_ABOUT_THE_DATA: Tuple[type, ...] = (DeprecationWarning, PendingDeprecationWarning)


@dataclass(frozen=True)
class Findings:
    messages: List[str]  # every warning Rasa raised about the project, in order
    failed: bool  # Rasa's own verdict: "Project validation completed with errors."


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def findings(root: Path) -> Findings:
    """Validates `root`'s config.yml, domain.yml and data/ as `rasa data validate` does
    from `root` (`rasa.cli.data._build_training_data_importer`, `rasa.cli.utils
    .validate_files`), the project's importers included."""
    from rasa.cli.utils import validate_files
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS  # those Rasa's own command hides

    conflicts = _Collect()  # story conflicts are logged by the validator, not warned
    validator_log = logging.getLogger("rasa.validator")
    validator_log.addHandler(conflicts)
    propagates, validator_log.propagate = validator_log.propagate, False
    failed = False
    try:
        with (  # Rasa's verdict goes to stdout, its progress bars to stderr
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("always")
            importer = TrainingDataImporter.load_from_config(
                config_path=str(root / "config.yml"),
                domain_path=str(root / "domain.yml"),
                training_data_paths=[str(root / "data")],
            )
            try:
                validate_files(True, None, importer)
            except SystemExit:  # Rasa's verdict after its findings, printed to stdout
                failed = True
    finally:
        validator_log.removeHandler(conflicts)
        validator_log.propagate = propagates
    messages = [
        str(w.message)
        for w in caught
        if not issubclass(w.category, NOT_ABOUT_THE_DATA)
        and not any(
            issubclass(w.category, category) and re.match(pattern, str(w.message))
            for category, pattern in EXPECTED_WARNINGS
        )
    ]
    return Findings(messages + conflicts.messages, failed)
