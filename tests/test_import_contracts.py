"""The boundaries in pyproject.toml's ``[tool.importlinter]`` hold (import-linter, run as
CI runs it). A broken contract prints which import crosses which boundary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is a test extra: pip install -e '.[test]'"
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and "6 kept" in out.stdout, out.stdout
