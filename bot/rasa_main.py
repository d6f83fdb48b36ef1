"""The Rasa server Heard runs: Rasa's command line with Heard's changes installed first.

Before Rasa builds its web app: log records lose personal data (`heard.logs`), Sanic
refuses bodies over `HEARD_MAX_REQUEST_BYTES` with 413 before reading them (it reads
`SANIC_*` variables when the app is made), and `rasa_seam` is installed. skops, which
Rasa uses to load the intent classifier, is imported here too: its first import walks
scikit-learn's build helpers into `numpy.distutils`, which sets the root logger to
WARNING. Imported before Rasa sets up logging, that no longer silences every INFO log
after the model loads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One thread for numpy's and scikit-learn's maths, set before numpy loads: the messages'
# matrices are tiny, and OpenBLAS's idle threads spin between operations. Under 50
# concurrent conversations they burned 32 ms of CPU per turn, as much as the turn itself.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from heard import settings  # noqa: E402  (standard library only: numpy is not loaded)


def refuse_unsafe_replicas(argv: list, replicas: int) -> None:
    """Exit code 2 when replicas would share the tracker store without Heard's Redis lock:
    two of them would run one conversation's turns at once and lose some."""
    from bot.cluster import endpoints_problem

    flag = "--endpoints"
    given = [a.split("=", 1)[1] for a in argv if a.startswith(flag + "=")]
    given += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]
    path = given[-1] if given else "endpoints.yml"
    problem = endpoints_problem(Path(path), replicas) if Path(path).exists() else None
    if problem:
        print(f"error: HEARD_REPLICAS={replicas}: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)


if __name__ == "__main__":
    # Every setting is checked before Rasa loads (it reads TICKET_LOCK_LIFETIME on import):
    # a wrong one stops the server here, with exit code 2 and the reasons on stderr.
    refuse_unsafe_replicas(sys.argv[1:], settings.at_start().replicas)

import rasa_seam  # noqa: E402  (after the thread settings and the settings check)
from heard import limits, logs  # noqa: E402


def configure(environ=os.environ) -> None:
    import skops.io  # noqa: F401  (see the module docstring)

    logs.install(environ)
    environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(limits.max_request_bytes(environ)))
    rasa_seam.install()


if __name__ == "__main__":
    configure()
    from rasa_seam import command_line

    command_line.run()
