"""Live evidence and logs in one verdict: `scaledoc analyze LOG --ramp URL --port N`.

Real parts: the buggy shared-team service and its fixed twin as uvicorn processes on
127.0.0.1 (tests/services), the real ramp (httpx), the real process probe (psutil), and
the service's own log file, all through the real CLI in a subprocess. Nothing is mocked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services.launch import running  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def _analyze(log: Path, url: str, port: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "tui.commands.cli", "analyze", "--json", str(log),
         "--ramp", f"{url}/chat",
         "--ramp-body", '{"message": "hi"}', "--ramp-levels", "1,8", "--ramp-per-level", "16",
         "--port", str(port)],
        capture_output=True, timeout=100)
    assert out.returncode == 0, out.stderr.decode()
    doc: dict[str, object] = json.loads(out.stdout)
    return doc


def _answer(doc: dict[str, object], key: str) -> str:
    signals = doc["signals"]
    assert isinstance(signals, list)
    return next(s["answer"] for s in signals if s["key"] == key)


def test_buggy_service_ramp_process_and_log_agree(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    with running(mode="buggy", env={"AGENT_LOG_FILE": str(log),
                                    "HOSTNAME": "agent-join-buggy"}) as svc:
        doc = _analyze(log, svc.url, svc.port)
    probes = {p["probe"] for p in doc["probes"]}  # type: ignore[union-attr, index]
    assert {"logs", "ramp", "process"} <= probes
    assert _answer(doc, "errors.rise_with_concurrency") == "yes"
    assert _answer(doc, "errors.already_running") == "yes"
    assert doc["verdict"] == "shared-instance"


def test_fixed_twin_is_not_blamed(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    with running(mode="fixed", env={"AGENT_LOG_FILE": str(log),
                                    "HOSTNAME": "agent-join-fixed"}) as svc:
        doc = _analyze(log, svc.url, svc.port)
    assert _answer(doc, "errors.rise_with_concurrency") == "no"
    assert doc["verdict"] != "shared-instance"
    assert doc["verdict"] in ("healthy", "inconclusive")
