#!/usr/bin/env bash
# Lint and format check with the project's configuration (pyproject.toml, [tool.ruff]); then the plugin
# repository's publication scans: Bandit over the Python files the release ZIP holds (scripts/package.py
# --list) and detect-secrets over every tracked file; commit subjects since the last tag are <= 72 characters. .ci/run calls it before the tests, so a finding fails
# CI; an accepted Bandit finding says why in place (`# <why>  # nosec Bxxx`). Extra arguments go to
# `ruff check` (e.g. --output-format concise). Each tool: $RUFF/$BANDIT/$DETECT_SECRETS if set, else the
# venv's (requirements-dev.txt pins them), else the one on PATH.
set -uo pipefail
cd "$(dirname "$0")/.."
tool() {  # tool VAR name: the command to run
    local given=${!1:-}
    if [ -n "$given" ]; then echo "$given"
    elif [ -x ".venv/bin/$2" ]; then echo ".venv/bin/$2"
    elif command -v "$2" >/dev/null 2>&1; then echo "$2"
    else echo "lint.sh: $2 not found (make setup, or set $1=/path/to/$2)" >&2; exit 2
    fi
}
RUFF=$(tool RUFF ruff) && BANDIT=$(tool BANDIT bandit) && DETECT_SECRETS=$(tool DETECT_SECRETS detect-secrets-hook) || exit 2
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
status=0
"$RUFF" check "$@" . || status=1
"$RUFF" format --check . || status=1
mapfile -t shipped < <("$PY" scripts/package.py --list | grep '\.py$')
"$BANDIT" -q "${shipped[@]}" || status=1
git ls-files -z | xargs -0 "$DETECT_SECRETS" || { echo "lint.sh: detect-secrets found the above" >&2; status=1; }
# commit subjects since the last release tag fit `git log --oneline` (72 characters; the detail in the body)
if last=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null); then
    long=$(git log --format=%s "$last..HEAD" | awk 'length > 72')
    [ -z "$long" ] || { printf 'lint.sh: commit subjects over 72 characters since %s:\n%s\n' "$last" "$long" >&2; status=1; }
fi
exit $status
