#!/usr/bin/env bash
# Lint and format check with the project's configuration (pyproject.toml, [tool.ruff]); .ci/run calls it
# before the tests, so a finding fails CI. Extra arguments go to `ruff check` (e.g. --output-format concise).
# ruff: $RUFF if set, else the venv's (requirements-dev.txt pins it), else the one on PATH.
set -uo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-}
if [ -z "$RUFF" ]; then
    if [ -x .venv/bin/ruff ]; then RUFF=.venv/bin/ruff
    elif command -v ruff >/dev/null 2>&1; then RUFF=ruff
    else echo "lint.sh: ruff not found (pip install ruff, or set RUFF=/path/to/ruff)" >&2; exit 2
    fi
fi
status=0
"$RUFF" check "$@" . || status=1
"$RUFF" format --check . || status=1
exit $status
