"""The fast dump reader (``probes.kube.fields``) gives what the general one gives.

``read_kube_path`` decodes one JSON document into only the fields diagnosis reads and
falls back to the general reader (``json`` on the whole text) for anything else. These
tests run both on every real capture, on a generated cluster dump and on the input the
fast path must refuse, and compare the evidence: signals, tables, input reports.
"""

from __future__ import annotations

import gc
import json
import random
import typing
from pathlib import Path
from typing import Any

import pytest

from probes.evidence import iso_ns
from probes.ingest.limits import DEEP_REASON, MAX_DEPTH, obj_too_deep
from probes.kube import fields, offline
from probes.kube.objects import iso_time
from probes.kube.offline import read_kube_path
from tests.bench_kube import write_dump

FIX = Path(__file__).parent / "kube_fixtures"
JSON_FIXTURES = sorted(FIX.glob("*.json"))


def _read(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """(signals, inputs, data, error) of ``read_kube_path``, and whether the fast path
    gave it."""
    taken: list[bool] = []
    real = offline._parse_dump

    def spy(name: str, data: bytes, into: Any) -> Any:
        report = real(name, data, into) if fast else None
        taken.append(report is not None)
        return report

    with monkeypatch.context() as m:
        m.setattr(offline, "_parse_dump", spy)
        ev = read_kube_path(path)
    got = None if ev is None else (ev.signals, ev.inputs, ev.data, ev.error, ev.target)
    return got, any(taken)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, bool]:
    fast, taken = _read(path, True, monkeypatch)
    general, _ = _read(path, False, monkeypatch)
    return fast, general, taken


@pytest.mark.parametrize("path", JSON_FIXTURES, ids=[p.name for p in JSON_FIXTURES])
def test_every_capture_reads_the_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, general, taken = _both(path, monkeypatch)
    assert taken, "a real capture took the general path"
    assert fast == general


