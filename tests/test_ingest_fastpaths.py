"""The speed paths of ingestion give exactly what the general paths give.

``JsonLayout`` first decodes a line with a *closed* Struct (the sample's keys only,
unknown keys forbidden) and falls back to the full Struct of every alias; a merge of
one stream is that stream. Each test runs the same input both ways and compares the
events field by field, on lines chosen to leave the fast path: a fallback key the
sample never showed, an unknown key, a nested value of the wrong type, bad JSON.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import tempfile
from pathlib import Path
from typing import Any

from probes.analysis import LogAnalysis
from probes.events import LogEvent
from probes.ingest import IngestConfig, InputFile, LogReader, merge_by_time
from probes.ingest.gcpause import gc_paused
from probes.ingest.lineformats import FAST_GIVE_UP, LineParser, detect_format

BASE = {"level": 30, "time": 1714557600000, "pid": 7, "hostname": "api-1",
        "reqId": "req-1", "sessionId": "sess-1", "runId": "run-1",
        "agent": {"name": "planner", "instanceId": "inst-1"}, "msg": "run started"}
SAMPLE = [BASE, {**BASE, "msg": "request completed", "res": {"statusCode": 200},
                 "responseTime": 12, "extra": {"deep": [1, 2]}}]


def _line(**kw: Any) -> str:
    doc = {**BASE, **kw}
    return json.dumps({k: v for k, v in doc.items() if v is not None})


ODD_LINES = [
    _line(),
    _line(sessionId=None, workflowId="wf-9"),  # fallback key the sample never showed
    _line(runId=None, run_id="run-x", stateVersion=3),  # fallback + an extra role
    _line(newKey={"a": 1}),  # a key outside the sample
    _line(agent="planner"),  # nested object expected, a string given
    _line(extra="now a string"),  # a sample key read as Raw, any type
    _line(level="warn", msg="run failed", err={"type": "Error", "message": "boom"}),
    '{"level":30,"time":1714557600001,"msg":"truncated',  # bad JSON
    _line(res={"statusCode": 503}, responseTime=30000, msg="request completed"),
]


def _parsers() -> tuple[LineParser, LineParser]:
    fmt, samples = detect_format([json.dumps(d) for d in SAMPLE])
    fast = LineParser(fmt, samples, {}, "t.log")
    full = LineParser(fmt, samples, {}, "t.log")
    assert fast.layout is not None and full.layout is not None
    full.layout._fast = None  # the general path only
    return fast, full


def _as_tuple(ev: LogEvent) -> tuple[Any, ...]:
    return dataclasses.astuple(ev)


def test_closed_decoder_gives_what_the_full_decoder_gives() -> None:
    fast, full = _parsers()
    for i, text in enumerate(ODD_LINES):
        a, b = fast.parse(text, i + 1, None, None), full.parse(text, i + 1, None, None)
        assert _as_tuple(a) == _as_tuple(b), text
    # the fallback keys were really read, not just equally missed
    assert fast.parse(ODD_LINES[1], 2, None, None).session == "wf-9"
    ev = fast.parse(ODD_LINES[2], 3, None, None)
    assert ev.run == "run-x" and ev.fields == {"version": 3}
    assert fast.unparsed == full.unparsed == 1


def test_closed_decoder_is_dropped_when_most_lines_miss_it() -> None:
    fast, full = _parsers()
    assert fast.layout is not None
    lines = [_line(sessionId=None, workflowId=f"wf-{i}") for i in range(FAST_GIVE_UP + 10)]
    for i, text in enumerate(lines):
        a, b = fast.parse(text, i + 1, None, None), full.parse(text, i + 1, None, None)
        assert _as_tuple(a) == _as_tuple(b)
    assert fast.layout._fast is None
    assert fast.parse(lines[-1], 1, None, None).session == f"wf-{FAST_GIVE_UP + 9}"


def test_closed_decoder_kept_when_misses_are_rare() -> None:
    fast, _ = _parsers()
    assert fast.layout is not None
    for i in range(3 * FAST_GIVE_UP):
        text = _line(newKey=1) if i % 3 == 0 else _line()
        fast.parse(text, i + 1, None, None)
    assert fast.layout._fast is not None


def test_merge_of_one_stream_is_that_stream() -> None:
    evs = [LogEvent(t, "a.log", i) for i, t in enumerate([None, 5, 3, None, 9, 1], 1)]
    assert [e.line for e in merge_by_time([iter(evs)])] == [1, 2, 3, 4, 5, 6]


def test_merge_pauses_the_collector_and_restores_it() -> None:
    """The merge runs with automatic gc off; finished, closed early or nested, the
    collector comes back as it was (on here, off when the caller had it off)."""
    assert gc.isenabled()
    evs = [LogEvent(t, "a.log", t) for t in range(1, 5)]
    seen: list[bool] = []
    for _ev in merge_by_time([iter(evs)]):
        seen.append(gc.isenabled())
    assert seen == [False] * 4 and gc.isenabled()
    early = merge_by_time([iter(evs), iter(evs)])
    next(early)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the merge's own pause still holds
    early.close()
    assert gc.isenabled()
    gc.disable()
    try:
        list(merge_by_time([iter(evs)]))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ingest_loop_makes_no_garbage_cycles_per_line() -> None:
    """Pausing the collector is only sound if lines leave no cycles behind: the
    unreachable objects after 300 lines and after 3000 lines are the same few."""
    found = []
    for n in (300, 3000):
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "x.log"
            p.write_text("".join(_line(reqId=f"req-{i}", runId=f"run-{i}",
                                       msg=("run started", "run finished")[i % 2],
                                       err={"type": "Error", "message": "boom"} if i % 7 == 0
                                       else None) + "\n" for i in range(n)))
            gc.collect()
            analysis = LogAnalysis()
            for ev in merge_by_time([LogReader(InputFile(str(p), p), IngestConfig()).events()]):
                analysis.feed(ev)
            analysis.finish()
            found.append(gc.collect())
    assert found[1] <= found[0] + 10, found


def test_utc_timestamps_parse_as_the_general_way() -> None:
    # parse_iso_ns takes the whole second of "YYYY-MM-DDTHH:MM:SS[.f]Z" from a memo; it
    # must give what the general parse gives, valid or not, memo hit or miss
    from probes import evidence

    heads = ["2024-05-01T10:00:00", "2024-02-29T23:59:59", "2023-02-29T00:00:00",
             "2024-13-01T00:00:00", "2024-05-01T24:00:00", "2016-12-31T23:59:60",
             "0000-01-01T00:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59",
             "1969-12-31T23:59:59", "1970-01-01T00:00:00", "2024-05-01T10:00:0\u0663"]
    tails = ["Z", ".Z", ".1Z", ".000000000Z", ".123456789Z", ".1234567891234Z", ".5z",
             "z", "+00:00", ".25+02:00", "Z ", " Z", ".\u0663Z", ".12,5Z", "ZZ", ""]
    texts = [h + t for h in heads for t in tails]
    texts += [" " + t for t in texts[:40]] + ["", "Z", "2024-05-01", "2024-05-01 10:00:00Z"]
    for _round in range(2):  # the first round fills the memo, the second reads it
        for t in texts:
            assert evidence.parse_iso_ns(t) == evidence._parse_iso_ns(t), t
    evidence._WHOLE_SECONDS.clear()
