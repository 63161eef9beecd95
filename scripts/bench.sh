#!/usr/bin/env bash
# `make bench`: every benchmark on SQLite, then on a throwaway PostgreSQL cluster; one table.
# Extra arguments go to bench/run_all.py (e.g. --quick, or benchmark names).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=ci_postgres.sh
source scripts/ci_postgres.sh
trap stop_postgres EXIT
start_postgres
.venv/bin/python bench/run_all.py --postgres-url "$DATABASE_URL" "$@"
