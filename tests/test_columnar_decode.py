"""``decode_inputs`` gives exactly the per-event path's events and reports, or declines.

The oracle is the reader itself: for every input set the decoder accepts, the rows read
back as ``LogEvent``s (texts read back from the files by offset) must equal
``merge_by_time`` over one ``LogReader`` per input, field for field and in order, and each
report must equal the reader's. Checked on every input file the tests use (ingest cases,
lab scenario logs, every corpus and golden case as the set of inputs it is), on the
benchmark generator's file, and on generated hostile lines (cut lines, invalid UTF-8,
lone surrogates, duplicate keys, big numbers, deep nesting, text and tracebacks inside
JSON, CRLF, BOM, blank lines, odd types) with small blocks so that every block boundary
case is crossed, and on generated container-wrapped inputs (CRI partial lines between
other streams, Docker records with escapes and partials, kubectl timestamps of every
width, several pods behind ``--prefix``, stern colours, lines with no wrapper, CRLF).
Held-back corpus cases run through the same comparison but a mismatch only names the
case: their contents are not for tuning.

``python3 tests/test_columnar_decode.py`` prints which inputs were accepted and why the
others were declined.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pytest

import probes.columnar.decode as decode_mod
import probes.ingest.merge as merge_mod
from probes.columnar import events_from_columns
from probes.columnar.decode import Decoded, FileTexts, NotDecoded, decode_inputs
from probes.events import LogEvent
from probes.evidence import InputReport
from probes.ingest import IngestConfig, InputFile, LogReader
from probes.ingest.merge import merge_by_time
from probes.ingest.sources import discover
from tests import score
from tests.bench_ingest import generate

ROOT = Path(__file__).parent
JSON_FORMATS = {"pino", "pino-http", "fastify", "bunyan", "winston", "structlog"}


def reference(inputs: list[InputFile], config: IngestConfig
              ) -> tuple[list[LogEvent], list[InputReport]]:
    """What the per-event path gives: events merged by time, then each final report."""
    readers = [LogReader(i, config) for i in inputs]
    events = list(merge_by_time([r.events() for r in readers]))
    return events, [r.report() for r in readers]


def same(inputs: list[InputFile], config: IngestConfig | None = None
         ) -> tuple[Decoded | NotDecoded, bool]:
    """Decode, and whether an accepted result equals the reference (True if declined)."""
    config = config or IngestConfig()
    got = decode_inputs(inputs, config)
    if isinstance(got, NotDecoded):
        return got, True
    events, reports = reference(inputs, config)
    back = list(events_from_columns(got.columns))
    return got, back == events and got.reports == reports


def assert_same(inputs: list[InputFile], config: IngestConfig | None = None) -> Decoded:
    config = config or IngestConfig()
    got = decode_inputs(inputs, config)
    assert isinstance(got, Decoded), got
    events, reports = reference(inputs, config)
    back = list(events_from_columns(got.columns))
    assert len(back) == len(events)
    for row, (a, b) in enumerate(zip(back, events, strict=True)):
        assert a == b, f"row {row}"
    assert got.reports == reports
    return got


# --------------------------------------------------------------------------- every input


def _input_files() -> list[Path]:
    files = sorted(p for p in (ROOT / "ingest_cases").rglob("*") if p.is_file())
    files += sorted((ROOT / "lab" / "scenarios").glob("*/*.log"))
    return files


FILES = _input_files()
CASES = list(score.discover())


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_every_input_file_decodes_exactly_or_is_declined(path: Path) -> None:
    inputs = [InputFile(str(path), path)]
    got, ok = same(inputs)
    assert ok, f"{path}: decoded rows differ from the reader's"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.set}-{c.name}" for c in CASES])
def test_every_case_decodes_exactly_or_is_declined(case: score.Case) -> None:
    # held-back cases: compared, never shown (a mismatch names the case only)
    got, ok = same(discover(case.inputs))
    assert ok, f"{case.set}/{case.name} ({case.part}): decoded rows differ from the reader's"


def test_the_json_captures_of_the_lab_are_accepted() -> None:
    accepted, declined = survey()
    json_files = [p for p in (ROOT / "lab" / "scenarios").glob("*/*.log")
                  if _format(p) in JSON_FORMATS]
    assert {_format(p) for p in json_files} == JSON_FORMATS  # every family is there
    assert all(str(p) in accepted for p in json_files), [
        (str(p), declined.get(str(p))) for p in json_files if str(p) not in accepted]


def test_every_input_and_case_but_traces_is_accepted() -> None:
    # wrapped inputs (CRI, Docker, kubectl --timestamps/--prefix, stern) included: 137 of
    # 140 input files and 130 of 144 cases, the rest OTLP/trace inputs
    accepted, declined = survey()
    assert {_reason_kind(r) for r in declined.values()} <= {
        "traces are read by the per-event path"}, declined
    wrapped = [p for p in FILES if "+" in _format(p)]
    assert len(wrapped) >= 9 and all(str(p) in accepted for p in wrapped)
    assert len(accepted) >= 137 + 130, len(accepted)


def _format(path: Path) -> str:
    r = LogReader(InputFile(str(path), path), IngestConfig())
    for _ev in r.events():
        pass
    return r.report().format


def survey() -> tuple[set[str], dict[str, str]]:
    """Every input file and case: the names accepted, and the reason for the others."""
    accepted: set[str] = set()
    declined: dict[str, str] = {}
    for p in FILES:
        got = decode_inputs([InputFile(str(p), p)], IngestConfig())
        if isinstance(got, Decoded):
            accepted.add(str(p))
        else:
            declined[str(p)] = got.reason
    for c in CASES:
        name = f"case {c.set}/{c.name}"
        got = decode_inputs(discover(c.inputs), IngestConfig())
        if isinstance(got, Decoded):
            accepted.add(name)
        else:
            declined[name] = got.reason
    return accepted, declined


def _reason_kind(reason: str) -> str:
    """A decline reason without the input's name, for counting."""
    return reason.split(": ", 1)[-1]


