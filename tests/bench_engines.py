"""Columnar engines for the analysis hot path, measured against scaledoc, lnav, jq and wc.

Run: ``python3 tests/bench_engines.py [--mb 300]`` (or ``python3 -m pytest -m benchmark -s
tests/bench_engines.py``). Figures are printed, not asserted: every tool runs on the same
generated file in the same run, each in a child process so its peak RSS is its own.

Why this exists (issue "Speed: a columnar hot path"): per-line Python work in ingestion and
``LogAnalysis.feed`` is where ``analyze`` spends its time. Before building a columnar path,
two engines were prototyped on the benchmark file doing the work that path must do:
decode JSON lines into typed columns (time, kind, process, run, instance, session, status,
duration, error family, resolved once per source rather than per line), then runs by
grouping, the overlap sweep per instance as a cumulative max of run ends, error families by
one regex pass, and the in-flight concurrency of requests. Both prototypes agree with
scaledoc's own counts on that file (runs, overlapping runs, already-running errors); the
figures and the choice are in the README's dependency notes. The engines are optional here:
a missing one is reported as such, never an error.

Two more rows bound what an exact engine can reach: DuckDB used as a line-exact decoder
(every line kept with its number, the roles extracted by path, codes per distinct value),
and the floor of the decoder scaledoc uses, msgspec decoding every line with the reader's
own typed decoder and doing nothing else, in one process and in two.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest

from tests.bench_ingest import generate

LNAV_FORMAT = Path(__file__).parent / "lnav" / "pino_log.json"

_COLUMNS = ("{level:'BIGINT', time:'BIGINT', pid:'BIGINT', hostname:'VARCHAR', "
            "reqId:'VARCHAR', sessionId:'VARCHAR', runId:'VARCHAR', "
            "agent:'STRUCT(name VARCHAR, instanceId VARCHAR)', "
            "err:'STRUCT(type VARCHAR, message VARCHAR)', res:'STRUCT(statusCode BIGINT)', "
            "responseTime:'DOUBLE', msg:'VARCHAR'}")

_COLUMNS_IN_FSTRING = _COLUMNS.replace("{", "{{").replace("}", "}}")

DUCKDB = textwrap.dedent(f"""
    import json, resource, sys, time
    import duckdb
    path, db = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("SET threads=2")
    con.execute("SET preserve_insertion_order=false")
    if db != ":memory:":
        con.execute("SET memory_limit='200MB'")
    # kinds and error families resolved once, in the projection: no message text is kept
    con.execute(f'''CREATE TABLE ev AS SELECT time AS t,
      CASE msg WHEN 'run started' THEN 1 WHEN 'run finished' THEN 2 WHEN 'run failed' THEN 3
               WHEN 'request completed' THEN 4 ELSE 0 END::UTINYINT AS kind,
      hostname || '/' || pid AS proc, runId, agent.instanceId AS inst, sessionId,
      res.statusCode::USMALLINT AS status, responseTime::INTEGER AS dur,
      CASE WHEN err.message IS NULL THEN 0
           WHEN regexp_matches(err.message, '(?i)already running') THEN 1
           WHEN regexp_matches(err.message, '(?i)rate.?limit|\\\\b429\\\\b') THEN 2
           ELSE 9 END::UTINYINT AS fam
      FROM read_json('{{path}}', format='newline_delimited', ignore_errors=true,
                     columns={_COLUMNS_IN_FSTRING})''')
    t1 = time.perf_counter()
    con.execute('''CREATE TABLE runs AS SELECT min(t) FILTER (WHERE kind=1) AS s,
      max(t) FILTER (WHERE kind IN (2,3)) AS e, any_value(inst) AS inst
      FROM ev WHERE kind IN (1,2,3) GROUP BY proc, runId''')
    runs = con.execute(
        "SELECT count(*) FROM runs WHERE s IS NOT NULL AND e IS NOT NULL").fetchone()[0]
    overlapping = con.execute('''SELECT count(*) FROM (SELECT s, max(e) OVER (PARTITION BY inst
      ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pe FROM runs
      WHERE s IS NOT NULL AND e IS NOT NULL) WHERE s < pe''').fetchone()[0]
    already = con.execute("SELECT count(*) FROM ev WHERE fam = 1").fetchone()[0]
    inflight = con.execute('''WITH r AS (SELECT t - dur AS s, t AS e FROM ev WHERE kind = 4),
      d AS (SELECT s AS x, 1 AS k FROM r UNION ALL SELECT e AS x, -1 AS k FROM r)
      SELECT max(c) FROM (SELECT sum(k) OVER (ORDER BY x, k ROWS UNBOUNDED PRECEDING) AS c FROM d)
      ''').fetchone()[0]
    t2 = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    print(json.dumps({{"wall_s": t2 - t0, "decode_s": t1 - t0, "rows": rows, "runs": runs,
                      "overlapping": overlapping, "already_running": already,
                      "max_inflight": inflight,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
""")

FLOOR = textwrap.dedent("""
    import collections, json, os, resource, subprocess, sys, time
    import msgspec
    from probes.ingest.lineformats import JsonLayout
    path, part = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(1 << 16).split(b"\\n")[:64]
        f.seek(size // 2)
        f.readline()
        middle = f.tell()
    # the reader's own closed typed decoder, built from the file's first lines
    decode = JsonLayout([msgspec.json.decode(x) for x in head if x], {})._fast.decoder.decode
    helper = None
    if part == "both":  # the second half in a process of its own, as scaledoc's helper
        from tests.bench_engines import FLOOR
        helper = subprocess.Popen([sys.executable, "-c", FLOOR, path, "second"])
    with open(path, "rb") as f:  # 8 MB of lines at a time (msgspec takes the "\\n")
        f.seek(middle if part == "second" else 0)
        left = (middle if part == "both" else size) - f.tell()
        while left > 0 and (batch := f.readlines(min(left, 1 << 23))):
            left -= sum(map(len, batch))
            collections.deque(map(decode, filter(bytes.strip, batch)), 0)
    if helper is not None:
        helper.wait()
    if part != "second":
        print(json.dumps({"wall_s": time.perf_counter() - t0,
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")
"""The exact decoder's floor: every line decoded by the reader's own msgspec typed decoder
and nothing else (no field read, no string interned, no analysis), in one process or in two
(the second half in a child, as scaledoc's decode helper). Whatever scaledoc does beyond
decoding comes on top, so this bounds how fast an exact analysis built on msgspec can be."""

DUCKDB_LINES = textwrap.dedent("""
    import json, resource, sys, time
    import duckdb
    path = sys.argv[1]
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute("SET threads=2")
    # every line with its number (read_json cannot give them, nor count what it skips),
    # role values as JSON text by path, then one integer code per distinct value
    con.execute(f\'\'\'CREATE TABLE l AS SELECT row_number() OVER () AS n, line FROM
      read_csv('{path}', columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='',
               header=false, strict_mode=false, auto_detect=false)\'\'\')
    paths = ['$.time', '$.level', '$.msg', '$.pid', '$.hostname', '$.agent.instanceId',
             '$.sessionId', '$.reqId', '$.runId', '$.err', '$.res.statusCode', '$.responseTime']
    sel = ", ".join(f"j[{i + 1}] AS c{i}" for i in range(len(paths)))
    con.execute(f"CREATE TABLE v AS SELECT n, {sel} FROM (SELECT n, json_extract(line, "
                f"{paths!r}) AS j FROM l WHERE starts_with(line, '{{'))")
    for i in range(len(paths)):
        con.execute(f"CREATE TABLE d{i} AS SELECT c{i} AS val, row_number() OVER () - 1 AS "
                    f"code FROM (SELECT DISTINCT c{i} FROM v)")
    joins = " ".join(f"LEFT JOIN d{i} ON v.c{i} IS NOT DISTINCT FROM d{i}.val"
                     for i in range(len(paths)))
    codes = ", ".join(f"d{i}.code AS k{i}" for i in range(len(paths)))
    got = con.execute(f"SELECT v.n, {codes} FROM v {joins} ORDER BY v.n").fetchnumpy()
    print(json.dumps({"wall_s": time.perf_counter() - t0, "rows": len(got["n"]),
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")
"""DuckDB as a line-exact decoder would have to work: lines kept with their numbers, the
roles' values extracted by path, dictionary codes per distinct value. Its fast
``read_json`` (the prototype above) gives no line numbers and skips what it cannot read
without counting it, which the reader's contract (every line counted, excerpts by line)
rules out."""

POLARS = textwrap.dedent("""
    import json, resource, sys, time
    import polars as pl
    path = sys.argv[1]
    t0 = time.perf_counter()
    schema = {"level": pl.Int64, "time": pl.Int64, "pid": pl.Int64, "hostname": pl.Utf8,
              "reqId": pl.Utf8, "sessionId": pl.Utf8, "runId": pl.Utf8,
              "agent": pl.Struct({"name": pl.Utf8, "instanceId": pl.Utf8}),
              "err": pl.Struct({"type": pl.Utf8, "message": pl.Utf8}),
              "res": pl.Struct({"statusCode": pl.Int64}), "responseTime": pl.Float64,
              "msg": pl.Utf8}
    kind = (pl.when(pl.col("msg") == "run started").then(1)
            .when(pl.col("msg") == "run finished").then(2)
            .when(pl.col("msg") == "run failed").then(3)
            .when(pl.col("msg") == "request completed").then(4).otherwise(0).cast(pl.UInt8))
    err = pl.col("err").struct.field("message")
    fam = (pl.when(err.is_null()).then(0)
           .when(err.str.contains("(?i)already running")).then(1)
           .when(err.str.contains(r"(?i)rate.?limit|\\b429\\b")).then(2).otherwise(9)
           .cast(pl.UInt8))
    ev = pl.scan_ndjson(path, schema=schema, ignore_errors=True).select(
        pl.col("time").alias("t"), kind.alias("kind"),
        (pl.col("hostname") + "/" + pl.col("pid").cast(pl.Utf8))
        .cast(pl.Categorical).alias("proc"),
        pl.col("runId"),
        pl.col("agent").struct.field("instanceId").cast(pl.Categorical).alias("inst"),
        pl.col("sessionId").cast(pl.Categorical),
        pl.col("res").struct.field("statusCode").alias("status"),
        pl.col("responseTime").cast(pl.Int64).alias("dur"), fam.alias("fam")).collect()
    t1 = time.perf_counter()
    runs = (ev.filter(pl.col("kind").is_in([1, 2, 3])).group_by(["proc", "runId"])
            .agg(pl.col("t").filter(pl.col("kind") == 1).min().alias("s"),
                 pl.col("t").filter(pl.col("kind") > 1).max().alias("e"), pl.col("inst").first())
            .drop_nulls(["s", "e"]))
    overlapping = (runs.sort(["inst", "s"])
                   .with_columns(pl.col("e").cum_max().shift(1).over("inst").alias("pe"))
                   .filter(pl.col("s") < pl.col("pe")).height)
    already = ev.filter(pl.col("fam") == 1).height
    req = ev.filter(pl.col("kind") == 4).select(
        (pl.col("t") - pl.col("dur")).alias("s"), pl.col("t").alias("e"))
    starts, ends = req["s"].sort(), req["e"].sort()
    inflight = (starts.search_sorted(req["s"], side="right")
                - ends.search_sorted(req["s"], side="right")).max()
    t2 = time.perf_counter()
    print(json.dumps({"wall_s": t2 - t0, "decode_s": t1 - t0, "rows": ev.height,
                      "runs": runs.height, "overlapping": overlapping, "already_running": already,
                      "max_inflight": int(inflight),
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")

SCALEDOC = textwrap.dedent("""
    import json, resource, sys, time
    from probes.pipeline import LAST_PATH, analyze_paths
    t0 = time.perf_counter()
    a = analyze_paths([sys.argv[1]])
    wall = time.perf_counter() - t0
    logs = next(ev for ev in a.case.evidence if ev.probe == "logs")
    sig = {s.key: s for s in logs.signals}
    print(json.dumps({"wall_s": wall, "runs": (logs.data or {}).get("runs_total"),
                      "overlapping": sig["runs.overlap_instance"].value or 0,
                      "already_running": sig["errors.already_running"].value,
                      "verdict": a.verdict.verdict,
                      "path": ("columnar, built in bulk" + (
                                   f", decoded in {LAST_PATH[0].processes} processes"
                                   if LAST_PATH[0].processes > 1 else "")
                               if LAST_PATH[0].bulk else
                               f"columnar, rows fed one by one ({LAST_PATH[0].reason})"
                               if LAST_PATH[0].used else f"per event ({LAST_PATH[0].reason})"),
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "helper_rss_mb":
                          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""")


def _child(code: str, *args: str, env_extra: dict[str, str] | None = None
           ) -> dict[str, Any] | str:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           **(env_extra or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err,
                                text=True, env=env)
        tree_mb = _tree_peak_mb(proc)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["failed"])[-1]
        return f"not measured: {last[:120]}"
    doc: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    doc["tree_rss_mb"] = tree_mb
    return doc


def _tree_peak_mb(proc: subprocess.Popen[str]) -> float:
    """The highest RSS of ``proc`` and its children together, sampled every 20 ms until it
    ends: a process that starts helpers (scaledoc decodes on two cores) is judged on what
    it holds at once, which neither its own peak nor the sum of peaks tells."""
    import psutil

    peak = 0
    try:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            peak = max(peak, total)
            time.sleep(0.02)
    except psutil.Error:
        pass
    proc.wait()
    return peak / 2**20


def _timed(cmd: list[str]) -> dict[str, Any] | str:
    if shutil.which(cmd[0]) is None:
        return f"not measured: {cmd[0]} is not installed"
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if not Path(gnu_time).exists():
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        return {"wall_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    out = subprocess.run([gnu_time, "-f", "%M", *cmd], capture_output=True, text=True,
                         check=False)
    wall = time.perf_counter() - t0
    rss = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "0"
    return {"wall_s": wall, "rss_mb": int(rss) / 1024 if rss.isdigit() else None}


def measure(path: Path) -> dict[str, dict[str, Any] | str]:
    """Every tool on one file, one after another (each in its own process)."""
    lnav_home = Path(tempfile.mkdtemp(prefix="scaledoc-lnav-"))
    try:
        formats = lnav_home / ".lnav" / "formats" / "installed"
        formats.mkdir(parents=True)
        shutil.copy(LNAV_FORMAT, formats / LNAV_FORMAT.name)
        os.environ["HOME"], home = str(lnav_home), os.environ.get("HOME", "")
        try:
            lnav = _timed(["lnav", "-n", "-c", ";SELECT count(*) FROM pino_log", str(path)])
        finally:
            os.environ["HOME"] = home
        db = lnav_home / "columns.duckdb"
        return {
            "wc -l": _timed(["wc", "-l", str(path)]),
            "lnav 0.11 (pino format, count query)": lnav,
            "jq 'select(.level>=50)'": _timed(["jq", "-c", "select(.level>=50)", str(path)]),
            "scaledoc analyze": _child(SCALEDOC, str(path)),
            "scaledoc analyze, per-event path": _child(SCALEDOC, str(path),
                                                       env_extra={"SCALEDOC_COLUMNAR": "0"}),
            "DuckDB in memory": _child(DUCKDB, str(path), ":memory:"),
            "DuckDB on disk, 200 MB limit": _child(DUCKDB, str(path), str(db)),
            "Polars (lazy ndjson)": _child(POLARS, str(path)),
            "DuckDB, line-exact (numbers, paths, codes)": _child(DUCKDB_LINES, str(path)),
            "floor: msgspec decode only, 1 process": _child(FLOOR, str(path), "one"),
            "floor: msgspec decode only, 2 processes": _child(FLOOR, str(path), "both"),
        }
    finally:
        shutil.rmtree(lnav_home, ignore_errors=True)


def report(path: Path, figures: dict[str, dict[str, Any] | str]) -> str:
    size_mb = path.stat().st_size / 1e6
    with path.open("rb") as f:
        lines = sum(1 for _ in f)
    lnav = figures.get("lnav 0.11 (pino format, count query)")
    wc = figures.get("wc -l")
    out = [f"file {size_mb:.0f} MB, {lines:,} lines, load {os.getloadavg()[0]:.1f}",
           f"{'tool':<40} {'wall s':>8} {'MB/s':>8} {'vs lnav':>8} {'vs wc':>8} {'RSS MB':>8} "
           f"{'B/line':>7}  counts"]
    for name, f in figures.items():
        if isinstance(f, str):
            out.append(f"{name:<40} {f}")
            continue
        wall = f["wall_s"]
        vs_lnav = (f"{lnav['wall_s'] / wall:.2f}x" if isinstance(lnav, dict) else "-")
        vs_wc = (f"1/{wall / wc['wall_s']:.0f}" if isinstance(wc, dict) and wc["wall_s"] else "-")
        rss = f.get("rss_mb")
        counts = ", ".join(f"{k} {f[k]}" for k in ("runs", "overlapping", "already_running",
                                                    "max_inflight", "verdict", "path") if k in f)
        if f.get("helper_rss_mb"):
            counts += (f", decode helper's peak RSS {f['helper_rss_mb']:.0f} MB, both "
                       f"processes at once {f.get('tree_rss_mb', 0):.0f} MB at most "
                       "(sampled every 20 ms)")
        out.append(f"{name:<40} {wall:>8.2f} {size_mb / wall:>8.1f} {vs_lnav:>8} {vs_wc:>8} "
                   f"{rss if rss is None else round(rss):>8} "
                   f"{'' if rss is None else round(rss * 1048576 / lines):>7}  {counts}")
    return "\n".join(out)


def run(mb: int) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="scaledoc-engines-"))
    try:
        path = tmp / "pino-4-replicas.log"
        generate(path, mb * 1_000_000)
        return report(path, measure(path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.benchmark
def test_engines() -> None:
    print()
    print(run(int(os.environ.get("SCALEDOC_BENCH_MB", "300"))))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--file", type=Path, help="measure this file instead of generating one")
    args = ap.parse_args()
    if args.file:
        print(report(args.file, measure(args.file)))
    else:
        print(run(args.mb))
