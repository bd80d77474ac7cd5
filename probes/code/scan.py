"""Scan source trees and manifests; turn findings into ``code.*`` signals.

``scan`` walks each path (skipping vendored and build folders), reads Python with
``ast`` and TS/JS with tree-sitter, reads manifests and lockfiles, applies the rules and
returns one ``Evidence`` (probe "code"). Every file that was not analysed is counted in
the path's ``InputReport`` with its reason (syntax error, too large, binary, unreadable);
the first syntax errors are listed as ``file:line`` notes.

Signals: YES (strength 0.4: a risk in the code is weaker evidence than the fault seen
at run time) with one example per finding; NO when files were scanned and the pattern
is absent; UNKNOWN with a reason when there was no source (or no manifest) to scan.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..evidence import Evidence, InputReport, Signal, example, no, now_utc, unknown, yes
from . import rules
from .dependencies import Dep, is_manifest, mismatches, read_manifest
from .findings import SIGNAL_CAUSE, Finding
from .js_source import GRAMMAR_BY_SUFFIX, JsSyntaxError, read_js
from .python_source import read_python
from .tables import FRAMEWORK_CLASSES

PROBE = "code"
STRENGTH = 0.4
SKIP_DIRS = frozenset({"node_modules", ".git", "dist", "build", ".venv", "venv",
                       "__pycache__", ".next", ".tox", ".mypy_cache", ".pytest_cache",
                       "coverage", ".turbo", "site-packages"})
SOURCE_SUFFIXES = frozenset({".py", *GRAMMAR_BY_SUFFIX})
MAX_SOURCE_BYTES = 1_000_000
"""Bigger 'source' files are generated or bundled code: counted as too large, not read."""
MAX_MANIFEST_BYTES = 50_000_000
MAX_NOTES = 20
MAX_EXAMPLES = 12
SOURCE_SIGNALS = tuple(k for k in SIGNAL_CAUSE if k != "code.version_mismatch")


def is_code_dir(path: Path) -> bool:
    """A folder with a manifest at its root, or with source files (vendored ones aside)."""
    if not path.is_dir():
        return False
    for marker in ("package.json", "pyproject.toml", "setup.py"):
        if (path / marker).is_file():
            return True
    try:
        if any(p.name.startswith("requirements") and p.suffix == ".txt"
               for p in path.iterdir() if p.is_file()):
            return True
    except OSError:
        return False
    return next(iter_files(path), None) is not None


def iter_files(root: Path, skipped: dict[str, int] | None = None) -> Iterator[Path]:
    """Source files and manifests under root, in a stable order."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            if skipped is not None:
                skipped["unreadable"] = skipped.get("unreadable", 0) + 1
            continue
        subdirs: list[Path] = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    if e.name in SKIP_DIRS:
                        if skipped is not None:
                            skipped["excluded folder"] = skipped.get("excluded folder", 0) + 1
                    else:
                        subdirs.append(Path(e.path))
                elif e.is_file():
                    p = Path(e.path)
                    if p.suffix in SOURCE_SUFFIXES or is_manifest(p):
                        yield p
            except OSError:
                continue
        stack.extend(reversed(subdirs))


@dataclass
class RootScan:
    """What one scanned path produced."""

    report_name: str
    findings: list[Finding] = field(default_factory=list)
    deps: list[Dep] = field(default_factory=list)
    sources: int = 0
    manifests: int = 0
    lines: int = 0
    bytes: int = 0
    languages: set[str] = field(default_factory=set)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    shown: set[str] = field(default_factory=set)  # paths as findings name them

    def skip(self, reason: str, note: str = "") -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if note and len(self.notes) < MAX_NOTES:
            self.notes.append(note)


def display(root: Path, file: Path) -> str:
    return file.as_posix() if root.is_file() else (root / file.relative_to(root)).as_posix()


def scan_file(file: Path, shown: str, out: RootScan, classes: Mapping[str, str]) -> None:
    manifest = is_manifest(file)
    try:
        size = file.stat().st_size
        if size > (MAX_MANIFEST_BYTES if manifest else MAX_SOURCE_BYTES):
            out.skip("too large", f"too large ({size} bytes): {shown}")
            return
        data = file.read_bytes()
    except OSError as e:
        out.skip("unreadable", f"unreadable: {shown}: {e.strerror or e}")
        return
    if b"\x00" in data[:8192]:
        out.skip("binary", f"binary: {shown}")
        return
    out.bytes += len(data)
    text = data.decode("utf-8", "replace")
    out.lines += text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    if manifest:
        try:
            out.deps.extend(read_manifest(file, shown, text))
            out.manifests += 1
        except ValueError as e:
            out.skip("unreadable manifest", str(e))
        return
    try:
        if file.suffix == ".py":
            facts = read_python(shown, text, classes)
            out.languages.add("python")
        else:
            grammar = GRAMMAR_BY_SUFFIX[file.suffix]
            facts = read_js(shown, data, grammar, classes)
            out.languages.add("typescript" if grammar != "javascript" else "javascript")
    except SyntaxError as e:
        out.skip("syntax error", f"syntax error at {shown}:{e.lineno or 0}")
        return
    except JsSyntaxError as e:
        out.skip("syntax error", f"syntax error at {shown}:{e.line}")
        return
    except RecursionError:
        out.skip("too deeply nested", f"too deeply nested: {shown}")
        return
    out.sources += 1
    out.findings.extend(facts.findings)
    out.findings.extend(rules.apply(facts))


