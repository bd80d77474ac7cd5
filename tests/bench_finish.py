"""``LogAnalysis.finish`` on the benchmark log: the numpy finish against the pure-Python
one it replaced (printed, not asserted).

Run: ``python3 tests/bench_finish.py [--mb 60 300] [--profile]`` or
``python3 -m pytest -m benchmark -s tests/bench_finish.py``.

Why: finish turns the trackers' state into signals once per analysis (and at every early
look); on 1M lines it was about 2 s, the largest step left once the feed side is columnar
(issue "Speed: a columnar hot path"). The generated pino log (``tests.bench_ingest``) is
read and fed once; then the two finishes run in turns on that same state (finish leaves
it unchanged), so the machine's load hits both alike. Figures are CPU seconds
(``process_time``), best and median of the turns; their Evidence is checked equal.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from finish_reference import RefAnalysis

from probes.analysis import LogAnalysis
from probes.pipeline import iter_events
from tests.bench_ingest import generate


def _json(evidence: Any) -> str:
    return re.sub(r'"collected_at": "[^"]*"', "",
                  json.dumps(evidence.to_json(), sort_keys=True, default=str))


def fed(path: Path) -> LogAnalysis:
    analysis = LogAnalysis()
    for ev in iter_events([str(path)]):
        analysis.feed(ev)
    return analysis


def measure(analysis: LogAnalysis, turns: int) -> dict[str, Any]:
    """Both finishes on one state, in turns; CPU seconds of each turn."""
    ref = RefAnalysis.__new__(RefAnalysis)
    ref.__dict__ = analysis.__dict__  # the same trackers, the old methods
    same = _json(analysis.finish()) == _json(ref.finish())
    new_s: list[float] = []
    old_s: list[float] = []
    for _ in range(turns):
        for which, out in ((ref, old_s), (analysis, new_s)):
            t = time.process_time()
            which.finish()
            out.append(time.process_time() - t)
    return {"same": same, "old": sorted(old_s), "new": sorted(new_s),
            "runs": len(analysis.runs.runs), "requests": len(analysis.requests.requests),
            "lines": analysis.events}


def report(name: str, m: dict[str, Any]) -> str:
    old, new = m["old"], m["new"]
    med = len(old) // 2
    return (f"{name}: {m['lines']:,} events, {m['runs']:,} runs, {m['requests']:,} requests; "
            f"finish before {old[0]:.3f} s (median {old[med]:.3f}), after {new[0]:.3f} s "
            f"(median {new[med]:.3f}): {old[0] / new[0]:.1f}x (median "
            f"{old[med] / new[med]:.1f}x), {new[0] / m['lines'] * 1e6:.2f} us per line; "
            f"same evidence: {m['same']}")


def profile(analysis: LogAnalysis, top: int = 12) -> str:
    """The new finish's own time per function, as shares of the whole."""
    prof = cProfile.Profile()
    prof.runcall(analysis.finish)
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    lines = [f"  {v[2] / total:5.1%}  {Path(f).name}:{ln}({fn})"
             for (f, ln, fn), v in rows[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, nargs="+", default=[60, 300])
    ap.add_argument("--turns", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.mb:
            path = Path(tmp) / f"bench{mb}.log"
            generate(path, mb * 1_000_000)
            analysis = fed(path)
            print(report(f"{mb} MB", measure(analysis, args.turns if mb < 200 else 3)),
                  flush=True)
            if args.profile:
                print(profile(analysis), flush=True)
            path.unlink()
    return 0


@pytest.mark.benchmark
def test_finish_speed() -> None:
    main(["--mb", "20", "--turns", "5", "--profile"])


if __name__ == "__main__":
    raise SystemExit(main())
