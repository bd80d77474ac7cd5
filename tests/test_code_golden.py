"""Golden source trees: every broken snippet is reported on the marked line, every
fixed twin stays quiet. See ``tests/code_cases/README.md`` for the marker format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from probes.code import scan
from probes.code.scan import SOURCE_SUFFIXES

CASES = Path(__file__).parent / "code_cases"
MARKER = re.compile(r"expect: (code\.[a-z_]+)")
CASE_DIRS = sorted(p for p in CASES.glob("*/*") if p.is_dir())


def expected(case: Path) -> set[tuple[str, int, str]]:
    out: set[tuple[str, int, str]] = set()
    for file in sorted(case.rglob("*")):
        if file.suffix in SOURCE_SUFFIXES:
            for i, line in enumerate(file.read_text().splitlines(), 1):
                for m in MARKER.finditer(line):
                    out.add((file.relative_to(case).as_posix(), i, m.group(1)))
    listing = case / "EXPECTED"
    if listing.exists():
        for line in listing.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                where, signal = line.split()
                path, num = where.rsplit(":", 1)
                out.add((path, int(num), signal))
    return out


def found(case: Path) -> set[tuple[str, int, str]]:
    ev = scan([case])
    assert ev.error is None
    prefix = case.as_posix() + "/"
    return {(f["path"].removeprefix(prefix), f["line"], f["signal"])
            for f in ev.data["findings"]}


def test_every_pattern_has_broken_and_fixed_cases_in_both_languages() -> None:
    patterns = {p.parent.name for p in CASE_DIRS}
    assert len(patterns) >= 9
    for pattern in patterns:
        for side in ("broken", "fixed"):
            folder = CASES / pattern / side
            suffixes = {f.suffix for f in folder.rglob("*")}
            if pattern == "version_mismatch":
                names = {f.name for f in folder.rglob("*")}
                assert "package.json" in names and any(n.startswith("requirements")
                                                       or n == "pyproject.toml" for n in names)
                continue
            assert ".py" in suffixes, f"{pattern}/{side} has no Python case"
            assert suffixes & {".ts", ".tsx", ".js", ".mjs"}, f"{pattern}/{side} has no TS/JS"


def test_broken_cases_expect_findings() -> None:
    for case in CASE_DIRS:
        if case.name == "broken":
            assert expected(case), f"{case} has no expectations"
        else:
            assert not expected(case), f"{case} (a fixed twin) expects findings"


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_case(case: Path) -> None:
    want = expected(case)
    got = found(case)
    assert sorted(got - want) == [], "unexpected findings"
    assert sorted(want - got) == [], "missing findings"