# --------------------------------------------------------------------------- generated


def _pino(i: int, t: int, **extra: object) -> str:
    doc: dict[str, object] = {"level": 30, "time": t, "pid": 1000 + i % 3,
                              "hostname": f"api-{i % 3}", "reqId": f"req-{i}",
                              "sessionId": f"s-{i % 7}", "runId": f"run-{i}",
                              "msg": ("run started", "run finished", "request completed")[i % 3]}
    if i % 3 == 2:
        doc["res"] = {"statusCode": 200 if i % 5 else 500}
        doc["responseTime"] = 5 + i % 97
    doc.update(extra)
    return json.dumps(doc)


HOSTILE_LINES = [
    '{"level":30,"time":1714557600000,"msg":"dup","msg":"second wins?","pid":1}',
    '{"level":30,"time":1714557600000123,"msg":"microsecond time"}',
    '{"level":30,"time":1714557600000,"pid":123456789012345678901234567890,"msg":"big pid"}',
    '{"level":30,"time":1714557600000,"responseTime":1e400,"msg":"inf duration"}',
    '{"level":30,"time":1714557600000,"responseTime":123456789012345678901234567890,'
    '"msg":"huge int duration"}',
    '{"level":30,"time":1714557600000,"res":{"statusCode":99999999999999999999999},"msg":"x"}',
    '{"level":99,"time":1714557600000,"msg":"level out of range"}',
    '{"level":"warn","time":"2024-05-01T10:00:00.123Z","msg":"string level and iso time"}',
    '{"level":true,"time":true,"pid":true,"hostname":false,"msg":true}',
    '{"level":30.0,"time":1714557600000.5,"pid":12.5,"reqId":3.5,"runId":-0.0,"msg":1.5}',
    '{"level":30,"time":1714557600000,"reqId":7,"pid":-0.0,"msg":"float zero pid"}',
    '{"level":30,"time":1714557600000,"reqId":7,"pid":0.0,"msg":"float zero pid"}',
    '{"level":30,"time":1714557600000,"sessionId":"MainThread","msg":"a thread, not a session"}',
    '{"level":30,"time":1714557600000,"sessionId":"AnyIO worker 3","msg":"a thread too"}',
    '{"level":30,"time":1714557600000,"sessionId":"Thread-7","msg":"and this"}',
    '{"level":30,"time":1714557600000,"sessionId":"Alice","msg":"a session"}',
    '{"level":30,"time":1714557600000,"sessionId":12,"runId":[1,2],"reqId":{"a":1},"msg":"m"}',
    '{"level":30,"time":1714557600000,"msg":"lone \\ud800 surrogate","reqId":"\\udcff"}',
    '{"level":30,"time":1714557600000,"msg":"nul escape \\u0000 inside"}',
    '{"level":50,"time":1714557600000,"err":{"type":"Error","message":"boom\\nsecond line"},'
    '"msg":"run failed"}',
    '{"level":50,"time":1714557600000,"err":"plain text error","msg":"request completed",'
    '"res":{"statusCode":503},"responseTime":12}',
    '{"level":40,"time":1714557600000,"msg":"worker 26074 died","pid":9}',
    '{"level":30,"time":1714557600000,"msg":"m","unknownKey":1,"sessionId":"s-x"}',
    '{"level":30,"time":1714557600000,"msg":"m","session_id":"fallback-session"}',
    '{"level":30,"time":1714557600000,"msg":"m","version":3,"tool":"search","user":{"id":1},'
    '"messages":[1,2,3]}',
    '{"level":30,"time":1714557600000,"hostname":"","pid":"","reqId":"r1","msg":"empty ids"}',
    '{"level":30,"time":1714557600000,"msg":"two records"}{"level":30,"time":1714557600001,'
    '"msg":"back to back"}',
    '{"level":30,"time":1714557600000,"msg":"truncated',
    '{not json at all}',
    '   {"level":30,"time":1714557600000,"msg":"leading spaces"}',
    '{"a":' + "[" * 150 + "]" * 150 + "}",
    '{"msg":"' + "[" * 150 + '","level":30}',
    "plain text line in a JSON file",
    "ERROR something broke",
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "ValueError: bad",
    '{"level":30,"time":1714557600000,"msg":"after the traceback"}',
    "TypeError: x is not a function",
    "    at f (/app/a.js:1:2)",
    '{"level":30,"time":1714557600000,"msg":"after the stack"}',
    "",
    "   ",
    "\t",
    '{"level":30,"time":1714557600000,"msg":"tab\tinside"}',
    '{"level":30,"time":0,"msg":"zero time"}',
    '{"level":30,"time":-5,"msg":"negative time"}',
    '{"level":30,"msg":"no time at all"}',
    "[]",
    "{}",
    "null",
]


