#!/usr/bin/env bash
# Runs the API with in-process workers on the embedded default (SQLite in ./var, embedded
# search, simulated payments), seeding demo data when the store is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
# Two malloc arenas, as the Dockerfile: per-thread arenas kept ~40 MB more RSS (bench/README.md).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/rentbook serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
