#!/usr/bin/env bash
# Installs what the tests need, starts PostgreSQL and Redis if they are not running, then
# runs the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Keep compiled byte code (git-ignored __pycache__): each xdist worker, and every `rentbook`
# subprocess the e2e and browser tests start, would otherwise compile the project and
# re-rewrite the tests' asserts from source (~5 s of CPU a pytest process).
unset PYTHONDONTWRITEBYTECODE
bash scripts/setup.sh dev
bash scripts/services.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
# Two xdist workers at most: the machine may have more cores, but PostgreSQL's 100
# connections are shared (see tests/xdist_groups.py for what shares a worker).
workers=$(( $(nproc) < 2 ? 1 : 2 ))
.venv/bin/pytest -n "${RENTBOOK_TEST_WORKERS:-$workers}" --dist loadgroup "$@"
