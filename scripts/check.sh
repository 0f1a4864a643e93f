#!/usr/bin/env bash
# Install what the tests need into .venv, then run the linters, the type checker and the tests.
# Extra arguments go to pytest, for example: bash scripts/check.sh -k sse
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,postgres]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