def test_all_captures_in_one_list_read_the_same(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Pods, events and nodes of every capture in one ``kubectl get -A -o json`` List,
    4-space indented, with a non-ASCII message (bytes counted as before)."""
    items = []
    for path in JSON_FIXTURES:
        doc = json.loads(path.read_text())
        items.extend(doc.get("items", [doc]))
    items[-1] = {**items[-1], "message": "Zurückgesetzt: Pod neu gestartet ✓"}
    dump = tmp_path / "all.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items,
                                "metadata": {"resourceVersion": ""}}, indent=4,
                               ensure_ascii=False), encoding="utf-8")
    fast, general, taken = _both(dump, monkeypatch)
    assert taken and fast == general
    assert fast[1][0].bytes_read == dump.stat().st_size


def test_a_generated_cluster_dump_reads_the_same(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "dump.json"
    write_dump(dump, 300, 5)
    fast, general, taken = _both(dump, monkeypatch)
    assert taken and fast == general
    assert fast[1][0].events == 300 * 6


def _pod(**extra: Any) -> dict[str, Any]:
    pod = json.loads((FIX / "pod-oomkilled-137-restarts101-is-healthy.converted.json")
                     .read_text())
    pod.update(extra)
    return pod


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


CASES: dict[str, str] = {
    # not one document of the schema's shape: the general path reads them
    "nan": json.dumps({"kind": "List", "apiVersion": "v1", "items": [_pod()]})
    .replace('"restartCount": 101', '"restartCount": NaN'),
    "two documents": json.dumps(_pod()) + "\n" + json.dumps(_pod()),
    "top-level array": json.dumps([_pod(), _pod()]),
    "metadata null": json.dumps({"kind": "List", "apiVersion": "v1",
                                 "items": [_pod(), {**_pod(), "metadata": None}]}),
    "message a list": json.dumps({"kind": "Event", "apiVersion": "v1", "metadata": {},
                                  "involvedObject": {"kind": "Pod", "name": "p"},
                                  "reason": "Killing", "message": ["a", "b"]}),
    "label nested": json.dumps(_pod(metadata={"name": "x", "labels": {"a": {"b": 1}}})),
    "huge number": json.dumps(_pod()).replace('"restartCount": 101', '"restartCount": 1e999'),
    "logs between documents": json.dumps(_pod()) + "\n==== START logs ====\nhello\n",
    "not kube": json.dumps({"hello": "world"}),
    # deep where a signal reads: refused whole by both paths
    "deep status": json.dumps(_pod(status=_nest(MAX_DEPTH + 5))),
    "deep probe": json.dumps(_pod(spec={"containers": [
        {"name": "c", "livenessProbe": _nest(MAX_DEPTH + 5)}]})),
    "far too deep": '{"kind": "PodList", "apiVersion": "v1", "items": ['
                    + '{"a":' * 60_000 + "1" + "}" * 60_000 + "]}",
    "deep but allowed": json.dumps(_pod(status=_nest(MAX_DEPTH - 10))),
}


FAST = {"deep but allowed"}
"""The only case above of the schema's shape, within MAX_DEPTH, and Kubernetes."""


@pytest.mark.parametrize("name", list(CASES))
def test_outside_the_schema_the_result_is_the_general_one(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dump.json"
    path.write_text(CASES[name])
    fast, general, taken = _both(path, monkeypatch)
    assert fast == general
    assert taken == (name in FAST)


def test_deep_read_fields_are_refused_as_before(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("deep status", "deep probe", "far too deep"):
        path = tmp_path / f"{name}.json"
        path.write_text(CASES[name])
        got, taken = _read(path, True, monkeypatch)
        assert not taken
        if got is not None:  # the only document refused: an error, or no evidence
            assert got[3] and DEEP_REASON in got[3], got[3]


def test_invalid_utf8_in_a_skipped_field_counts_bytes_as_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pod = _pod()
    pod["metadata"]["annotations"] = {"note": "PLACEHOLDER"}
    path = tmp_path / "dump.json"
    path.write_bytes(json.dumps(pod).encode().replace(b"PLACEHOLDER", b"caf\xe9 \xff"))
    fast, general, taken = _both(path, monkeypatch)
    assert taken and fast == general
    assert fast[1][0].bytes_read != path.stat().st_size  # each bad byte became U+FFFD


def test_deep_nesting_in_a_field_never_read_is_skipped_unbuilt(tmp_path: Path) -> None:
    """Depth is a bound on what is built and walked: an annotation nested 150 deep is
    skipped by the decoder (never built), so the pod is read; deeper than Python's
    recursion limit, the decoder refuses the document and it is reported as before."""
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(_pod(metadata={"name": "p", "annotations": _nest(150)})))
    ev = read_kube_path(path)
    assert ev is not None and ev.error is None and ev.data["pods"][0]["pod"] == "p"


# --- the schema and its depth walk ---------------------------------------------------


def _any_keys(td: Any) -> set[str]:
    return {k for k, v in typing.get_type_hints(td).items() if v is Any}


def test_the_depth_walk_covers_every_untyped_field() -> None:
    """``kept_too_deep`` walks only ``ANY_IN_ITEM`` / ``ANY_IN_CONTAINER``: they must be
    exactly the schema's keys typed Any (every other key is a scalar or flat by type)."""
    assert _any_keys(fields._Item) == set(fields.ANY_IN_ITEM)
    assert _any_keys(fields._Doc) == set(fields.ANY_IN_ITEM)
    assert _any_keys(fields._Container) == set(fields.ANY_IN_CONTAINER)
    assert not _any_keys(fields._Meta) and not _any_keys(fields._Spec)


def _random_value(rng: random.Random, depth: int) -> Any:
    if depth <= 0 or rng.random() < 0.2:
        return rng.choice([1, "x", None, True, 2.5, {}, []])
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for _ in range(rng.randint(0, 2))]
    return {f"k{i}": _random_value(rng, depth - 1) for i in range(rng.randint(0, 2))}


def test_too_deep_is_obj_too_deep() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        value = _random_value(rng, rng.randint(0, 12))
        for limit in (1, 2, 3, 5, 8):
            assert fields.too_deep(value, limit) == obj_too_deep(value, limit), (value, limit)


def test_kept_too_deep_is_too_deep_on_decoded_dumps() -> None:
    rng = random.Random(11)
    for _ in range(400):
        items = []
        for _ in range(rng.randint(0, 3)):
            container = {"name": "c", "livenessProbe": _random_value(rng, rng.randint(0, 10)),
                         "resources": _random_value(rng, rng.randint(0, 6))}
            items.append({"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"},
                                                      "ownerReferences": [{"kind": "RS"}]},
                          "spec": {"containers": [container], "initContainers": []},
                          "status": _random_value(rng, rng.randint(0, 10))})
        top: dict[str, Any] = {"kind": "List", "items": items}
        if rng.random() < 0.3:
            top["status"] = _random_value(rng, rng.randint(0, 10))
        doc = fields.decode_dump(json.dumps(top).encode())
        for limit in (6, 7, 8, 9, 10, 12, 14):
            assert fields.kept_too_deep(doc, limit) == fields.too_deep(doc, limit), limit


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        read_kube_path(JSON_FIXTURES[0])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_cached_iso_time_is_iso_ns() -> None:
    rng = random.Random(3)
    values = [0, 1, -1, 999, 10**9, -(10**9) - 5, 253402300799 * 10**9,
              -62135596800 * 10**9, *(rng.randint(-(10**19), 10**19) for _ in range(20000))]
    for ns in values:
        if -62135596800 * 10**9 <= ns <= 253402300799 * 10**9:
            assert iso_time(ns) == iso_ns(ns), ns
    assert iso_time(None) is None
