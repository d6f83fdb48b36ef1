"""Fetching one file over HTTP(S), for the commands that get a model or a data set.

`fetch` streams the body into a temporary file beside the target and renames it into place
only once it is whole: as long as announced, no longer than a limit, and with the expected
sha256 when one is known. An interrupted or wrong download leaves nothing behind. Standard
library only.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import BinaryIO, Optional, TextIO

BLOCK = 1 << 16


class DownloadError(Exception):
    """A download that failed: its message names the URL, why, and what to do instead."""


class _Refused(Exception):
    """The server answered, but not with the file we will accept."""


class _ProgressLine:
    """How far a download got, rewritten in place on one line of `stream`."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.shown = False

    def show(self, done: int, total: Optional[int]) -> None:
        if total:
            so_far = f"{100 * done // total:3d}% ({done / 1e6:.1f}/{total / 1e6:.1f} MB)"
        else:
            so_far = f"{done / 1e6:.1f} MB"
        self.stream.write(f"\r{self.label} {so_far}")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def fetch(
    url: str,
    target: Path,
    *,
    max_bytes: int,
    sha256: Optional[str] = None,
    timeout: float = 30.0,
    progress: Optional[TextIO] = None,
    label: str = "",
    instead: str = "",
) -> str:
    """Downloads `url` (http or https) to `target` and returns the body's sha256 (hex).

    `max_bytes`: a longer body is refused, whether announced or as it arrives. `timeout`:
    seconds to connect, and for each read. `progress`: where to show a progress line
    (labelled `label`, else the file's name). `instead`: what to do without this download
    (an override path or setting), for the error message.
    """
    hint = f"; {instead}" if instead else ""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url}: not an http(s) URL{hint}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the final rename stays on one file system (atomic).
    handle, partial = tempfile.mkstemp(
        prefix=f".{target.name}-", suffix=".partial", dir=target.parent
    )
    line = _ProgressLine(label or target.name, progress) if progress else None
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _copy(url, out, max_bytes, timeout, line)
        if sha256 and digest != sha256.lower():
            raise _Refused(f"its sha256 is {digest}, not the expected {sha256}")
        os.replace(partial, target)
        return digest
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{url}: {error}{hint}") from error  # "HTTP Error 404: ..."
    except (_Refused, OSError, http.client.HTTPException, ValueError) as error:
        reason = getattr(error, "reason", None) or error  # URLError wraps the socket's
        raise DownloadError(f"{url}: {reason}{hint}") from error
    finally:
        if line:
            line.end()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _copy(
    url: str, out: BinaryIO, max_bytes: int, timeout: float, line: Optional[_ProgressLine]
) -> str:
    """Streams the body of `url` into `out`; returns its sha256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = response.headers.get("Content-Length", "")
        total = int(announced) if announced.isdigit() else None
        if total is not None and total > max_bytes:
            raise _Refused(f"announced {total} bytes, more than the {max_bytes} allowed")
        done = 0
        while block := response.read(BLOCK):
            done += len(block)
            if done > max_bytes:
                raise _Refused(f"more than the {max_bytes} bytes allowed arrived")
            out.write(block)
            digest.update(block)
            if line:
                line.show(done, total)
    if total is not None and done != total:
        raise _Refused(f"truncated: {done} of {total} bytes")
    return digest.hexdigest()
