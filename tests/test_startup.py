"""What ``scaledoc --help`` loads: the parser of every command, none of the probes' weight.

A timed test would fail on a busy machine; what is asserted is the cause of a slow start:
the heavy modules (httpx for the ramp, psutil, the kubernetes client, tree-sitter, the
analysis) must not be imported to print help. ``tests/bench_startup.py`` prints the time.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("httpx", "psutil", "kubernetes", "tree_sitter", "textual", "yaml", "rich", "msgspec",
         "probes.analysis", "probes.ingest", "probes.pipeline", "probes.kube",
         "probes.code.scan", "probes.ramp", "probes.process", "probes.evidence",
         "probes.redact", "numpy", "probes.columnar")
"""Rich, msgspec, the evidence model and the redaction patterns too: printing help renders
nothing and reads nothing (they were 60% of the start-up before the command modules'
renderers moved to tui.render.evidence_tables and their imports into the commands)."""


def test_help_loads_no_probe_weight() -> None:
    code = ("import contextlib, io, sys\n"
            "from tui.commands.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "assert 'COMMAND' in out.getvalue() or 'analyze' in out.getvalue()\n"
            f"heavy = {HEAVY!r}\n"
            "print(','.join(sorted(m for m in sys.modules if m in heavy\n"
            "                      or any(m.startswith(h + '.') for h in heavy))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "", f"--help loaded: {out.stdout.strip()}"


def test_an_offline_analysis_of_a_log_loads_no_live_or_code_probe() -> None:
    """``scaledoc analyze app.log``: no httpx (ramp), psutil (processes), kubernetes client,
    tree-sitter (code probe) nor Textual; they load when an input or flag needs them."""
    log = "tests/lab/scenarios/node-tool-timeout/app.log"
    unwanted = ("httpx", "psutil", "kubernetes", "tree_sitter", "textual", "probes.ramp",
                "probes.process", "probes.code.scan")
    code = ("import contextlib, io, sys\n"
            "from tui.commands.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            f"    main(['analyze', {log!r}])\n"
            "assert 'tool-timeout' in out.getvalue()\n"
            f"unwanted = {unwanted!r}\n"
            "print(','.join(sorted(m for m in sys.modules if m in unwanted\n"
            "                      or any(m.startswith(h + '.') for h in unwanted))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.stdout.strip() == "", f"analyze loaded: {out.stdout.strip()}"
