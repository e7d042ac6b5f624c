#!/usr/bin/env bash
# Usage: scripts/venv.sh runtime|dev
# Makes sure .venv is a working Python >= 3.11 venv with pip (rebuilding it, and saying so,
# when it is not), that requirements/<kind>.txt was compiled from the current pyproject.toml,
# and that the venv holds exactly that lock (installed with --require-hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
kind=${1:?runtime or dev}
lock=${LOCK:-requirements/$kind.txt}

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "make: $PYTHON not found. Install Python 3.11 or newer, or run make PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if ! new_enough "$PYTHON"; then
  echo "make: $PYTHON is $("$PYTHON" --version 2>&1); the portal needs Python 3.11 or newer." \
    "Run make PYTHON=python3.11 (or newer)." >&2
  exit 1
fi

reason=""
if [ -e "$VENV" ]; then
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    reason="its bin/python is missing or does not run"
  elif ! new_enough "$VENV/bin/python"; then
    reason="it was made by $("$VENV/bin/python" --version 2>&1), older than 3.11"
  elif ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    reason="it has no pip"
  fi
fi
if [ -n "$reason" ]; then
  echo "== $VENV is broken ($reason): removing it and building it again with $PYTHON"
  rm -rf "$VENV"
fi
if [ ! -e "$VENV" ]; then
  echo "== creating $VENV with $("$PYTHON" --version 2>&1)"
  if ! "$PYTHON" -m venv "$VENV" || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    echo "make: '$PYTHON -m venv' did not make a venv with pip" \
      "(on Debian/Ubuntu: apt install python3-venv)." >&2
    exit 1
  fi
fi

"$VENV/bin/python" scripts/deps.py check "$lock"

digest=$(sha256sum "$lock" | cut -d' ' -f1)
stamp="$VENV/.installed-$kind"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$digest" ]; then
  echo "== installing $lock (exact versions, hashes checked)"
  "$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps -r "$lock"
  echo "$digest" >"$stamp"
  if [ "$kind" = dev ]; then
    # The runtime lock is compiled against the dev lock: its pins are a subset.
    sha256sum requirements/runtime.txt | cut -d' ' -f1 >"$VENV/.installed-runtime"
  fi
fi
