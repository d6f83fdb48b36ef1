"""Small HTTP helpers the web channels share: JSON errors, security headers, origin check."""

from __future__ import annotations

from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

# The console runs only its own files: no inline scripts or styles, no framing.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def same_origin(origin: Optional[str], host: Optional[str]) -> bool:
    """True when there is no Origin header (same-origin GETs send none) or it names the
    host the request was sent to."""
    if not origin:
        return True
    parts = urlsplit(origin)
    return bool(parts.scheme in ("http", "https") and host and parts.netloc == host)


def json_body(request: Request) -> Optional[Dict[str, Any]]:
    """The request's JSON object, or None when it isn't one."""
    if (request.content_type or "").split(";")[0].strip() != "application/json":
        return None
    try:
        body = request.json
    except Exception:  # Sanic raises InvalidUsage on malformed JSON
        return None
    return body if isinstance(body, dict) else None
