"""Where the public data sets used in training live: one setting, `HEARD_DATA_DIR`.

The default is `datasets/` inside the project (git-ignored; not under `data/`, where Rasa
reads every file as training data); on this project's machines the copies are in
`../shared/data`. Each data set is a folder of the official files: `goemotions/`
(train.tsv, dev.tsv) and `clinc150/` (clinc150.json), fetched by
`python -m bot.datasets download`. Training (the emotion component, the CLINC150 importer),
the evaluations and the NLU test set's overlap test all read them through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from heard import settings

ENV_VAR = "HEARD_DATA_DIR"
DEFAULT = settings.DEFAULT_DATA_DIR  # ROOT / "datasets"


def data_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    return settings.read(ENV_VAR, environ)


def goemotions_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    return data_dir(environ) / "goemotions"


def clinc150_file(environ: Optional[Mapping[str, str]] = None) -> Path:
    return data_dir(environ) / "clinc150" / "clinc150.json"