def scan_root(root: Path, cancel: threading.Event | None,
              classes: Mapping[str, str]) -> RootScan:
    out = RootScan(root.as_posix())
    if not root.exists():
        out.error = f"no such file or folder: {root}"
        return out
    files: Iterator[Path] = iter([root]) if root.is_file() else iter_files(root, out.skipped)
    for file in files:
        if cancel is not None and cancel.is_set():
            out.error = "stopped early: cancelled"
            break
        if root.is_file() and file.suffix not in SOURCE_SUFFIXES and not is_manifest(file):
            out.skip("not source or manifest", f"not source or a manifest: {file}")
            continue
        shown = display(root, file)
        out.shown.add(shown)
        scan_file(file, shown, out, classes)
    return out


def dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    out: list[Finding] = []
    order = list(SIGNAL_CAUSE)
    for f in sorted(findings, key=lambda f: (order.index(f.signal), f.path, f.line, f.column)):
        key = (f.path, f.line, f.signal)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def signals_for(findings: list[Finding], sources: int, manifests: int) -> tuple[Signal, ...]:
    out: list[Signal] = []
    for key in SIGNAL_CAUSE:
        mine = [f for f in findings if f.signal == key]
        is_dep = key == "code.version_mismatch"
        looked = manifests if is_dep else sources
        what = f"{manifests} manifest/lock file(s)" if is_dep else f"{sources} source file(s)"
        if mine:
            places = ", ".join(f.where for f in mine[:3]) + (" ..." if len(mine) > 3 else "")
            out.append(yes(
                key, PROBE,
                f"{len(mine)} place(s) in {what}: {places}; a risk seen in code, weaker "
                f"evidence than the fault observed at run time",
                [example(f.path, f.line, text=f.excerpt, note=f.why)
                 for f in mine[:MAX_EXAMPLES]],
                value=len(mine), strength=STRENGTH,
                data={"cause": SIGNAL_CAUSE[key]}))
        elif looked:
            out.append(no(key, PROBE, f"not seen in {what}", value=0))
        else:
            out.append(unknown(key, PROBE, "no manifest or lockfile found to check" if is_dep
                               else "no Python or TypeScript/JavaScript source to scan"))
    return tuple(out)


def scan(paths: Sequence[Path], cancel: threading.Event | None = None,
         frameworks: Mapping[str, str] | None = None) -> Evidence:
    """Scan source trees/files for scaling risks; never raises for bad input.

    ``frameworks`` adds class names (name -> what it is, e.g. ``{"SupportBot": "our
    agent wrapper"}``) to ``tables.FRAMEWORK_CLASSES``.
    """
    classes = {**FRAMEWORK_CLASSES, **(frameworks or {})}
    target = ", ".join(p.as_posix() for p in paths)
    if not paths:
        return Evidence(PROBE, target, signals=signals_for([], 0, 0),
                        error="no path given", collected_at=now_utc())
    roots = [scan_root(Path(p), cancel, classes) for p in paths]
    findings: list[Finding] = [f for r in roots for f in r.findings]
    findings.extend(mismatches(d for r in roots for d in r.deps))
    findings = dedupe(findings)
    sources = sum(r.sources for r in roots)
    manifests = sum(r.manifests for r in roots)
    reports: list[InputReport] = []
    for r in roots:
        count = sum(1 for f in findings if f.path in r.shown)
        fmt = "+".join([*sorted(r.languages), *(["manifests"] if r.manifests else [])])
        reports.append(InputReport(
            name=r.report_name, kind="code", format=fmt, lines_read=r.lines, events=count,
            skipped=dict(r.skipped), bytes_read=r.bytes, error=r.error,
            notes=(f"{r.sources} source file(s), {r.manifests} manifest(s) read",
                   *r.notes)))
    errors = [r.error for r in roots if r.error]
    error = "; ".join(errors) if errors and not (sources or manifests) else None
    return Evidence(PROBE, target, signals=signals_for(findings, sources, manifests),
                    inputs=tuple(reports), error=error, collected_at=now_utc(),
                    data={"findings": [f.to_json() for f in findings],
                          "files": {"source": sources, "manifests": manifests}})
