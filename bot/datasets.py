"""`python -m bot.datasets download [--dest DIR]`: the public data sets training reads.

Both come from their official sources into DIR (default: the `HEARD_DATA_DIR` setting, see
heard/datasets.py): GoEmotions into `goemotions/` (bot/emotion/download.py) and CLINC150
into `clinc150/`, where the official `data/data_full.json` is saved as `clinc150.json`
without its out-of-scope test rows (the layout of ../shared/data). Each lands in a
temporary folder beside its destination first, is checked, and is renamed into place only
when complete. Training works without either.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict

from bot.emotion import download as goemotions
from bot.emotion.download import fetch_file, staged_download
from heard import datasets
from heard.download import DownloadError

CLINC150_SOURCE = "https://raw.githubusercontent.com/clinc/oos-eval/master/data/"
CLINC150_FILES = ("data_full.json", "domains.json")
CLINC150_SPLITS = ("train", "val", "test", "oos_train", "oos_val")  # not oos_test


def clinc150_layout(full: Dict[str, Any], domains: Dict[str, Any]) -> Dict[str, Any]:
    """The official data_full.json as clinc150.json, checked: every split a non-empty list
    of [text, intent] rows, every in-scope intent one of domains.json's."""
    known = {intent for intents in domains.values() for intent in intents}
    if not known:
        raise ValueError("domains.json lists no intents")
    layout = {}
    for split in CLINC150_SPLITS:
        rows = full.get(split)
        if (
            not isinstance(rows, list)
            or not rows
            or not all(
                isinstance(row, list)
                and len(row) == 2
                and all(isinstance(value, str) and value for value in row)
                for row in rows
            )
        ):
            raise ValueError(f"data_full.json: '{split}' is not a list of [text, intent] rows")
        if not split.startswith("oos"):
            unknown = {intent for _, intent in rows} - known
            if unknown:
                raise ValueError(
                    f"data_full.json: intents not in domains.json: {sorted(unknown)[:5]}"
                )
        layout[split] = rows
    return layout


def download_clinc150(dest: Path, source: str = CLINC150_SOURCE) -> int:
    target = dest / "clinc150.json"
    if target.is_file():
        print(f"CLINC150 is already in {dest}")
        return 0

    def fill(staging: Path) -> None:
        for name in CLINC150_FILES:
            fetch_file(source + name, staging / name)
        full = json.loads((staging / "data_full.json").read_text(encoding="utf-8"))
        domains = json.loads((staging / "domains.json").read_text(encoding="utf-8"))
        if not isinstance(full, dict) or not isinstance(domains, dict):
            raise ValueError("data_full.json and domains.json must be JSON objects")
        layout = clinc150_layout(full, domains)
        (staging / "clinc150.json").write_text(json.dumps(layout), encoding="utf-8")
        (staging / "data_full.json").unlink()

    failed = staged_download(
        dest,
        "CLINC150",
        source,
        fill,
        (DownloadError, OSError, ValueError, TypeError, AttributeError),
        f"Offline? Copy data/data_full.json from the clinc/oos-eval repository on "
        f"GitHub to {target} by hand (the same layout; training reads only its train "
        f"and oos_train rows). Training works without it, with the out_of_scope "
        f"examples in data/nlu.yml alone.",
    )
    if not failed:
        print(f"CLINC150 saved in {dest} (CC BY 3.0: cite Larson et al., EMNLP 2019)")
    return failed


def download(dest: Path) -> int:
    """Both data sets into `dest`; 0 when both are there afterwards."""
    results = [
        goemotions.download_goemotions(dest / "goemotions", goemotions.SOURCE),
        download_clinc150(dest / "clinc150", CLINC150_SOURCE),
    ]
    if min(results) == 0 and dest.resolve() != datasets.data_dir():
        print(
            f"training reads {datasets.data_dir()}; set {datasets.ENV_VAR}={dest.resolve()} "
            f"to use these"
        )
    return max(results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dl = commands.add_parser(
        "download", help="fetch GoEmotions and CLINC150 from their official sources"
    )
    dl.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=f"where to put them (default: {datasets.ENV_VAR}, now {datasets.data_dir()})",
    )
    args = parser.parse_args(argv)
    return download(args.dest or datasets.data_dir())


if __name__ == "__main__":
    sys.exit(main())
