"""The committed Python agent captures keep the lab's contract (tests/lab/README.md).

Runs ``rebuild.py --check`` in a subprocess (its modules are named ``driver``/``rebuild``, like
other helpers' lab scripts, so they are kept out of the test process), then checks that the
captures hold what the frameworks really printed during the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCEN = os.path.normpath(os.path.join(HERE, "..", "scenarios"))


def test_folders_match_their_rules() -> None:
    r = subprocess.run([sys.executable, os.path.join(HERE, "rebuild.py"), "--check"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def _read(scenario: str, name: str) -> str:
    with open(os.path.join(SCEN, scenario, name), encoding="utf-8") as fh:
        return fh.read()


def test_shared_team_capture_holds_autogens_own_error() -> None:
    # AutoGen 0.7.5 BaseGroupChat.run_stream raises this text; uvicorn printed the traceback.
    log = _read("py-shared-instance-autogen", "uvicorn.log")
    n = log.count("ValueError: The team is already running, it cannot run again until it is "
                  "stopped.")
    truth = json.loads(_read("py-shared-instance-autogen", "truth.json"))
    assert n == truth["measured"]["client_5xx"] > 0
    assert "already running" not in _read("py-shared-instance-autogen-fixed", "uvicorn.log")


def test_rate_limit_capture_holds_the_openai_clients_error() -> None:
    log = _read("py-upstream-rate-limit", "service.log")
    failed = [json.loads(line) for line in log.splitlines()
              if line.startswith("{") and '"agent.run.failed"' in line]
    truth = json.loads(_read("py-upstream-rate-limit", "truth.json"))
    assert len(failed) == truth["measured"]["client_5xx"] > 0
    assert all(f["error_type"] == "RateLimitError" for f in failed)
    assert failed[0]["error"].startswith("Error code: 429 - Rate limit reached for gpt-4o-mini")


def test_tool_timeout_capture_is_cri_with_httpx_tracebacks() -> None:
    lines = _read("py-tool-timeout", "stock-agent-0.log").splitlines()
    assert all(" stderr F " in line[:45] for line in lines)
    truth = json.loads(_read("py-tool-timeout", "truth.json"))
    assert sum(line.endswith(" httpx.ReadTimeout") for line in lines) == truth["measured"][
        "client_5xx"] > 0
