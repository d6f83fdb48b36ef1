#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs 3.8-3.10).
# Looks at $PYTHON, then python3.10 on PATH, then pyenv's versions folder.
set -u
works() { [ -n "$1" ] && "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; }
for candidate in "${PYTHON:-}" "$(command -v python3.10 2>/dev/null)"; do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
pyenv_root="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"
for candidate in $(ls -d "$pyenv_root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "error: Python 3.10 not found. Rasa 3.6 needs Python 3.10 (3.8-3.10)." >&2
echo "Install it (e.g. 'pyenv install 3.10' or 'apt-get install python3.10') or set PYTHON=/path/to/python3.10." >&2
exit 1