def _hostile_file(path: Path, cap: int, *, crlf: bool = False, bom: bool = False,
                  final_newline: bool = True) -> None:
    """A pino file (so the format locks as pino) with hostile lines throughout."""
    nl = b"\r\n" if crlf else b"\n"
    out: list[bytes] = []
    t = 1_714_557_600_000
    for i in range(400):  # a plain sample first: the format and layout lock on it
        out.append(_pino(i, t + i).encode())
    for k, h in enumerate(HOSTILE_LINES):
        out.append(h.encode("utf-8", "surrogatepass"))
        out.append(_pino(1000 + k, t + 1000 + k).encode())
    long_msg = "x" * (cap + 50)
    out += [
        _pino(1, t, msg=long_msg).encode(),  # over the cap: cut, then not JSON
        b'{"msg":"' + b"y" * (cap - 10) + b'"}',  # exactly near the cap
        b"z" * cap,  # exactly the cap
        b"z" * cap + b"\r",  # the cap plus CR (a CRLF line of exactly cap bytes)
        b"w" * (cap + 1),  # one over the cap
        b"v" * (cap * 9 + 7),  # over the cap and over small blocks
        _pino(2, t, msg="caf\xe9").encode("latin-1"),  # invalid UTF-8
        _pino(3, t, msg="ok é ü 日本").encode(),  # valid non-ASCII
        b'{"level":30,"time":1714557600000,"msg":"bad \xff\xfe bytes"}',
        b'{"level":30,"time":1714557600000,"msg":"nul \x00 byte"}',
        b"\x00\x00",
        b"\xef\xbb\xbf" + _pino(4, t).encode(),  # a BOM in the middle
        b"\r",
    ]
    for i in range(300):
        out.append(_pino(2000 + i, t + 2000 + i).encode())
    data = nl.join(out) + (nl if final_newline else b"")
    if not final_newline:
        data += b"v" * (cap + 3)  # the last line: over the cap, no line ending
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


@pytest.mark.parametrize("block", [4096, 1 << 20])
@pytest.mark.parametrize("variant", ["lf", "crlf", "bom", "no-final-newline", "pod-name"])
def test_hostile_lines_decode_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      block: int, variant: str) -> None:
    monkeypatch.setattr(decode_mod, "BLOCK_BYTES", block)
    cap = 1024
    path = tmp_path / "hostile.log"
    _hostile_file(path, cap, crlf=variant == "crlf", bom=variant == "bom",
                  final_newline=variant != "no-final-newline")
    # an input named for a pod gives that pod as the host of lines that name none
    name = "pod/api-7/app" if variant == "pod-name" else "hostile.log"
    done = assert_same([InputFile(name, path)], IngestConfig(max_line_bytes=cap))
    report = done.reports[0]
    assert report.format in JSON_FORMATS
    assert report.skipped.get("empty line")
    assert any("cut" in n for n in report.notes)
    assert any("invalid UTF-8" in n for n in report.notes)
    assert isinstance(done.columns.texts, FileTexts)


