"""The code passes ruff on the project's configuration (``[tool.ruff]`` in pyproject.toml), format included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff_passes_on_the_projects_configuration(command: list[str]) -> None:
    assert RUFF.exists(), "ruff is in the dev extras: pip install -e '.[dev]'"
    done = subprocess.run([str(RUFF), *command], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
