"""Sanic's error pages are JSON for every route and every client: Sanic guessed HTML for
browsers and for routes whose handler returns files, and answered with its HTML page."""

from __future__ import annotations

from typing import Any

from sanic.errorpages import JSONRenderer, exception_response
from sanic.handlers import ErrorHandler

_original = {"error_page": ErrorHandler.default}  # replaced whole: pinned by the tests


def json_error_page(self: ErrorHandler, request: Any, exception: Exception) -> Any:
    """Sanic's `ErrorHandler.default`, always rendering `{"description", "status",
    "message"}` as JSON (never a traceback: Rasa runs Sanic without debug)."""
    self.log(request, exception)
    return exception_response(
        request, exception, debug=self.debug, fallback="json", base=self.base, renderer=JSONRenderer
    )


def install() -> None:
    ErrorHandler.default = json_error_page  # type: ignore[method-assign]
