"""Fetch GoEmotions from its official source, for training outside this repository's CI.

The files land in a temporary folder first and are moved into place only when all of
them arrived and parse, so a broken download never leaves half a data set behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Tuple, Type

from bot.emotion.data import EmotionDataError, load_goemotions
from heard.download import DownloadError, fetch

SOURCE = "https://raw.githubusercontent.com/google-research/google-research/master/goemotions/data/"
FILES = {
    "train.tsv": "train.tsv",
    "dev.tsv": "dev.tsv",
    "test.tsv": "test.tsv",
    "emotions.txt": "labels.txt",
}  # the loader reads labels.txt
TIMEOUT = 30
MAX_FILE_BYTES = 64 * 10**6  # the largest file of either data set is under 4 MB


def fetch_file(url: str, target: Path) -> None:
    """One file of a public data set into `target`, showing its progress on stdout."""
    fetch(
        url,
        target,
        max_bytes=MAX_FILE_BYTES,
        timeout=TIMEOUT,
        progress=sys.stdout,
        label=f"  {target.name:<12}",
    )


def staging_folder(dest: Path) -> Path:
    """An empty folder beside `dest` (same file system, so `move_into_place` is a rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))


def move_into_place(staging: Path, dest: Path) -> None:
    """Renames the complete `staging` folder to `dest`; into an existing `dest` (say, one
    holding only a licence file), each file is renamed in turn."""
    if not dest.exists():
        os.rename(staging, dest)
        return
    for path in sorted(staging.iterdir()):
        os.replace(path, dest / path.name)
    staging.rmdir()


def staged_download(
    dest: Path,
    name: str,
    source: str,
    fill: Callable[[Path], None],
    errors: Tuple[Type[BaseException], ...],
    offline_help: str,
) -> int:
    """Runs `fill` on an empty folder beside `dest` and moves the result into place; on one
    of `errors` removes the folder, prints why and `offline_help`, and returns 1."""
    staging = staging_folder(dest)
    print(f"downloading {name} from {source}")
    try:
        fill(staging)
    except errors as error:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"\nerror: could not download {name} ({error}).\n{offline_help}", file=sys.stderr)
        return 1
    move_into_place(staging, dest)
    return 0


def download_goemotions(dest: Path, source: str = SOURCE) -> int:
    if (dest / "train.tsv").is_file():
        print(f"GoEmotions is already in {dest}")
        return 0

    def fill(staging: Path) -> None:
        for remote, local in FILES.items():
            fetch_file(source + remote, staging / local)
        for split in ("train", "dev"):
            if not load_goemotions(staging, split):
                raise EmotionDataError(f"{split}.tsv has no usable rows")

    failed = staged_download(
        dest,
        "GoEmotions",
        source,
        fill,
        (DownloadError, OSError, EmotionDataError, ValueError, IndexError),
        f"Offline? Copy train.tsv, dev.tsv and labels.txt (emotions.txt) into {dest} "
        f"by hand (HEARD_DATA_DIR chooses the data folder; the EmotionClassifier's "
        f"goemotions_path overrides it). "
        f"Training works without them, on data/emotions.yml alone.",
    )
    if not failed:
        print(f"GoEmotions saved in {dest}")
    return failed