def test_a_warn_line_whose_marks_depend_on_the_kind_cache_is_declined(tmp_path: Path) -> None:
    # A warn line whose message names a kind ("run failed") and a fatal mark ("worker N
    # died"): the reader marks it only while the message is new to its process-wide kind
    # cache, so two identical lines give two different events, and which one depends on
    # what any reader read before. The decoder cannot reproduce that order: it declines.
    msg = f"run failed: worker 26074 died (#{uuid.uuid4().hex})"
    path = tmp_path / "a.log"
    lines = [_pino(i, 1_714_557_600_000 + i) for i in range(50)]
    lines += [json.dumps({"level": 40, "time": 1_714_557_600_100 + k, "pid": 1, "msg": msg})
              for k in range(2)]
    path.write_text("\n".join(lines) + "\n")
    first, second = reference([InputFile("a.log", path)], IngestConfig())[0][-2:]
    assert (first.level, first.pid) == (50, "26074")  # marked: new to the cache
    assert (second.level, second.pid) == (40, "1")  # not marked: the cache knew it
    got = decode_inputs([InputFile("a.log", path)], IngestConfig())
    assert isinstance(got, NotDecoded) and "fatal marks depend" in got.reason


def test_a_value_no_column_holds_declines(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    lines = [_pino(i, 1_714_557_600_000 + i) for i in range(50)]
    lines.append('{"level":30,"time":123456789012345678901234567890,"msg":"big time"}')
    path.write_text("\n".join(lines) + "\n")
    got = decode_inputs([InputFile("a.log", path)], IngestConfig())
    assert isinstance(got, NotDecoded) and "64 bits" in got.reason


def test_a_duration_no_float_holds_declines(tmp_path: Path) -> None:
    # the per-event reader reads it as no duration (it used to raise OverflowError out
    # of assemble's float()); the decoder declines rather than copy that rule
    path = tmp_path / "a.log"
    lines = [_pino(i, 1_714_557_600_000 + i) for i in range(50)]
    lines.append('{"level":30,"time":1714557600000,"msg":"x","responseTime":1' + "0" * 400 + "}")
    path.write_text("\n".join(lines) + "\n")
    assert reference([InputFile("a.log", path)], IngestConfig())[0][-1].duration_ms is None
    got = decode_inputs([InputFile("a.log", path)], IngestConfig())
    assert isinstance(got, NotDecoded) and "no float holds" in got.reason


def test_the_benchmark_file_is_accepted_and_keeps_no_text_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "bench.log"
    generate(path, 3_000_000)
    got = assert_same([InputFile("bench.log", path)])
    texts = got.columns.texts
    assert isinstance(texts, FileTexts)
    assert texts.held == {}  # every row's text is read back by offset
    assert got.reports[0].format in JSON_FORMATS
    texts.close()


def test_factoring_never_merges_values_that_only_compare_equal() -> None:
    # 1, 1.0 and True are one dict key; -0.0 and 0.0 too; each must come back as itself
    col = [1, True, 1.0, "1", None, 0.0, -0.0, 0, False, 1, "1", {"a": 1}, [1]]
    uniq, inv = decode_mod._factor(col)
    back = [uniq[i] for i in inv.tolist()]
    assert [(type(v), repr(v)) for v in back] == [(type(v), repr(v)) for v in col]
    few = [[1, True, 1] * 100, ["a", "b", "a"] * 100, [None, 2, 2] * 100]
    raw: list[list[object] | None] = [*few]
    got = decode_mod._joint_factors(raw, [0, 1, 2], 300)
    for i, c in enumerate(few):
        u, inv = got.get(i) or decode_mod._factor(raw[i] or [])
        assert [(type(u[k]), u[k]) for k in inv.tolist()] == [(type(v), v) for v in c]


# --------------------------------------------------------------------------- wrapped


_T0_NS = 1_714_557_600_000_000_000


def _go_ts(ns: int, *, nano: bool = False, offset: str = "Z") -> str:
    """RFC3339Nano as Go writes it: trailing zeros trimmed (kubectl --timestamps, stern),
    or always nine digits (``nano``: the kubelet's CRI files)."""
    sec, frac = divmod(ns, 1_000_000_000)
    head = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}" if nano else f"{frac:09d}".rstrip("0")
    return f"{head}{'.' + digits if digits else ''}{offset}"


