"""Secrets of every kind, through every output; invisible characters made visible (issue 12).

The corpus (``tests/secrets/corpus.json``, written by ``tests/secrets/make_corpus.py``)
holds one entry per kind of secret the attack on issue 12 placed in cited log lines,
plus the provider keys an agent service holds (LLM, vector store, search, tracing):
real-shaped values (prefix, alphabet, length as issued), never real ones. Each kind is
logged the way services log it, inside a pino JSON line (so a JSON body in the message
is JSON-escaped in the line, and a PEM key's newlines are ``\\n``), and run through the
real CLI as a subprocess: the text report (piped), ``--format markdown``, ``--json`` with
``--save-case``, and a capture bundle of a fake API server. A kind counts as tried in
an output only when its line was cited there (its ``[case-NN]`` marker is in the
output); it fails when its value, or the first 8 characters of it, is anywhere in the
output. The counts are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from probes import redact
from probes.evidence import MAX_EXAMPLE_TEXT, example
from probes.redact import _redact_all, redact_text
from probes.safe_text import visible

ROOT = Path(__file__).resolve().parent.parent
CORPUS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "secrets" / "corpus.json").read_text(encoding="utf-8"))["kinds"]
PREFIX = 8  # a leaked start of a secret this long counts as a leak


def leaks(kind: dict[str, Any], out: str) -> list[str]:
    """The secrets of ``kind`` (or their first ``PREFIX`` characters) found in ``out``."""
    found = []
    for secret in kind["secrets"]:
        for needle in (secret, secret[:PREFIX]):
            if needle in out or json.dumps(needle)[1:-1] in out:
                found.append(needle)
                break
    return found


def embeddings(text: str) -> dict[str, str]:
    """The ways a secret reaches an output: as logged, inside a JSON log line, and
    inside a JSON string inside a JSON line (a logged request body)."""
    line = json.dumps({"level": 50, "msg": f"[case] {text}"})
    return {"plain": text, "json line": line, "escaped twice": json.dumps(line)}


# --------------------------------------------------------------------------- in process


def test_every_kind_is_masked_in_every_embedding() -> None:
    tried, failed = 0, []
    for kind in CORPUS:
        for how, text in embeddings(kind["text"]).items():
            tried += 1
            out = redact_text(text)
            if leaks(kind, out):
                failed.append((kind["kind"], how, out[:200]))
            assert redact_text(out) == out, (kind["kind"], how, "not idempotent")
    print(f"\nsecrets in process: {len(CORPUS)} kinds, {tried} tried, {len(failed)} failed")
    assert not failed, failed


def test_the_precheck_changes_no_output() -> None:
    """``redact_text`` skips text without any trigger; on the corpus and on every 5th
    line of the lab's and corpus' real logs it must give what all rules give."""
    texts = [t for k in CORPUS for t in embeddings(k["text"]).values()]
    for base in ("tests/lab/scenarios", "tests/corpus"):
        for path in sorted((ROOT / base).rglob("*.log")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            texts.extend(lines[::5])
    for text in texts:
        assert redact_text(text) == _redact_all(text), text[:200]


def test_every_rule_that_masks_a_corpus_secret_is_triggered() -> None:
    """A rule whose trigger misses a text it would change would silently stop redacting
    behind the pre-check: each rule alone, on each corpus text it changes."""
    rules = (*redact._RULES, *redact.VENDORED_RULES)
    exercised = set()
    for kind in CORPUS:
        for text in embeddings(kind["text"]).values():
            for name, pattern, replace, _ in rules:
                if pattern.sub(replace, text) != text:
                    exercised.add(name)
                    assert redact._is_candidate(text), (name, kind["kind"])
    print(f"\nrules exercised by the corpus: {len(exercised)} of {len(rules)}")
    assert redact.VENDORED_RULES, redact.VENDORED_SOURCE
    assert "detect-secrets" in redact.VENDORED_SOURCE


def test_excerpt_is_redacted_before_it_is_cut() -> None:
    """A PEM key longer than the excerpt: cut first, the END line is gone and the key's
    shape with it; ``example`` redacts the whole text, then cuts."""
    kind = next(k for k in CORPUS if k["kind"] == "PEM RSA key longer than the excerpt")
    line = json.dumps({"level": 50, "msg": kind["text"]})
    assert len(line) > 3 * MAX_EXAMPLE_TEXT
    ex = example("app.log", 7, None, line, note=f"from {line}")
    assert not leaks(kind, ex.text) and not leaks(kind, ex.note)
    assert "-----BEGIN RSA PRIVATE KEY-----***" in ex.text
    cut = kind["text"][:MAX_EXAMPLE_TEXT]  # already cut by someone else: BEGIN, no END
    assert redact_text(cut).endswith("-----BEGIN RSA PRIVATE KEY-----***")


# --------------------------------------------------------------------------- invisible


def test_every_format_character_is_made_visible() -> None:
    """Every code point of category Cf (this Python's Unicode tables), and the named
    invisible ones of issue 12, come out as an escape, never as themselves."""
    cf = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    shown = visible("".join(cf))
    assert not any(ch in shown for ch in cf)
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore previous")
    out = visible(f"pod\ufeff-a\u2060b\u00adc\u180ed {hidden}\U000e007f")
    assert out == ("pod\\ufeff-a\\u2060b\\xadc\\u180ed "
                   + "".join(f"\\U{0xE0000 + ord(c):08x}" for c in "ignore previous")
                   + "\\U000e007f")
    assert visible("\u3164\u115f\U000e0100") == "\\u3164\\u115f\\U000e0100"
    assert visible("naïve ☃ 東京 e\u0301") == "naïve ☃ 東京 e\u0301"  # visible text stays


# --------------------------------------------------------------------------- CLI


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM")}
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tui.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120)


def write_group(path: Path, group: list[tuple[int, dict[str, Any]]]) -> None:
    """Each kind's line twice, as a pino rate-limit error (a family that is cited)."""
    with path.open("w", encoding="utf-8") as f:
        for n in range(2 * len(group)):
            i, kind = group[n % len(group)]
            f.write(json.dumps({
                "level": 50, "time": 1_763_770_000_000 + 10 * n, "pid": 7, "hostname": "web",
                "reqId": f"r{n}",
                "msg": f"[case-{i:02d}] {kind['text']} RateLimitError: 429 Too Many Requests",
            }) + "\n")


class Tally:
    def __init__(self) -> None:
        self.tried: dict[str, int] = {}
        self.failed: list[tuple[str, str, list[str]]] = []
        self.not_cited: dict[str, list[str]] = {}

    def check(self, output: str, body: str, group: list[tuple[int, dict[str, Any]]]) -> None:
        for i, kind in group:
            if f"case-{i:02d}]" not in body:
                self.not_cited.setdefault(output, []).append(kind["kind"])
                continue
            self.tried[output] = self.tried.get(output, 0) + 1
            found = leaks(kind, body)
            if found:
                self.failed.append((output, kind["kind"], found))

    def report(self) -> str:
        return "; ".join(f"{o}: {n} tried, {sum(f[0] == o for f in self.failed)} failed"
                         for o, n in self.tried.items())


def groups(size: int) -> list[list[tuple[int, dict[str, Any]]]]:
    numbered = list(enumerate(CORPUS))
    return [numbered[i:i + size] for i in range(0, len(numbered), size)]


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    t = Tally()
    yield t
    print(f"\nsecrets through the CLI ({len(CORPUS)} kinds): {t.report()}")


def test_reports_text_and_markdown_hold_no_secret(tmp_path: Path, tally: Tally) -> None:
    """The text and Markdown reports cite three lines of a family: groups of three."""
    for g, group in enumerate(groups(3)):
        log = tmp_path / f"group-{g}.log"
        write_group(log, group)
        for fmt in ("text", "markdown"):
            proc = run("analyze", str(log), "--format", fmt)
            assert proc.returncode == 0, proc.stderr
            tally.check(fmt, proc.stdout + proc.stderr, group)
    assert not tally.failed, tally.failed
    for fmt in ("text", "markdown"):
        assert tally.tried.get(fmt) == len(CORPUS), (fmt, tally.not_cited.get(fmt))


def test_json_report_and_saved_case_hold_no_secret(tmp_path: Path, tally: Tally) -> None:
    """``--json`` cites eight lines of a family, and the saved case holds all evidence."""
    for g, group in enumerate(groups(8)):
        log, case = tmp_path / f"group-{g}.log", tmp_path / f"case-{g}.json"
        write_group(log, group)
        proc = run("analyze", str(log), "--json", "--save-case", str(case))
        assert proc.returncode == 0, proc.stderr
        json.loads(proc.stdout)
        tally.check("json", proc.stdout + proc.stderr, group)
        tally.check("saved case", case.read_text(encoding="utf-8"), group)
    assert not [f for f in tally.failed if f[0] in ("json", "saved case")], tally.failed
    for output in ("json", "saved case"):
        assert tally.tried.get(output) == len(CORPUS), (output, tally.not_cited.get(output))


def test_capture_bundle_holds_no_secret(tmp_path: Path, tally: Tally) -> None:
    """Every kind in a pod's log on a fake API server (real HTTP on 127.0.0.1): the
    capture bundle's members, and the report on the bundle, hold none of them."""
    from tests.kube_server import NS, FakeKube, load_agent_scenario

    with FakeKube() as fake:
        names = load_agent_scenario(fake)
        key = (NS, names[0], "config-db", False)
        now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        fake.logs[key] = fake.logs[key] + "".join(
            f"{now}.{i:09d}Z " + json.dumps({"level": 50, "msg": f"[case-{i:02d}] {k['text']}"})
            + "\n" for i, k in enumerate(CORPUS))
        cfg = fake.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
        bundle = tmp_path / "bundle.tar.gz"
        proc = subprocess.run(
            [sys.executable, "-m", "tui.commands.cli", "capture", "--kubeconfig", str(cfg),
             "deploy/agent", "-o", str(bundle)], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}, timeout=120)
        assert proc.returncode == 0, proc.stderr
    bodies = []
    with tarfile.open(bundle) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member) if member.isfile() else None
            if data is not None:
                bodies.append(data.read().decode("utf-8", "replace"))
    body = "\n".join(bodies)
    tally.check("capture bundle", body, list(enumerate(CORPUS)))
    proc = run("analyze", str(bundle), "--json")
    tally.check("report on bundle", proc.stdout + proc.stderr, [])
    assert not [f for f in tally.failed if f[0] == "capture bundle"], tally.failed
    for kind in CORPUS:
        assert not leaks(kind, proc.stdout), kind["kind"]
    assert tally.tried.get("capture bundle") == len(CORPUS), tally.not_cited


