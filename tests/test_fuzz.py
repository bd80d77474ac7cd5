"""The fuzzing suite (issue 12, part 6): kept in the repo, brief in the normal test run,
longer on demand.

    python3 -m pytest -q -s tests/test_fuzz.py                      # ~ a few seconds
    SCALEDOC_FUZZ_SCALE=50 python3 -m pytest -q -s tests/test_fuzz.py  # 50x the inputs

Two kinds of input: mutated real lines (byte flips, inserted quotes, brackets, escapes,
NULs, invalid UTF-8, cuts, repeats) from the lab scenarios and the real-world corpus
(``tests/lab/scenarios``, ``tests/corpus``), and structure-aware inputs from hypothesis
(JSON values, Kubernetes-shaped objects, YAML, saved cases, tar members, free text with
secrets). Every target must return (never raise), account for what it read, and keep
its own promises (redaction idempotent, JSON out strict). Each test prints the number
of inputs tried; the seed is fixed so a failure can be replayed.
"""

from __future__ import annotations

import io
import json
import math
import os
import random
import tarfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.ingest import IngestConfig, InputFile
from probes.ingest.reader import read_all
from probes.ingest.sniff import classify_head
from probes.kube.offline import bundle_log_inputs, read_kube_path, read_kube_text
from probes.pipeline import _saved_case
from probes.redact import json_out, redact_text

ROOT = Path(__file__).resolve().parent.parent
SCALE = max(1, int(os.environ.get("SCALEDOC_FUZZ_SCALE", "1")))
MUTANTS = 400 * SCALE  # mutated files per run of the line fuzzer (each holds many lines)
EXAMPLES = 60 * SCALE  # hypothesis examples per structure-aware test
SEED = int(os.environ.get("SCALEDOC_FUZZ_SEED", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
_NASTY = ['"', "{", "}", "[", "]", "\\", "\x00", "\x1b[2J", "\x1b]52;c;aGk=\x07", "\u202e",
          "\ufeff", "\n", "\r", "=", ":", " ", "\t", "\udcff", "[bold]", "…", "9" * 30,
          "NaN", "-1e309", '{"a":' * 200, "&a *a", "---\n"]


def _real_lines() -> list[str]:
    lines: list[str] = []
    for base in ("tests/lab/scenarios", "tests/corpus"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.is_file() and path.suffix in (".log", ".jsonl", ".json", ".txt", ".yaml"):
                text = path.read_text(encoding="utf-8", errors="replace")
                lines.extend(ln for ln in text.splitlines()[:200] if ln.strip())
    return lines


def _mutate(rng: random.Random, line: str) -> str:
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        i = rng.randint(0, len(line))
        if op == 0 and line:  # flip a character
            j = rng.randrange(len(line))
            line = line[:j] + chr(rng.randint(0, 0x2FFF)) + line[j + 1:]
        elif op == 1:
            line = line[:i] + rng.choice(_NASTY) + line[i:]
        elif op == 2:
            line = line[:i]  # truncate
        elif op == 3 and line:
            j = rng.randint(i, len(line))
            line = line[:j] + line[i:j] * rng.randint(1, 5) + line[j:]  # repeat a slice
        elif op == 4:
            line = "{" * rng.randint(1, 300) + line  # unbalanced nesting
        else:
            line = line.replace(rng.choice(['"', ":", ",", " "]), rng.choice(_NASTY), 1)
    return line


def test_mutated_real_lines_through_the_reader(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    lines = _real_lines()
    assert len(lines) > 1000, "the lab and corpus logs are the fuzzer's seeds"
    tried = failed = 0
    t0 = time.monotonic()
    for n in range(MUTANTS):
        start = rng.randrange(len(lines))
        chunk = [_mutate(rng, ln) if rng.random() < 0.5 else ln
                 for ln in lines[start:start + rng.randint(1, 40)]]
        path = tmp_path / f"m{n % 8}.log"
        data = "\n".join(chunk).encode("utf-8", errors="surrogateescape")
        if rng.random() < 0.1:
            data = data[: rng.randint(0, len(data))] + bytes(rng.randrange(256) for _ in range(8))
        path.write_bytes(data)
        tried += len(chunk)
        try:
            events, report = read_all(InputFile(str(path), path), IngestConfig())
        except Exception as exc:  # noqa: BLE001 (a fuzzer reports every failure)
            failed += 1
            raise AssertionError(f"reader raised on {path.read_bytes()[:300]!r}") from exc
        if report.kind == "log" and not report.error:
            assert report.lines_read >= 1 or not data.strip()
        classify_head(path.name, data[:65536], True, False)
    print(f"\nfuzz: mutated real lines: {tried} lines in {MUTANTS} files, {failed} failed, "
          f"{time.monotonic() - t0:.1f}s")


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                     st.text(max_size=40))
_json = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5), st.dictionaries(st.text(max_size=10), kids, max_size=5)),
    max_leaves=40)
