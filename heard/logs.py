"""Log lines without personal data and of bounded length, whoever logs them.

Installed as the logging module's record factory, so it covers Rasa's, Sanic's and Heard's
loggers alike and survives the handlers Rasa and rasa_sdk set up. E-mail addresses and
order numbers (any standalone run of 6 or more digits, so card numbers too) become
placeholders; a message or traceback longer than the limit is cut, saying how much
was left out. `HEARD_LOG_PERSONAL_DATA=1` keeps the values (for debugging on a developer's
machine only); the length limit always applies.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Mapping, Optional

from heard import settings
from heard.formats import EMAIL_RE

MAX_MESSAGE_CHARS = 1_000
MAX_TRACEBACK_CHARS = 4_000
# A standalone run of 6+ digits: order numbers, card numbers; not the digits inside ids
# such as a CallSid or a UUID, which logs need to follow a conversation.
_DIGITS = re.compile(r"(?<![\w-])\d{6,}(?![\w-])")


def redact(text: str) -> str:
    return _DIGITS.sub("<number>", EMAIL_RE.sub("<email>", text))


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters left out]"


def _record_class(keep_personal_data: bool) -> type:
    def clean(text: str, limit: int) -> str:
        text = clip(text, 2 * limit)  # redaction stays linear in what is kept
        return clip(text if keep_personal_data else redact(text), limit)

    class CleanLogRecord(logging.LogRecord):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            if self.exc_info and self.exc_info[0] is not None:
                # Formatters use exc_text when it is set: the traceback is cleaned once here.
                self.exc_text = clean(
                    "".join(traceback.format_exception(*self.exc_info)), MAX_TRACEBACK_CHARS
                ).rstrip("\n")

        def getMessage(self) -> str:
            return clean(super().getMessage(), MAX_MESSAGE_CHARS)

    return CleanLogRecord


def install(environ: Optional[Mapping[str, str]] = None) -> None:
    """Every log record created from now on in this process is cleaned."""
    try:
        keep_personal_data = settings.read("HEARD_LOG_PERSONAL_DATA", environ)
    except ValueError:  # the server's start refuses it; until then nothing personal is logged
        keep_personal_data = False
    logging.setLogRecordFactory(_record_class(keep_personal_data))
