"""Train the assistant only when its inputs changed; otherwise reuse the model on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

from rasa.engine.caching import CACHE_LOCATION_ENV

from bot.servers import ROOT
from heard import datasets

MODELS = ROOT / "models"
KEEP = 3  # older models are removed beyond this many
# Code that adds training data inside `rasa train` (config.yml's `importers:`): from the
# public data sets (their files are found through heard.datasets) and from data/ itself.
DATASET_MODULES = ("bot/nlu_importer.py", "bot/clinc150.py", "bot/with_details.py")
# Code that runs inside `rasa train` (the custom NLU components and what they import):
# the whole nlu/ package (every file in it: modules and the vendored tokenizer), and these.
NLU_PACKAGE = "nlu"
NLU_COMPONENT_MODULES = (
    "bot/emotion/component.py",
    "bot/emotion/model.py",
    "bot/emotion/intensity.py",
    "bot/emotion/data.py",
    "bot/emotion/labels.py",
    "heard/contract.py",
    "heard/formats.py",
)


def training_inputs(root: Path = ROOT) -> Iterable[Path]:
    """Everything a trained model depends on, in a stable order."""
    yield root / "config.yml"
    yield root / "domain.yml"
    yield from sorted((root / "data").rglob("*.yml"))
    yield from nlu_package_files(root)
    for module in NLU_COMPONENT_MODULES:
        yield root / module
    for module in DATASET_MODULES:
        yield root / module
    yield from dataset_files()


def nlu_package_files(root: Path = ROOT) -> Iterable[Path]:
    """Every file of the nlu/ package (not the bytecode caches), in a stable order."""
    return sorted(
        p
        for p in (root / NLU_PACKAGE).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def dataset_files() -> Iterable[Path]:
    """The data-set files training reads (in HEARD_DATA_DIR), those that are present."""
    goemotions = datasets.goemotions_dir()
    if (goemotions / "train.tsv").is_file() and (goemotions / "labels.txt").is_file():
        yield goemotions / "labels.txt"
        yield goemotions / "train.tsv"
    if datasets.clinc150_file().is_file():
        yield datasets.clinc150_file()


def _name(path: Path, root: Path) -> str:
    """A data-set file by its place in HEARD_DATA_DIR (the same files anywhere give the same
    fingerprint); anything else by its place beside the project."""
    if datasets.data_dir() in path.parents:
        return path.relative_to(datasets.data_dir()).as_posix()
    return str(path.relative_to(root.parent))


def fingerprint(paths: Iterable[Path], root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(_name(path, root).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path() -> Path:
    return MODELS / f"heard-{fingerprint(training_inputs())}.tar.gz"


def cache_dir(root: Path = ROOT) -> Path:
    """Rasa's training cache for the current component code. Rasa keys its cache by each
    component's config and data, not its code: a changed nlu/ module would otherwise
    restore components trained with the old code."""
    code = [
        *nlu_package_files(root),
        *(root / m for m in NLU_COMPONENT_MODULES),
        *(root / m for m in DATASET_MODULES),
    ]
    return root / ".rasa" / "cache" / f"code-{fingerprint(code, root)}"


def ensure_trained() -> Path:
    """The model for the current inputs, training it first when it doesn't exist yet."""
    path = model_path()
    if path.exists():
        print(f"model: up to date ({path.relative_to(ROOT)})", flush=True)
        return path
    print("model: training (a few minutes on 2 cores)...", flush=True)
    cache = cache_dir()
    for stale in cache.parent.glob("code-*"):  # caches of code that changed since
        if stale != cache:
            shutil.rmtree(stale, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--fixed-model-name",
            path.name[: -len(".tar.gz")],
            "--out",
            str(MODELS),
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, CACHE_LOCATION_ENV: str(cache)},
    )
    for old in sorted(MODELS.glob("heard-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        old.unlink()
    return path


def load_agent(archive: Path) -> Any:
    """The trained model `archive` loaded in this process (`rasa.core.agent.Agent`)."""
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level through structlog, which, unconfigured outside
    # Rasa's command line, prints them all: one line per message parsed.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    return Agent.load(str(archive))
