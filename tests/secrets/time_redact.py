"""Time ``redact_text`` / ``redact_obj`` on real material, to compare rule sets.

Not a test: run ``python3 tests/secrets/time_redact.py [OTHER_REDACT.py]`` to time the
module in the tree, or another version of it (an older copy) on the same material.
Material: every line of the lab's and corpus' logs (real captures of real services,
see tests/lab/README.md and tests/corpus), and the 10,000 pods / 50,000 events of
``tests/bench_kube.py`` (built from the real captures' shapes it names), whose
``redact_obj`` pass is what a capture bundle does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import importlib.util  # noqa: E402

from tests.bench_kube import _population  # noqa: E402

if len(sys.argv) > 1:  # another version of the module, loaded under its own name
    _spec = importlib.util.spec_from_file_location("redact_under_test", sys.argv[1])
    assert _spec is not None and _spec.loader is not None
    r = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(r)
else:
    import probes.redact as r
redact_obj, redact_text = r.redact_obj, r.redact_text


def _lines() -> list[str]:
    out: list[str] = []
    for base in ("tests/lab/scenarios", "tests/corpus"):
        for path in sorted((ROOT / base).rglob("*.log")):
            out.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    return out


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs, each with cold caches (where the module has them)."""
    best = float("inf")
    for _ in range(repeat):
        for cached in ("_redact_short", "is_secret_name"):
            if hasattr(getattr(r, cached, None), "cache_clear"):
                getattr(r, cached).cache_clear()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    lines = _lines()
    pods, events = _population(10_000, 5)
    messages = [str(e.get("message", "")) for e in events]
    n_chars = sum(map(len, lines))
    t_lines = _best(lambda: [redact_text(x) for x in lines])
    t_msgs = _best(lambda: [redact_text(x) for x in messages])
    t_pods = _best(lambda: redact_obj(pods), repeat=1)
    t_events = _best(lambda: redact_obj(events), repeat=1)
    changed = sum(redact_text(x) != x for x in lines)
    print(f"log lines: {len(lines):,} ({n_chars / 1e6:.1f} M chars) in {t_lines:.3f} s "
          f"= {1e6 * t_lines / len(lines):.1f} us/line; changed by redaction: {changed:,}")
    print(f"event messages: {len(messages):,} ({len(set(messages)):,} distinct) "
          f"in {t_msgs:.3f} s")
    print(f"redact_obj: 10,000 pods in {t_pods:.3f} s, {len(events):,} events "
          f"in {t_events:.3f} s")


if __name__ == "__main__":
    main()
