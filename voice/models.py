"""Getting a Vosk model onto disk: download, verify, unpack atomically, or switch voice off.

python -m voice.models download [--dest models/vosk] [--url URL] [--sha256 HEX]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Optional, TextIO

from heard import settings
from heard.download import DownloadError, fetch

log = logging.getLogger(__name__)

OFFICIAL_SMALL_EN_URL = "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
DEFAULT_DEST = Path("models") / "vosk"
ENV_VAR = "VOSK_MODEL_PATH"
# The official small English model is 40 MB; the largest official models are about 2.3 GB.
MAX_ARCHIVE_BYTES = 4 * 10**9
# What it may unpack to: a model's files barely compress, a zip bomb's a thousandfold.
MAX_UNPACKED_BYTES = 10 * 10**9
MAX_UNPACK_RATIO = 20
INSTEAD = f"set {ENV_VAR} to a Vosk model folder to use one you have"


class IntegrityError(ValueError):
    pass


def _looks_like_model(path: Path) -> bool:
    return (path / "am").is_dir() or (path / "final.mdl").is_file()


def _voice_off(reason: str) -> None:
    # One line, at WARNING, so an operator sees why calls are not answered while text
    # chat keeps running.
    log.warning("voice off: %s", reason)


def _check_zip(archive: Path, top: str) -> None:
    """A complete archive whose entries all live under `top/` (no path escapes), and that
    unpacks to a plausible size (checked first: zipfile reads no member past its size)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
            limit = min(MAX_UNPACKED_BYTES, MAX_UNPACK_RATIO * archive.stat().st_size)
            if unpacked > limit:
                raise IntegrityError(f"it would unpack to {unpacked} bytes, over {limit}")
            bad = zf.testzip()
            if bad is not None:
                raise IntegrityError(f"corrupt member {bad}")
            for name in zf.namelist():
                parts = PurePosixPath(name).parts
                if not parts or parts[0] != top or ".." in parts or name.startswith("/"):
                    raise IntegrityError(
                        f"unexpected entry {name!r} (expected everything under {top}/)"
                    )
    except zipfile.BadZipFile as exc:
        raise IntegrityError(f"not a zip archive: {exc}") from exc


def ensure_model(
    dest_dir: Path | str = DEFAULT_DEST,
    url: str = OFFICIAL_SMALL_EN_URL,
    sha256: Optional[str] = None,
    progress: Optional[TextIO] = None,
    timeout: float = 30.0,
) -> Optional[Path]:
    """The path of a usable Vosk model, downloading it if needed; None means voice is off.

    `VOSK_MODEL_PATH` wins when set. A download is verified (sha256 when given, zip CRCs,
    expected top folder) and unpacked beside its destination, then renamed into place,
    so a broken or interrupted download never leaves a half model behind. `progress`:
    where to show how far the download got.
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
        fetch(
            url,
            archive,
            max_bytes=MAX_ARCHIVE_BYTES,
            sha256=sha256,
            timeout=timeout,
            progress=progress,
            label="downloading Vosk model:",
            instead=INSTEAD,
        )
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
    except DownloadError as error:
        _voice_off(f"could not download the Vosk model from {error}")
        return None
    except (OSError, IntegrityError) as error:
        _voice_off(f"could not unpack the Vosk model from {url} ({error}); {INSTEAD}")
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
    path = ensure_model(args.dest, args.url, args.sha256, progress=sys.stderr)
    if path is None:
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