def _inner_lines(cap: int) -> list[str]:
    """Inner lines for a wrapper: plain pino, lines that leave the batch path, lines
    whose time or host only the wrapper gives."""
    t = 1_714_557_600_000
    out = [_pino(i, t + i) for i in range(300)]  # the sample: the format locks on pino
    for k, h in enumerate(HOSTILE_LINES):
        out.append(h)
        out.append(_pino(1000 + k, t + 1000 + k))
    no_time = json.dumps({"level": 30, "pid": 1, "msg": "no time: the wrapper's"})
    no_host = json.dumps({"level": 30, "time": t, "hostname": "", "msg": "no host"})
    out += [json.dumps({"level": 30, "time": t + k, "msg": f"names no host {k}"})
            for k in range(6)]
    bad_time = json.dumps({"level": 30, "time": "not a time", "msg": "unreadable time"})
    out += [no_time, no_host, bad_time, '{"level":30,"msg":"invalid JSON inside",',
            _pino(5, t, msg="x" * (cap + 40)), "plain text inside the wrapper"]
    out += [_pino(2000 + i, t + 2000 + i) for i in range(200)]
    return out


def _wrapped_lines(kind: str, cap: int) -> list[str]:
    """Lines of one container wrapper around ``_inner_lines``, with what that wrapper
    does to lines: CRI and Docker partials, escapes, trimmed and offset timestamps,
    several pods, lines that carry no wrapper at all."""
    inner = _inner_lines(cap)
    out: list[str] = []
    for i, line in enumerate(inner):
        ns = _T0_NS + i * 1_234_567 + (i % 10) * 100_000_000
        if kind == "cri":
            ts = _go_ts(ns, nano=True, offset="Z" if i % 7 else "+02:00")
            stream = "stderr" if i % 11 == 0 else "stdout"
            if i % 37 == 5 and len(line) > 30:  # split into P pieces, other streams between
                a, b = len(line) // 3, 2 * len(line) // 3
                out += [f"{ts} {stream} P {line[:a]}",
                        f"{ts} stderr F TypeError: between the pieces",
                        f"{ts} {stream} P:x {line[a:b]}", f"{ts} {stream} F {line[b:]}"]
            elif i % 53 == 7:
                out.append(f"{ts} {stream} F")  # no content at all
            elif i % 41 == 3:
                out.append(line)  # no wrapper on this line
            else:
                out.append(f"{ts} {stream} F {line}")
        elif kind == "docker":
            ts = _go_ts(ns, nano=i % 3 == 0)
            if i % 37 == 5 and len(line) > 30:  # a long line: records until one ends in \n
                a = len(line) // 2
                out += [json.dumps({"log": line[:a], "stream": "stdout", "time": ts}),
                        json.dumps({"log": line[a:] + "\n", "stream": "stdout", "time": ts})]
            elif i % 41 == 3:
                out.append(line)  # not a docker record: read as it is
            else:
                end = "\r\n" if i % 13 == 0 else "\n"
                out.append(json.dumps({"log": line + end, "stream": "stdout", "time": ts},
                                      ensure_ascii=i % 2 == 0))
        elif kind == "kubectl":
            ts = _go_ts(ns)
            out.append(line if i % 41 == 3 else f"{ts} {line}")
        elif kind == "prefix":  # kubectl logs --prefix --timestamps over several pods
            pod = f"api-7cfd7bf68f-{['nk5kr', 'zq2lm', 'p9x4w'][i % 3]}"
            # some lines without the prefix (no pod, or the input's own), among them
            # lines that name no host themselves
            bare = i % 41 == 3 or ('"hostname"' not in line and i % 2 == 0)
            out.append(f"{_go_ts(ns)} {line}" if bare else f"[pod/{pod}/app] {_go_ts(ns)} {line}")
        elif kind == "stern":
            pod = f"api-7cfd7bf68f-{['nk5kr', 'zq2lm'][i % 2]}"
            out.append(f"\x1b[32m{pod}\x1b[0m \x1b[34mapp\x1b[0m {_go_ts(ns, nano=True)} {line}")
    if kind == "cri":
        out += [f"{_go_ts(_T0_NS, nano=True)} stdout P {'y' * (cap - 40)}",  # joined past the cap
                f"{_go_ts(_T0_NS, nano=True)} stdout F {'z' * 100}",
                '{"log":"\\u0000 not this wrapper"}',
                f"{_go_ts(_T0_NS, nano=True)} stdout P " + '{"level":30,"msg":"never ended"']
    if kind == "docker":
        out += ['{"log":"{\\"level\\":30,\\"msg\\":\\"nul \\u0000 escaped\\"}\\n",'
                '"stream":"stdout"}',
                '{"log":"\\u007b\\"level\\":30,\\"msg\\":\\"escaped brace\\"}\\n"}',
                '{"log":"lone \\ud800 surrogate\\n","stream":"stdout"}',
                '{"log":"broken',
                json.dumps({"log": "café ünïcode {not json}\n", "stream": "stderr"},
                           ensure_ascii=False),
                json.dumps({"log": "{\"level\":30,\"msg\":\"never ended\"", "stream": "stdout"})]
    return out