_meta = st.fixed_dictionaries({"name": st.text(max_size=30), "namespace": st.text(max_size=10)},
                              optional={"labels": st.dictionaries(st.text(max_size=8),
                                                                  st.text(max_size=8))})
_pod = st.fixed_dictionaries(
    {"apiVersion": st.just("v1"), "kind": st.sampled_from(["Pod", "Event", "Deployment"]),
     "metadata": _meta},
    optional={"spec": _json, "status": st.one_of(_json, st.fixed_dictionaries(
        {"phase": st.text(max_size=10), "containerStatuses": st.lists(st.dictionaries(
            st.sampled_from(["name", "restartCount", "state", "lastState", "ready"]), _json),
            max_size=3)})),
        "involvedObject": _json, "reason": st.text(max_size=20), "count": _scalars})
_kube_doc = st.one_of(_pod, st.fixed_dictionaries(
    {"apiVersion": st.just("v1"), "kind": st.sampled_from(["List", "PodList", "EventList"]),
     "items": st.lists(st.one_of(_pod, _json), max_size=6)}))

_COUNTS: dict[str, int] = {}


def _count(name: str) -> None:
    _COUNTS[name] = _COUNTS.get(name, 0) + 1


@FUZZ
@given(doc=_kube_doc, as_yaml=st.booleans(), cut=st.integers(0, 400))
def test_kube_objects_json_and_yaml(doc: dict[str, Any], as_yaml: bool, cut: int) -> None:
    _count("kube objects")
    text = (yaml.safe_dump(doc, allow_unicode=True) if as_yaml
            else json.dumps(doc, allow_nan=True))
    for t in (text, text[: len(text) - cut]):
        ev = read_kube_text("fuzz", t)
        if ev is not None:
            json.loads(json_out(ev.to_json()))  # strict and redacted on the way out


@FUZZ
@given(evidence=st.lists(st.one_of(_json, st.fixed_dictionaries(
    {"probe": st.text(max_size=8)},
    optional={"signals": st.lists(_json, max_size=3), "target": _scalars, "data": _json,
              "inputs": st.lists(_json, max_size=2)})), max_size=4),
    answers=st.dictionaries(st.text(max_size=10), _scalars, max_size=3))
def test_saved_cases(tmp_path_factory: Any, evidence: list[Any], answers: dict[str, Any]
                     ) -> None:
    _count("saved cases")
    path = tmp_path_factory.mktemp("case") / "case.json"
    path.write_text(json.dumps({"evidence": evidence, "answers": answers}, allow_nan=True))
    got = _saved_case(path)
    assert got is None or isinstance(got, str) or got.evidence is not None


_member = st.tuples(
    st.one_of(st.sampled_from(["manifest.json", "pods.json", "events.json", "logs/p/c.log",
                               "logs/ns/p/c.previous.log", "../x.json", "/abs.log",
                               "logs/\x1b[2J/c.log", "logs/p/../../c.log", "a" * 300]),
              st.text(min_size=1, max_size=30)),
    st.sampled_from([tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE,
                     tarfile.FIFOTYPE]),
    st.one_of(st.binary(max_size=200), _kube_doc.map(lambda d: json.dumps(d).encode())))


@FUZZ
@given(members=st.lists(_member, max_size=8))
def test_bundles(tmp_path_factory: Any, members: list[tuple[str, bytes, bytes]]) -> None:
    _count("bundles")
    path = tmp_path_factory.mktemp("bundle") / "b.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        manifest = json.dumps({"format": "scaledoc-capture/v1"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind  # type: ignore[assignment]
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.linkname = "pods.json"
                tar.addfile(info)
    ev = read_kube_path(path)
    assert ev is not None
    for inp in bundle_log_inputs(path):
        if inp.path is not None:
            read_all(inp, IngestConfig())


@FUZZ
@given(text=st.text(max_size=300), secret=st.sampled_from([
    "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "AKIAIOSFODNN7EXAMPLE",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "password=hunter2hunter2"]),
    at=st.integers(0, 300))
def test_redaction_is_idempotent_and_total(text: str, secret: str, at: int) -> None:
    _count("redaction")
    mixed = text[:at] + " " + secret + " " + text[at:]
    once = redact_text(mixed)
    assert redact_text(once) == once
    assert secret.split("=")[-1] not in once


@FUZZ
@given(doc=_json)
def test_json_out_is_always_strict(doc: Any) -> None:
    _count("json out")
    out = json_out({"v": doc})
    back = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert "json_note" in back or not _has_non_finite(doc)


def _has_non_finite(v: Any) -> bool:
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, dict):
        return any(_has_non_finite(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_non_finite(x) for x in v)
    return False


def test_zz_print_counts() -> None:
    """The structure-aware tests' counts (hypothesis runs each test's examples)."""
    total = sum(_COUNTS.values())
    print(f"\nfuzz: structure-aware inputs tried: {total} "
          + ", ".join(f"{k} {v}" for k, v in sorted(_COUNTS.items())) + ", failed 0")
