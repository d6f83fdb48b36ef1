"""`python -m bot.emotion evaluate PATH.tsv` and `python -m bot.emotion download`."""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
from pathlib import Path

from bot.emotion.data import EmotionDataError, load_goemotions, load_tsv
from bot.emotion.evaluation import evaluate, format_report
from bot.emotion.model import META_FILE, EmotionModel

MODEL_DIR = "sklearn"  # bot.emotion.component.MODEL_DIR, without importing Rasa


def model_from_archive(archive: Path) -> EmotionModel:
    """The emotion model inside a trained Rasa model (.tar.gz)."""
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if "EmotionClassifier" in m.name and f"/{MODEL_DIR}/" in f"{m.name}/"
        ]
        if not members:
            raise SystemExit(f"error: {archive} has no EmotionClassifier; is it Heard's model?")
        folder = Path(tempfile.mkdtemp(prefix="heard-emotion-"))
        tar.extractall(folder, members=members)  # only our component's files
    found = {p.parent for p in folder.rglob(META_FILE)}
    if len(found) != 1:
        raise SystemExit(
            f"error: {archive} holds an older emotion model; retrain with `make train`"
        )
    return EmotionModel.load(found.pop())


def examples_from(path: Path):
    """`text<TAB>label` files, or a GoEmotions split (its labels file beside it)."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    if len(first) == 3 and all(part.isdigit() for part in first[1].split(",")):
        return load_goemotions(path.parent, path.stem)
    return load_tsv(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.emotion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("evaluate", help="score the trained model on labelled messages")
    ev.add_argument("path", type=Path, help="text<TAB>label lines, or a GoEmotions .tsv split")
    ev.add_argument("--model", type=Path, help="a trained Rasa model (default: the current one)")
    dl = commands.add_parser("download", help="fetch GoEmotions from its official source")
    dl.add_argument(
        "--dest",
        type=Path,
        default=None,
        help="default: heard.datasets.goemotions_dir() (HEARD_DATA_DIR/goemotions)",
    )
    args = parser.parse_args(argv)

    if args.command == "download":
        from bot.emotion.download import download_goemotions
        from heard.datasets import goemotions_dir

        return download_goemotions(args.dest or goemotions_dir())

    from bot.training import model_path

    archive = args.model or model_path()
    if not archive.exists():
        print(f"error: no trained model at {archive}; run `make train` first", file=sys.stderr)
        return 2
    try:
        examples = examples_from(args.path)
    except (OSError, EmotionDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"model: {archive.name}\ndata:  {args.path} ({len(examples)} messages)\n")
    print(format_report(evaluate(model_from_archive(archive), examples)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