@pytest.mark.parametrize("nl", ["lf", "crlf"])
@pytest.mark.parametrize("block", [4096, 1 << 20])
@pytest.mark.parametrize("kind", ["cri", "docker", "kubectl", "prefix", "stern"])
def test_wrapped_lines_decode_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      block: int, kind: str, nl: str) -> None:
    monkeypatch.setattr(decode_mod, "BLOCK_BYTES", block)
    cap = 1024
    path = tmp_path / f"{kind}.log"
    lines = _wrapped_lines(kind, cap)
    lines.insert(len(lines) // 2, f"{_go_ts(_T0_NS, nano=True)} stdout F {'v' * (cap * 9 + 7)}")
    data = ("\r\n" if nl == "crlf" else "\n").join(lines).encode("utf-8", "surrogatepass")
    data += b"\n"
    # invalid UTF-8, NUL, blank, and whitespace only str.isspace calls blank
    data += b"\xff\xfe invalid UTF-8 after the wrapper?\n\x00\n\n \t\n\x1c\n\xc2\xa0\n"
    path.write_bytes(data)
    for name in (f"{kind}.log", "pod/api-7/app"):  # a pod-named input: its pod is the host
        done = assert_same([InputFile(name, path)], IngestConfig(max_line_bytes=cap))
        report = done.reports[0]
        wrappers, _plus, fmt = report.format.rpartition("+")
        assert wrappers and fmt in JSON_FORMATS, report.format
        texts = done.columns.texts
        assert isinstance(texts, FileTexts)
        if kind in ("cri", "docker"):
            assert any("partial line(s) joined" in n for n in report.notes)
            assert any("never finished" in n for n in report.notes)
            assert texts.held  # the joined records
        assert len(texts.held) <= len(done.columns) // 20  # the rest read back by offset
        texts.close()


def test_wrapped_json_lines_are_decoded_in_batches(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # the per-line path gives the same rows, slower: the batch must carry the plain lines
    per_line = Counter[str]()
    pending = decode_mod._Rows.pending

    def counted(self: decode_mod._Rows, ev: LogEvent, offset: int) -> None:
        per_line["rows"] += 1
        pending(self, ev, offset)

    monkeypatch.setattr(decode_mod._Rows, "pending", counted)
    path = tmp_path / "kt.log"
    path.write_text("".join(f"{_go_ts(_T0_NS + i * 1000)} {_pino(i, 1_714_557_600_000 + i)}\n"
                            for i in range(3000)))
    done = assert_same([InputFile("pod/api-1/app", path)])
    assert done.reports[0].format.startswith("kubectl-timestamps+")
    assert len(done.columns) == 3000 and per_line["rows"] == 0


def test_wrapped_and_unwrapped_inputs_merge_as_the_reader_merges(tmp_path: Path) -> None:
    base = 1_714_557_600_000
    a = _timed_file(tmp_path / "a.log", [base + 5, None, base + 9, base + 30], "a")
    kt = tmp_path / "kt.log"
    kt.write_text("".join(
        f"{_go_ts((base + 3 * i) * 1_000_000)} "
        f"{json.dumps({'level': 30, 'pid': 1, 'msg': f'kt {i}'})}\n" for i in range(12)))
    cri = tmp_path / "cri.log"
    cri.write_text("".join(
        f"{_go_ts((base + 4 * i) * 1_000_000, nano=True)} stdout F "
        f"{json.dumps({'level': 30, 'time': base + 4 * i + 1, 'msg': f'cri {i}'})}\n"
        for i in range(10)))
    got = assert_same([a, InputFile("pod/kt-1/app", kt), InputFile("cri.log", cri)])
    assert [r.format.rpartition("+")[0] for r in got.reports] == [
        "", "kubectl-timestamps", "cri"]


def test_the_wrapped_ingest_cases_are_accepted_with_texts_on_disk() -> None:
    for name in ("cri-pino.log", "docker-json.log", "kubectl-prefix.log",
                 "kubectl-timestamps-structlog.log", "stern.log"):
        got = assert_same([InputFile(name, ROOT / "ingest_cases" / name)])
        texts = got.columns.texts
        assert isinstance(texts, FileTexts)
        joined = sum(1 for n in got.reports[0].notes if "partial line(s) joined" in n)
        assert len(texts.held) <= (len(got.columns) if joined else 0), name
        texts.close()


# --------------------------------------------------------------------------- merging


def _timed_file(path: Path, times: list[int | None], tag: str) -> InputFile:
    rows = []
    for i, t in enumerate(times):
        doc: dict[str, object] = {"level": 30, "pid": 1, "hostname": tag, "msg": f"{tag} {i}"}
        if t is not None:
            doc["time"] = t
        rows.append(json.dumps(doc))
    path.write_text("\n".join(rows) + "\n")
    return InputFile(path.name, path)


def test_sources_are_merged_by_time_as_merge_by_time_does(tmp_path: Path) -> None:
    base = 1_714_557_600_000
    a = _timed_file(tmp_path / "a.log", [None, None, base + 5, None, base + 9, base + 9], "a")
    b = _timed_file(tmp_path / "b.log", [base + 1, base + 5, None, base + 9, base + 20], "b")
    c = _timed_file(tmp_path / "c.log", [None, None], "c")  # never a time: first
    assert_same([a, b, c])


def test_a_source_out_of_time_order_is_merged_as_heapq_merge_does(tmp_path: Path) -> None:
    base = 1_714_557_600_000
    a = _timed_file(tmp_path / "a.log", [base + 9, base + 1, base + 5, None, base + 2], "a")
    b = _timed_file(tmp_path / "b.log", [base + 3, base + 4, base + 1, base + 8], "b")
    assert_same([a, b])


def test_leading_untimed_lines_follow_the_lookahead(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge_mod, "LOOKAHEAD", 3)
    monkeypatch.setattr(decode_mod, "LOOKAHEAD", 3)
    base = 1_714_557_600_000
    a = _timed_file(tmp_path / "a.log", [None] * 9 + [base + 50, None, base + 60], "a")
    b = _timed_file(tmp_path / "b.log", [base + 10, base + 55, base + 70], "b")
    c = _timed_file(tmp_path / "c.log", [None] * 6, "c")
    assert_same([a, b, c])


def test_a_json_file_that_turns_to_text_is_read_line_by_line_exactly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_mod, "PENDING_EVENTS", 7)  # many flushes of per-line rows
    path = tmp_path / "a.log"
    lines = [_pino(i, 1_714_557_600_000 + i) for i in range(300)]
    lines += [f"2024-05-01T10:00:{i % 60:02d}Z INFO worker {i} said hello" for i in range(100)]
    lines += [_pino(i, 1_714_557_700_000 + i) for i in range(50)]
    path.write_text("\n".join(lines) + "\n")
    got = assert_same([InputFile("a.log", path)])
    assert isinstance(got.columns.texts, FileTexts) and got.columns.texts.held == {}


def test_text_and_logfmt_inputs_are_read_line_by_line_with_texts_on_disk() -> None:
    for name in ("text.log", "logfmt.log", "mixed.log", "python-json.log"):
        path = ROOT / "ingest_cases" / name
        got = assert_same([InputFile(name, path)])
        texts = got.columns.texts
        assert isinstance(texts, FileTexts)
        assert len(texts.held) <= len(got.columns) // 10, name  # blocks' cut lines only


def test_no_inputs_give_no_rows() -> None:
    got = decode_inputs([], IngestConfig())
    assert isinstance(got, Decoded) and len(got.columns) == 0 and got.reports == []


def test_inputs_that_give_no_events_are_reported_as_the_reader_does(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.log"
    blank.write_bytes(b"\n  \n\n")
    binary = tmp_path / "bin.log"
    binary.write_bytes(bytes(range(256)) * 10)
    missing = InputFile("missing.log", tmp_path / "missing.log", "no such file")
    a = _timed_file(tmp_path / "a.log", [1_714_557_600_000], "a")
    got = assert_same([InputFile("empty.log", empty), InputFile("blank.log", blank),
                       InputFile("bin.log", binary), missing, a])
    assert [r.error for r in got.reports] == [None, None, "binary file", "no such file", None]


# --------------------------------------------------------------------------- declines


def test_what_the_batch_path_does_not_read_is_declined_with_a_reason(tmp_path: Path) -> None:
    gz = tmp_path / "a.log.gz"
    gz.write_bytes(gzip.compress((_pino(1, 1_714_557_600_000) + "\n").encode()))
    cases = {
        "gzip input": [InputFile("a.log.gz", gz)],
        "stdin": [InputFile("-", None)],
        "traces": [InputFile("otlp", ROOT / "ingest_cases" / "otlp.jsonl")],
        # a wrapper's time the line takes (it has none) that no column holds
        "64 bits": [InputFile("kt", _far_wrapper_time(tmp_path))],
    }
    for want, inputs in cases.items():
        got = decode_inputs(inputs, IngestConfig())
        assert isinstance(got, NotDecoded), want
        assert want in got.reason, (want, got.reason)


def _far_wrapper_time(tmp_path: Path) -> Path:
    path = tmp_path / "kt-far.log"
    lines = [f"{_go_ts(_T0_NS + i)} {_pino(i, 1_714_557_600_000 + i)}" for i in range(50)]
    lines.append('9999-12-31T23:59:59.5Z {"level":30,"msg":"no time of its own"}')
    lines.append('9999-12-31T23:59:59.5Z {"level":30,"time":1714557600000,"msg":"its own"}')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_far_wrapper_time_declines_only_where_a_line_takes_it(tmp_path: Path) -> None:
    path = _far_wrapper_time(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-2] + lines[-1:]) + "\n")  # the line with its own time
    assert_same([InputFile("kt", path)])


