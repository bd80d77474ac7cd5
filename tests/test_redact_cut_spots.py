"""Redact first, cut after, in every place that cuts text (issue 12, part 5), and the TUI's
Logs view, which reads the log files itself. Each kind of the secrets corpus
(``tests/secrets/corpus.json``) is put through each spot, in the embeddings the corpus
test uses, with padding that puts the secret across the cut. Real functions, real files.
"""

from __future__ import annotations

import json
from array import array
from pathlib import Path

from probes.advice import _clip
from probes.analysis.runs import LEAD_VALUE_CHARS, RAW_HEAD, _lead_value, excerpt
from probes.diagnose import _short
from probes.events import LogEvent
from probes.ramp import BODY_EXCERPT_CHARS, error_message
from tests.test_secrets_corpus import CORPUS, embeddings, leaks
from tui.app.logview import build_index
from tui.app.widgets.log_view import LogView


def _padded(text: str, cut: int) -> list[str]:
    """The text as is, and shifted so that the cut falls inside it."""
    return [text, "x" * max(0, cut - 10) + " " + text, "y" * max(0, cut - 30) + " " + text]


def test_every_cutting_spot_redacts_first() -> None:
    spots = {
        "runs._lead_value": (lambda t: _lead_value(t), LEAD_VALUE_CHARS),
        "diagnose._short": (lambda t: _short(t), 160),
        "advice._clip": (lambda t: _clip(t, 120), 120),
        "ramp.error_message": (error_message, BODY_EXCERPT_CHARS),
    }
    tried, failed = 0, []
    for kind in CORPUS:
        for how, text in embeddings(kind["text"]).items():
            for name, (fn, cut) in spots.items():
                for padded in _padded(text, cut):
                    tried += 1
                    out = fn(padded)
                    if leaks(kind, out):
                        failed.append((name, kind["kind"], how, out[:160]))
    print(f"\nsecrets through the cutting spots: {len(CORPUS)} kinds, {tried} tried, "
          f"{len(failed)} failed")
    assert not failed, failed[:5]


def test_excerpt_with_a_lead_redacts_the_raw_head_before_its_cut() -> None:
    """A long line whose proving fields are lifted out (the raw head is cut to RAW_HEAD):
    a secret across that cut was left half visible."""
    tried, failed = 0, []
    for kind in CORPUS:
        for padded in _padded(kind["text"], RAW_HEAD):
            text = padded + " " + "z" * 600 + ' "msg":"run finished"'
            ev = LogEvent(time_ns=None, source="a.log", line=1, message="run finished",
                          session="s-1", status=500, text=text)
            tried += 1
            out = excerpt(ev).text
            if leaks(kind, out):
                failed.append((kind["kind"], out[:200]))
    print(f"secrets through excerpt leads: {tried} tried, {len(failed)} failed")
    assert not failed, failed[:5]


def test_logs_view_shows_lines_redacted(tmp_path: Path) -> None:
    """The TUI Logs view builds its own index from the files: every row, raw and
    summarised, is redacted before it is drawn."""
    log = tmp_path / "app.log"
    lines = [json.dumps({"level": 50, "time": 1721296800000 + i, "msg": f"[case] {k['text']}"})
             for i, k in enumerate(CORPUS)]
    lines += [k["text"].replace("\n", " ") for k in CORPUS]
    log.write_text("\n".join(lines) + "\n")
    index = build_index([str(log)])
    view = LogView()
    view.index, view.rows = index, array("I", range(len(index)))
    shown = []
    for raw in (False, True):
        view.raw = raw
        shown.extend(view.row_text(r).plain for r in range(len(index)))
    out = "\n".join(shown)
    failed = [k["kind"] for k in CORPUS if leaks(k, out)]
    print(f"secrets in the Logs view: {len(CORPUS)} kinds, {len(index)} rows x 2 modes, "
          f"{len(failed)} leaked")
    assert len(index) >= len(CORPUS)
    assert not failed, failed
