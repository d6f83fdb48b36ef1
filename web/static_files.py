"""Which file a static URL may serve, and as what (pure, apart from reading the folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
}


def resolve(root: Path, relative: str) -> Optional[Path]:
    """The file under `root` that `relative` names, or None: no '..', no hidden files, no
    backslashes or NUL, no symlinks leading out, only files of a known type."""
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    candidate = root.joinpath(*parts)
    try:
        real = candidate.resolve(strict=True)
        real.relative_to(root.resolve(strict=True))
    except (OSError, ValueError):
        return None
    if not real.is_file() or content_type(real) is None:
        return None
    return real


def content_type(path: Path) -> Optional[str]:
    return CONTENT_TYPES.get(path.suffix.lower())