def test_cancel_keeps_what_was_read(tmp_path: Path) -> None:
    """Ctrl-C while a big log is decoded: what was read is analysed and reported, as the
    reader does (it used to decline, and the per-event path then read nothing)."""
    path = tmp_path / "a.log"
    generate(path, 12_000_000)
    with path.open("rb") as fh:
        total = sum(1 for _ in fh)
    cancel = threading.Event()
    got = decode_inputs([InputFile("a.log", path)], IngestConfig(), cancel,
                        progress=lambda _done: cancel.set())
    assert isinstance(got, Decoded)
    rep = got.reports[0]
    assert rep.error == "cancelled" and 0 < rep.lines_read < total
    assert 0 < len(got.columns) <= rep.lines_read
    first = list(islice(LogReader(InputFile("a.log", path), IngestConfig()).events(),
                        len(got.columns)))
    assert list(events_from_columns(got.columns)) == first


def main() -> None:
    accepted, declined = survey()
    print(f"{len(accepted)} accepted, {len(declined)} declined")
    for reason, n in Counter(_reason_kind(r) for r in declined.values()).most_common():
        print(f"  {n:4}  {reason}")
    json_files = [p for p in (ROOT / "lab" / "scenarios").glob("*/*.log")
                  if _format(p) in JSON_FORMATS]
    print(f"lab JSON captures accepted: {sum(str(p) in accepted for p in json_files)}"
          f"/{len(json_files)}")


