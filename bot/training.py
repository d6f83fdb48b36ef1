"""Train the assistant only when its inputs changed; otherwise reuse the model on disk."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from bot.servers import ROOT

MODELS = ROOT / "models"
KEEP = 3  # older models are removed beyond this many
SHARED_GOEMOTIONS = ROOT.parent / "shared" / "data" / "goemotions"
# Code that runs inside `rasa train` (the custom NLU components and what they import).
NLU_COMPONENT_MODULES = (
    "bot/entity_filter.py", "bot/emotion/component.py", "bot/emotion/model.py",
    "bot/emotion/intensity.py", "bot/emotion/data.py", "bot/emotion/labels.py",
)


def training_inputs(root: Path = ROOT) -> Iterable[Path]:
    """Everything a trained model depends on, in a stable order."""
    yield root / "config.yml"
    yield root / "domain.yml"
    yield from sorted((root / "data").rglob("*.yml"))
    for module in NLU_COMPONENT_MODULES:
        yield root / module
    if (SHARED_GOEMOTIONS / "train.tsv").is_file():
        yield SHARED_GOEMOTIONS / "train.tsv"


def fingerprint(paths: Iterable[Path], root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path() -> Path:
    return MODELS / f"heard-{fingerprint(training_inputs())}.tar.gz"


def ensure_trained() -> Path:
    """The model for the current inputs, training it first when it doesn't exist yet."""
    path = model_path()
    if path.exists():
        print(f"model: up to date ({path.relative_to(ROOT)})", flush=True)
        return path
    print("model: training (a few minutes on 2 cores)...", flush=True)
    subprocess.run([sys.executable, "-m", "rasa", "train", "--fixed-model-name",
                    path.name[: -len(".tar.gz")], "--out", str(MODELS)], cwd=ROOT, check=True)
    for old in sorted(MODELS.glob("heard-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        old.unlink()
    return path
