"""Getting a Vosk model onto disk: download, verify, unpack atomically, or switch voice off.

    python -m voice.models download [--dest models/vosk] [--url URL] [--sha256 HEX]
"""
from __future__ import annotations

import argparse
import http.client
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, Optional

from heard import settings

log = logging.getLogger(__name__)

OFFICIAL_SMALL_EN_URL = "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
DEFAULT_DEST = Path("models") / "vosk"
ENV_VAR = "VOSK_MODEL_PATH"

Progress = Callable[[int, Optional[int]], None]  # (bytes so far, total or None)


class IntegrityError(ValueError):
    pass


def _looks_like_model(path: Path) -> bool:
    return (path / "am").is_dir() or (path / "final.mdl").is_file()


def _voice_off(reason: str) -> None:
    # One line, at WARNING, so an operator sees why calls are not answered while text
    # chat keeps running.
    log.warning("voice off: %s", reason)


def stderr_progress(done: int, total: Optional[int]) -> None:
    mb = done / 1e6
    if total:
        sys.stderr.write(f"\rdownloading Vosk model: {100 * done // total:3d}% ({mb:.1f}/{total / 1e6:.1f} MB)")
    else:
        sys.stderr.write(f"\rdownloading Vosk model: {mb:.1f} MB")
    sys.stderr.flush()


def _download(url: str, dest: Path, progress: Optional[Progress], timeout: float) -> str:
    """Streams `url` into `dest`; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        done = 0
        while True:
            block = resp.read(1 << 16)
            if not block:
                break
            out.write(block)
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    if progress is stderr_progress:
        sys.stderr.write("\n")  # end the \r progress line
    if total is not None and done != total:
        raise IntegrityError(f"download truncated: {done} of {total} bytes")
    return digest.hexdigest()


def _check_zip(archive: Path, top: str) -> None:
    """A complete archive whose entries all live under `top/` (no path escapes)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise IntegrityError(f"corrupt member {bad}")
            for name in zf.namelist():
                parts = PurePosixPath(name).parts
                if not parts or parts[0] != top or ".." in parts or name.startswith("/"):
                    raise IntegrityError(f"unexpected entry {name!r} (expected everything under {top}/)")
    except zipfile.BadZipFile as exc:
        raise IntegrityError(f"not a zip archive: {exc}") from exc


def ensure_model(
    dest_dir: Path | str = DEFAULT_DEST,
    url: str = OFFICIAL_SMALL_EN_URL,
    sha256: Optional[str] = None,
    progress: Optional[Progress] = None,
    timeout: float = 30.0,
) -> Optional[Path]:
    """The path of a usable Vosk model, downloading it if needed; None means voice is off.

    `VOSK_MODEL_PATH` wins when set. A download is verified (sha256 when given, zip CRCs,
    expected top folder) and unpacked beside its destination, then renamed into place,
    so a broken or interrupted download never leaves a half model behind.
    """
    override = settings.read(ENV_VAR)  # a Path, or None when unset
    if override is not None:
        if _looks_like_model(override):
            return override
        _voice_off(f"{ENV_VAR}={override} is not a Vosk model folder")
        return None

    dest_dir = Path(dest_dir)
    top = PurePosixPath(url.split("?", 1)[0]).name
    top = top[: -len(".zip")] if top.endswith(".zip") else top
    target = dest_dir / top
    if _looks_like_model(target):
        return target

    dest_dir.mkdir(parents=True, exist_ok=True)
    # Work inside dest_dir so the final rename stays on one filesystem (atomic).
    work = Path(tempfile.mkdtemp(prefix=f".{top}-partial-", dir=dest_dir))
    try:
        archive = work / "model.zip"
        got = _download(url, archive, progress, timeout)
        if sha256 and got.lower() != sha256.lower():
            raise IntegrityError(f"sha256 mismatch: got {got}, expected {sha256}")
        _check_zip(archive, top)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(work / "unpacked")
        unpacked = work / "unpacked" / top
        if not _looks_like_model(unpacked):
            raise IntegrityError(f"{top}/ holds no acoustic model (am/)")
        try:
            os.rename(unpacked, target)
        except OSError:
            # Another process finished first; its copy is as good as ours.
            if not _looks_like_model(target):
                raise
        log.info("voice.models.ready path=%s", target)
        return target
    except (urllib.error.URLError, http.client.HTTPException, OSError, IntegrityError) as exc:
        reason = getattr(exc, "reason", exc)
        _voice_off(f"could not get Vosk model from {url} ({reason}); set {ENV_VAR} to a model folder")
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice.models")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="download and unpack the Vosk model if missing")
    dl.add_argument("--dest", default=str(DEFAULT_DEST))
    dl.add_argument("--url", default=OFFICIAL_SMALL_EN_URL)
    dl.add_argument("--sha256", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = ensure_model(args.dest, args.url, args.sha256, progress=stderr_progress)
    if path is None:
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
