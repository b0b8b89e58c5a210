#!/usr/bin/env bash
# Creates .venv and installs Rentbook (with dev tools when given "dev"; "bench" also installs
# wrk, the HTTP load generator of bench/http_wrk.py — a bench tool, no test needs it).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.rentbook-installed-$1
if [ "$1" = bench ]; then
  if ! command -v wrk >/dev/null && command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk \
      || { $SUDO apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
  fi
  exec bash scripts/setup.sh dev  # the cd above: relative to the repository
fi
# The venv's own pip (Python 3.11 bundles one with PEP 660 editable installs) does: upgrading
# it first would fetch and install a pip on every fresh clone.
# --no-compile: pip would byte-compile every installed module (~16 s of CPU on a clean
# clone, a third of the install); the modules a run imports compile on first import (~4 s).
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if [ "$1" = dev ]; then
    .venv/bin/python -m pip install --quiet --no-compile -e ".[dev]"
  else
    .venv/bin/python -m pip install --quiet --no-compile -e .
  fi
  touch "$stamp"
fi
# The browser tests (tests/browser) drive Debian's Chromium; Playwright never downloads one.
if [ "$1" = dev ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
