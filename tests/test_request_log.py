"""``RequestLog``: a tracker's requests as columns, read back as the ``Request`` objects
the per-request code expects (issue "Speed": the analysis state as columns, memory
following requests rather than objects)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.analysis.concurrency import (
    Request,
    RequestLog,
    Spans,
    any_failed,
    concurrency_table,
    find_ceiling,
    request_idents,
)
from probes.analysis.runs import LineStore

_times = st.integers(-(1 << 63), (1 << 63) - 1)
_request = st.tuples(_times, _times, st.booleans(),
                     st.one_of(st.none(), st.floats(allow_nan=False)),
                     st.integers(-1, 1000), st.one_of(st.none(), st.text(max_size=8)))


def _both(rows: list[tuple[int, int, bool, float | None, int, str | None]]
          ) -> tuple[RequestLog, list[Request]]:
    lines = LineStore()
    log = RequestLog()
    plain = []
    for s, e, f, d, ref, ident in rows:
        log.append(s, e, f, d, lines, ref, ident)
        plain.append(Request(s, e, f, d, lines, ref, ident))
    return log, plain


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(rows=st.lists(_request, max_size=40))
def test_a_request_log_reads_back_as_the_requests_appended(rows: list) -> None:
    log, plain = _both(rows)
    assert log.columnar
    assert len(log) == len(plain) and list(log) == plain and log == plain
    assert [log[i] for i in range(-len(log), len(log))] == plain + plain if plain else True
    assert log[1:7:2] == plain[1:7:2]
    assert bool(log) == bool(plain)
    assert any_failed(log) == any(r.failed for r in plain)
    assert request_idents(log) == {r.ident for r in plain}
    a, b = Spans.of(log), Spans.of(plain)
    assert a is not None and b is not None
    for x, y in zip((a.sorted_starts, a.sorted_ends, a.levels, a.failed),
                    (b.sorted_starts, b.sorted_ends, b.levels, b.failed), strict=True):
        assert np.array_equal(x, y)
    assert concurrency_table(log) == concurrency_table(plain)


def test_a_time_beyond_64_bits_turns_the_log_into_objects() -> None:
    lines = LineStore()
    log = RequestLog()
    log.append(1, 2, False, 1.0, lines, -1, "a")
    log.append(1 << 70, (1 << 70) + 5, True, None, lines, 3, "b")
    assert not log.columnar
    assert list(log) == [Request(1, 2, False, 1.0, lines, -1, "a"),
                         Request(1 << 70, (1 << 70) + 5, True, None, lines, 3, "b")]
    assert Spans.of(log) is None  # callers count on Python integers then
    assert any_failed(log) and request_idents(log) == {"a", "b"}


@pytest.mark.parametrize(("ok_inside", "found"), [(2, True), (3, False)])
def test_the_ceiling_counts_successes_inside_the_cluster_the_same_way(
        ok_inside: int, found: bool) -> None:
    """Eight failures cut at 30 s make a ceiling unless successes end there too (more than
    a quarter of them): the count of successes inside is read from the columns."""
    lines = LineStore()
    durations = ([(30_000.0, True)] * 8 + [(30_000.0, False)] * ok_inside
                 + [(120.0, False)] * 40 + [(math.nan, False)] * 2)
    rows = [(i * 10**9, i * 10**9 + (0 if math.isnan(d) else int(d * 1e6)), f, d, lines,
             -1, f"r{i}") for i, (d, f) in enumerate(durations)]
    log = RequestLog()
    for r in rows:
        log.append(*r)
    plain = [Request(*r) for r in rows]
    assert find_ceiling(log, 4) == find_ceiling(plain, 4)
    assert (find_ceiling(log, 4) is not None) == found


def test_columns_hold_a_request_in_far_less_memory_than_objects() -> None:
    lines = LineStore()
    n = 50_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        log = RequestLog()
        for i in range(n):
            log.append(1_714_557_600_000_000_000 + i, 1_714_557_600_000_500_000 + i,
                       i % 7 == 0, 0.5 + i, lines, -1, None)
        columns = tracemalloc.get_traced_memory()[0] - before
        before = tracemalloc.get_traced_memory()[0]
        objects = [Request(1_714_557_600_000_000_000 + i, 1_714_557_600_000_500_000 + i,
                           i % 7 == 0, 0.5 + i, lines, -1, None) for i in range(n)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(objects) == len(log)
    assert columns * 3 < held, (columns / n, held / n)  # ~42 B against ~180 B a request