def test_markers_are_not_secret_shaped() -> None:
    """The ``[case-NN]`` markers must survive redaction, or 'cited' could not be told."""
    assert all(re.fullmatch(r"\[case-\d\d\]", redact_text(f"[case-{i:02d}]"))
               for i in range(len(CORPUS)))


INVISIBLE = "\ufeff\u2060\u00ad\u180e\u200b\u2064" + "".join(
    chr(0xE0000 + ord(c)) for c in "rm -rf") + "\U000e007f"


def test_invisible_characters_are_visible_in_every_report(tmp_path: Path) -> None:
    """Format characters in a cited line and in a file name come out as escapes in the
    text, Markdown and JSON reports (in JSON as the escape's characters)."""
    log = tmp_path / "web\u2060\ufeff.log"
    log.write_text("".join(json.dumps({
        "level": 50, "time": 1_763_770_000_000 + n, "pid": 7, "hostname": "web",
        "reqId": f"r{n}", "msg": f"[case-{n:02d}] RateLimitError{INVISIBLE}: 429 Too Many Requests",
    }, ensure_ascii=False) + "\n" for n in range(5)), encoding="utf-8")
    tried = 0
    for fmt in ("text", "markdown", "json"):
        proc = run("analyze", str(log), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert "case-00]" in proc.stdout, fmt
        for ch in INVISIBLE:
            tried += 1
            assert ch not in proc.stdout and ch not in proc.stderr, (fmt, hex(ord(ch)))
        shown = proc.stdout.replace("\\\\", "\\")  # JSON doubles the escape's backslash
        assert "\\ufeff" in shown and "\\U000e0072" in shown, fmt
    print(f"\ninvisible characters through the CLI: {tried} tried, 0 failed")
