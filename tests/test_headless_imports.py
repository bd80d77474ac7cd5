"""probes/ is the headless core: importing all of it must not load Textual or tui."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import probes


def test_probes_import_without_textual_or_tui() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(probes.__path__, "probes."))
    assert "probes.diagnose" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m == 'textual' or m.startswith(('textual.', 'tui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"probes pulled in: {out.stdout.strip()}"
