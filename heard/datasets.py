"""Where the public data sets used in training live: one setting, `HEARD_DATA_DIR`.

The default is `datasets/` inside the project (git-ignored; not under `data/`, where Rasa
reads every file as training data); on this project's machines the copies are in
`../shared/data`. Each data set is a folder of the official files: `goemotions/`
(train.tsv, dev.tsv) and `clinc150/` (clinc150.json), fetched by
`python -m bot.datasets download`. Training (the emotion component, the CLINC150 importer),
the evaluations and the NLU test set's overlap test all read them through here.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

ENV_VAR = "HEARD_DATA_DIR"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "datasets"


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    value = environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT


def goemotions_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return data_dir(environ) / "goemotions"


def clinc150_file(environ: Mapping[str, str] = os.environ) -> Path:
    return data_dir(environ) / "clinc150" / "clinc150.json"
