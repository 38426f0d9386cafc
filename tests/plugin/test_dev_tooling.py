"""The pre-commit hooks run the ruff that requirements-dev.txt pins (and that scripts/lint.sh runs in CI)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_pre_commit_ruff_matches_the_pinned_ruff():
    pin = re.search(r"^ruff==(\S+)$", (REPO / "requirements-dev.txt").read_text(), re.M)
    config = (REPO / ".pre-commit-config.yaml").read_text()
    hook = re.search(r"repo: https://github.com/astral-sh/ruff-pre-commit\s+rev: v(\S+)", config)
    assert pin and hook
    assert hook.group(1) == pin.group(1)
    assert "id: ruff-check" in config and "id: ruff-format" in config