if __name__ == "__main__":
    main()


NEEDLES = (b'"new', b"new=")


def test_a_scan_of_the_files_finds_every_row_whose_text_holds_a_needle() -> None:
    """``FileTexts.rows_containing`` (the bulk build's guard for counter writes, instead
    of a read per line) returns a superset of the rows whose text holds a needle, on every
    unwrapped input file of the tests, and None for wrapped ones (unwrapping unescapes)."""
    scanned = wrapped = 0
    for path in FILES:
        got = decode_inputs([InputFile(path.name, path)], IngestConfig())
        if not isinstance(got, Decoded) or not len(got.columns):
            continue
        texts = got.columns.texts
        assert isinstance(texts, FileTexts)
        rows = np.arange(len(got.columns), dtype=np.int64)
        found = texts.rows_containing(rows, NEEDLES)
        if found is None:
            wrapped += 1
            assert any(u is not None for u in texts.unwrap)
            continue
        scanned += 1
        exact = {r for r in range(len(rows))
                 if any(n.decode() in texts.text(r) for n in NEEDLES)}
        assert exact <= set(found.tolist()), path
        texts.close()
    assert scanned >= 60 and wrapped >= 5


def test_the_scan_maps_hits_across_block_edges_and_held_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.log"
    lines = [_pino(i, 1_714_557_600_000 + i) for i in range(400)]
    lines[7] = lines[7][:-1] + ',"old":4,"new":5}'
    lines[301] = lines[301][:-1] + ',"note":"x new=6"}'
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(decode_mod, "_SCAN_BYTES", 37)  # needles cut by block edges
    got = decode_inputs([InputFile("a.log", path)], IngestConfig())
    assert isinstance(got, Decoded)
    texts = got.columns.texts
    assert isinstance(texts, FileTexts)
    found = texts.rows_containing(np.arange(len(got.columns), dtype=np.int64), NEEDLES)
    assert found is not None and found.tolist() == [7, 301]
    texts.held[5] = 'held text with "new": 1'
    found = texts.rows_containing(np.asarray([5, 6, 7], dtype=np.int64), NEEDLES)
    assert found is not None and found.tolist() == [5, 7]
