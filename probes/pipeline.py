"""From input paths to a verdict: routing, streaming, analysis, the walk.

One function, ``analyze_paths``, serves ``scaledoc analyze``, the TUI and the demo. Each
input is sniffed on a bounded head sample and routed: logs and traces stream through
``probes.ingest`` into one ``LogAnalysis`` (merged by time); Kubernetes dumps and capture
bundles go to ``probes.kube``; service source trees and manifests go to ``probes.code``.
Inputs that cannot be used are reported, with the reason, never dropped silently.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

from probes.analysis import LogAnalysis
from probes.diagnose import diagnose
from probes.events import LogEvent
from probes.evidence import Answer, Case, Evidence, InputReport
from probes.ingest import IngestConfig, InputFile, LogReader, discover, merge_by_time, sniff
from probes.ingest.limits import MAX_DEPTH, obj_too_deep
from probes.verdict import Verdict

if TYPE_CHECKING:
    from probes.columnar import EventColumns

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called from the worker thread; total 0 means unknown."""


@dataclass(frozen=True)
class EarlyLook:
    """What the evidence read so far points at, while a long analysis is still reading.

    Only a hint for the operator waiting on a big log: ``top`` is the leading cause (id,
    title, score) or None when no cause stands out yet; never "healthy", which needs every
    line (a fault may sit in the part not read). Not a verdict: nothing else uses it."""

    events: int
    """Events analysed so far."""
    done: int
    total: int
    """Bytes read so far of ``total`` (0: unknown), as the progress bar counts them."""
    top: tuple[str, str, float] | None


Preview = Callable[[EarlyLook], None]
EARLY_FIRST_S = 2.0
"""The first early look after this much reading: a big log's operator sees a lead within
about 3 s (the issue's goal for the verdict itself, which the full pass cannot meet yet)."""
EARLY_EVERY_S = 5.0
EARLY_COST_SHARE = 0.1
"""Further looks at most every 5 s, and rarer when one costs more: the time spent on them
stays under 10% of the reading (each is a ``LogAnalysis.finish`` on the state so far)."""


class EventSink(Protocol):
    """Sees every log and trace event of the analysis's one pass, in the order the analysis
    does (merged by time). The TUI's Logs view index is one: the inputs are read once for
    the verdict and the view together, not once per consumer (issue: one pass for the TUI).
    """

    def add(self, event: LogEvent) -> None: ...


@dataclass
class Analysis:
    """The result of one analysis: the case, its verdict, and what each input gave."""

    case: Case
    verdict: Verdict
    inputs: list[InputReport] = field(default_factory=list)
    log_paths: list[str] = field(default_factory=list)
    """Log and trace files that were read, for the TUI's log view (stdin is not kept)."""
    cancelled: bool = False
    opened: int = 0
    """How many inputs could be opened at all (binary and empty ones included)."""
    config: IngestConfig | None = None
    """How the inputs were read (the operator's ``--field`` mappings): the Logs view reads
    the same files the same way."""

    @property
    def usable(self) -> bool:
        """True when at least one input gave events or evidence."""
        return any(i.events > 0 for i in self.inputs) or any(
            ev.probe != "logs" and not ev.error for ev in self.case.evidence)

    @classmethod
    def of_case(cls, case: Case) -> Analysis:
        """An analysis of evidence gathered elsewhere (a live cluster): walk it once."""
        return cls(case, diagnose(case), list(case.inputs()))

    def rewalk(self, case: Case) -> Analysis:
        """The same analysis with a changed case (an operator answer): walk again."""
        return replace(self, case=case, verdict=diagnose(case))

    def with_answers(self, answers: Mapping[str, Answer]) -> Analysis:
        """The operator's answers (``--answer``) applied, and the tree walked again."""
        if not answers:
            return self
        case = self.case
        for key, answer in answers.items():
            case = case.with_answer(key, answer)
        return self.rewalk(case)


def demo_paths() -> list[str]:
    """The bundled demo incident's files (package data in ``probes/demo``)."""
    root = resources.files("probes") / "demo"
    return sorted(str(p) for p in Path(str(root)).iterdir()
                  if p.is_file() and p.name != "README.md")


def analyze_paths(paths: Sequence[str], *, config: IngestConfig | None = None,
                  cancel: threading.Event | None = None, progress: Progress | None = None,
                  stdin: BinaryIO | None = None,
                  extra: Sequence[Evidence] = (), sink: EventSink | None = None,
                  preview: Preview | None = None) -> Analysis:
    """Analyse files, directories, archives and ``-`` (stdin) into one verdict.

    ``extra`` adds evidence gathered live (pods, processes, a ramp) to the same case;
    ``sink`` also gets every log event as it is analysed (the Logs view's index);
    ``preview`` gets an ``EarlyLook`` now and then while a long log is read.
    """
    config = config or IngestConfig()
    cancel = cancel or threading.Event()
    evidence: list[Evidence] = list(extra)
    reports: list[InputReport] = []
    readers: list[LogReader] = []
    code_roots: list[Path] = []

    from probes import kube as kube_probe

    def code_probe() -> Any:
        """The code probe (tree-sitter and its grammars), loaded only for a directory."""
        from probes import code

        return code

    files: list[InputFile] = []
    answers: dict[str, Answer] = {}  # from saved cases
    opened = 0  # inputs that could be opened, usable or not (binary, empty)
    for raw in paths:
        p = Path(raw)
        if raw != "-" and p.is_dir() and code_probe().is_code_dir(p) and not _has_logs(p):
            code_roots.append(p)
            opened += 1
            continue
        files.extend(discover([raw]))

    for n, inp in enumerate(files):
        if cancel.is_set():
            break
        if progress:
            progress("sniffing", n, len(files))
        if inp.error:
            reports.append(InputReport(inp.name, "unknown", "", error=inp.error))
            continue
        saved = _saved_case(inp.path) if inp.path is not None else None
        if isinstance(saved, str):
            opened += 1
            reports.append(InputReport(inp.name, "case", "scaledoc-case", error=saved))
            continue
        if saved is not None:
            opened += 1
            evidence.extend(saved.evidence)
            answers.update(saved.answers)
            reports.append(InputReport(inp.name, "case", "scaledoc-case",
                                       events=sum(len(e.signals) for e in saved.evidence),
                                       notes=(f"saved case: {len(saved.evidence)} probe(s), "
                                              f"{len(saved.answers)} answer(s)",)))
            continue
        kind = sniff(inp, stdin=stdin if inp.path is None else None)
        if kind.error:
            reports.append(InputReport(inp.name, "unknown", kind.format, error=kind.error))
        elif kind.kind in ("log", "trace"):
            opened += 1
            # For stdin, the reader gets the stream that replays what sniff sampled.
            readers.append(LogReader(inp, config, stdin=kind.stdin or stdin, cancel=cancel))
        elif kind.kind in ("kube", "bundle") and inp.path is not None:
            opened += 1
            ev = kube_probe.read_kube_path(inp.path)
            if ev is None:
                reports.append(InputReport(inp.name, kind.kind, kind.format,
                                           error=_not_kube_reason(kind.format, kind.reason)))
            else:
                evidence.append(ev)
                readers.extend(LogReader(member, config, cancel=cancel)
                               for member in kube_probe.bundle_log_inputs(inp.path))
        elif kind.kind == "code" and inp.path is not None:
            opened += 1
            code_roots.append(inp.path)
        elif kind.kind == "empty":
            opened += 1
            reports.append(InputReport(inp.name, "log", "empty", notes=("empty input",)))
        else:
            opened += 1
            reports.append(InputReport(inp.name, kind.kind, kind.format,
                                       error=kind.reason or f"not a usable input ({kind.kind})"))

    if code_roots and not cancel.is_set():
        if progress:
            progress("scanning source", 0, len(code_roots))
        evidence.append(code_probe().scan(code_roots, cancel=cancel))

    log_paths = [r_path for r in readers if (r_path := _path_of(r)) is not None]
    if readers:
        early = None
        if preview is not None:
            def early(partial: Evidence, events: int, done: int, total: int) -> None:
                verdict = diagnose(Case(evidence=(partial, *evidence), answers=answers))
                top = verdict.causes[0] if verdict.verdict not in (
                    "healthy", "inconclusive") and verdict.causes else None
                preview(EarlyLook(events, done, total,
                                  (top.id, top.title, top.score) if top else None))
        log_ev = analyze_logs(readers, progress, sink, early)
        reports.extend(log_ev.inputs)
        evidence.insert(0, log_ev)

    case = Case(evidence=tuple(evidence), answers=answers)
    for ev in evidence:
        reports.extend(i for i in ev.inputs if i not in reports and ev.probe != "logs")
    return Analysis(case, diagnose(case), reports, log_paths, cancel.is_set(),
                    opened=opened + len(extra), config=config)


def analyze_logs(readers: Sequence[LogReader], progress: Progress | None = None,
                 sink: EventSink | None = None,
                 early: Callable[[Evidence, int, int, int], None] | None = None) -> Evidence:
    """All readers' events, merged by time, through one ``LogAnalysis``.

    The evidence carries the readers' input reports (format, lines read and skipped), so
    every caller (files, bundles, a live cluster's logs) reports its inputs the same way.
    ``early(partial, events, done, total)`` is called now and then on a long read with
    the evidence so far (``finish`` leaves the analysis able to go on: tested on every
    lab, corpus and golden case).
    """
    total = _plain_bytes(readers)
    fast = _columnar_logs(readers, total, progress, sink)
    if isinstance(fast, Evidence):
        return fast
    analysis = LogAnalysis()
    add = sink.add if sink is not None else None
    next_look = time.monotonic() + EARLY_FIRST_S

    def done() -> int:
        return min(sum(r.report().bytes_read for r in readers), total)

    for i, event in enumerate(merge_by_time([r.events() for r in readers])):
        analysis.feed(event)
        if add is not None:
            add(event)
        if i % 4096 == 0:
            if progress and i % 49_152 == 0:
                progress("reading logs", done(), total)
            if early is not None and time.monotonic() >= next_look:
                t0 = time.monotonic()
                early(analysis.finish(), i + 1, done(), total)
                cost = time.monotonic() - t0
                next_look = time.monotonic() + max(EARLY_EVERY_S, cost / EARLY_COST_SHARE)
    log_ev = analysis.finish()
    return replace(log_ev, inputs=(*log_ev.inputs, *(r.report() for r in readers)))


COLUMNAR_MAX_BYTES = 512 << 20
"""Inputs up to this size (plain files) take the columnar path. Its columns hold every
line (about 200 bytes each with the string table: 240 MB more than the per-event path on
the 300 MB benchmark), while the per-event path's memory grows with runs, not lines:
beyond this, a log with few runs would cost more memory in columns than is worth the
time saved, so it streams."""


COLUMNAR_BYTES_PER_BYTE = 3
"""The columnar path's peak memory per byte of input, rounded up from the benchmarks
(300 MB pino with 405k runs: 2.8; 100 MB with no runs: 2.8; eight 25 MB logs: 1.5)."""
COLUMNAR_MEMORY_SHARE = 0.6
"""The columnar path is taken only when its estimated peak fits in this share of the
memory available now: scaledoc runs on the operator's own machine, beside everything
else open at 3 a.m., and the per-event path (slower) needs far less on a log with few
runs."""


def _memory_available(proc: str = "/proc", cgroup: str = "/sys/fs/cgroup") -> int | None:
    """Bytes this process may still allocate now, or None if unknown: the machine's
    ``MemAvailable`` (free memory plus what the kernel can reclaim), lowered to what is
    left under this process's cgroup limit (scaledoc in a pod or a container is killed at
    its limit, whatever the host has). Read from ``/proc`` and ``/sys`` directly, not
    psutil: an offline analysis loads no live probe."""
    free: int | None = None
    try:
        with open(f"{proc}/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        return None
    for limit_file, usage_file in (
            (f"{cgroup}/memory.max", f"{cgroup}/memory.current"),  # cgroup v2
            (f"{cgroup}/memory/memory.limit_in_bytes",
             f"{cgroup}/memory/memory.usage_in_bytes")):  # v1
        try:
            with open(limit_file, encoding="ascii") as f:
                limit_text = f.read().strip()
            with open(usage_file, encoding="ascii") as f:
                used = int(f.read().strip())
        except (OSError, ValueError):
            continue
        # v2 writes "max" for no limit, v1 a number near 2**63
        if limit_text.isdigit() and int(limit_text) < 1 << 60:
            left = max(0, int(limit_text) - used)
            free = left if free is None else min(free, left)
        break
    return free


class ColumnSink(EventSink, Protocol):
    """A sink that also takes a whole ``EventColumns`` at once (the Logs view's index)."""

    def add_columns(self, cols: EventColumns) -> None: ...


@dataclass(frozen=True)
class ColumnarPath:
    """Which path read the logs, and why not the columnar one (for benchmarks and tests)."""

    used: bool
    reason: str = ""
    bulk: bool = False  # the analysis state was built from columns, not replayed per row
    processes: int = 1  # 2: a helper process decoded part of the inputs


LAST_PATH: list[ColumnarPath] = []
"""The path the latest ``analyze_logs`` took in this process (one entry; benchmarks print
it, tests assert it)."""


def _columnar_logs(readers: Sequence[LogReader], total: int, progress: Progress | None,
                   sink: EventSink | None) -> Evidence | ColumnarPath:
    """The logs read as columns and the analysis state built from them (``probes.columnar``),
    or why they go through the per-event path instead.

    Both give the same evidence: the decoder accepts only inputs it reads exactly as the
    readers do (declining otherwise), and the bulk build declines shapes it does not
    reproduce, in which case the decoded rows are fed one at a time (still without reading
    the files twice). The Logs view's index is filled from the same columns."""
    path = _columnar_reason(readers, total, sink)
    if path is None:
        from probes.columnar import events_from_columns
        from probes.columnar.bulk import Declined, bulk_analysis
        from probes.columnar.decode import NotDecoded, decode_inputs

        told = None if progress is None else (
            lambda done: progress("reading logs", min(done, total), total))
        cols = None
        try:
            decoded = decode_inputs([r.inp for r in readers], readers[0].config,
                                    readers[0].cancel, told)
            if isinstance(decoded, NotDecoded):
                path = ColumnarPath(False, decoded.reason)
            else:
                cols = decoded.columns
                if progress:
                    progress("reading logs", total, total)
                built = bulk_analysis(cols, feedable=False)  # finished here, never fed on
                if isinstance(built, Declined):
                    analysis = LogAnalysis()
                    for event in events_from_columns(cols):
                        analysis.feed(event)
                    path = ColumnarPath(True, built.reason, bulk=False,
                                        processes=decoded.processes)
                else:
                    analysis, path = built, ColumnarPath(True, bulk=True,
                                                         processes=decoded.processes)
                log_ev = analysis.finish()
                if sink is not None:
                    cast(ColumnSink, sink).add_columns(cols)  # has it: _columnar_reason
                LAST_PATH[:] = [path]
                return replace(log_ev, inputs=(*log_ev.inputs, *decoded.reports))
        except Exception as exc:  # noqa: BLE001 - the per-event path is the reference
            # A fault in the newer path must not cost the operator the analysis: the
            # readers were not touched, so the per-event path reads the inputs itself.
            path = ColumnarPath(False, f"the columnar path failed ({type(exc).__name__}: "
                                       f"{exc}); read per event")
        finally:
            close = getattr(cols.texts, "close", None) if cols is not None else None
            if close is not None:
                close()
    LAST_PATH[:] = [path]
    return path


def _columnar_reason(readers: Sequence[LogReader], total: int,
                     sink: EventSink | None) -> ColumnarPath | None:
    """Why these readers cannot take the columnar path, or None when they can try."""
    if os.environ.get("SCALEDOC_COLUMNAR", "1") == "0":
        return ColumnarPath(False, "turned off (SCALEDOC_COLUMNAR=0)")
    if sink is not None and not hasattr(sink, "add_columns"):
        return ColumnarPath(False, "the event sink takes events one at a time")
    if total == 0:
        return ColumnarPath(False, "stdin or a compressed input: size unknown")
    if total > COLUMNAR_MAX_BYTES:
        return ColumnarPath(False, f"over {COLUMNAR_MAX_BYTES >> 20} MiB: streamed per event, "
                                   "memory flat in lines")
    need, free = total * COLUMNAR_BYTES_PER_BYTE, _memory_available()
    if free is not None and need > free * COLUMNAR_MEMORY_SHARE:
        return ColumnarPath(False, f"needs about {need >> 20} MiB of memory and "
                                   f"{free >> 20} MiB are available: streamed per event, "
                                   "memory following runs")
    return None


def _plain_bytes(readers: Sequence[LogReader]) -> int:
    """Total size of the inputs when it predicts the bytes to read; 0 (unknown) when a
    compressed input or stdin is among them."""
    total = 0
    for r in readers:
        path = r.inp.path
        if path is None or path.suffix == ".gz":
            return 0
        try:
            total += path.stat().st_size
        except OSError:
            return 0
    return total


def _not_kube_reason(fmt: str, reason: str) -> str:
    """Why a file that looked like Kubernetes material gave nothing, and what to do: event
    rows pasted without their header line are common (copied from a terminal)."""
    if fmt == "kubectl-events":
        return (f"{reason} that could not be read as a table: keep the header line "
                "(LAST SEEN  TYPE  REASON  OBJECT  MESSAGE), or save the events with "
                "'kubectl get events -o json'")
    return f"not Kubernetes material: {reason}"


SAVED_CASE_MAX_BYTES = 64 << 20


def _saved_case_keys(data: bytes) -> bool:
    """Whether a JSON object's top-level keys may be a saved case's, found without building
    its values (msgspec keeps each as raw bytes): a 60 MB kubectl dump is not decoded
    twice just to learn it is not a case. Input msgspec refuses (NaN, which ``json``
    reads) answers True, so the full check below gives its reason as before."""
    import msgspec

    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return True
    return set(top) == {"evidence", "answers"}


def _saved_case(path: Path) -> Case | str | None:
    """A case saved by ``--save-case`` or the TUI (ctrl+s): its evidence and answers.

    Recognised by shape ({"evidence": [...], "answers": {...}} of probe records), so a
    log file that happens to end in .json is never mistaken for one. A file of that shape
    that cannot be taken in whole (a record of the wrong type, NaN or Infinity, nesting
    past Python's limit) gives the reason as text: it is reported, never read as a log.
    """
    if path.suffix != ".json":
        return None
    try:
        if path.stat().st_size > SAVED_CASE_MAX_BYTES:
            return None
        with path.open("rb") as fh:
            if fh.read(1) != b"{":
                return None
        data = path.read_bytes()
        if not _saved_case_keys(data):
            return None
        doc = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(doc, dict) and set(doc) == {"evidence", "answers"}
            and isinstance(doc["evidence"], list) and isinstance(doc["answers"], dict)):
        return None
    for n, item in enumerate(doc["evidence"]):
        if not (isinstance(item, dict) and "probe" in item):
            what = "an object without 'probe'" if isinstance(item, dict) else \
                f"a {type(item).__name__}"
            return f"a saved case whose evidence item {n} is {what}, not a probe record"
    if obj_too_deep(doc):
        return f"a saved case nested deeper than {MAX_DEPTH} levels"
    try:
        json.dumps(doc, allow_nan=False)
    except ValueError:
        return "a saved case holding NaN or Infinity, which JSON does not allow"
    try:
        return Case.from_json(doc)
    except ValueError as e:
        return f"a saved case that cannot be used: {e}"
    except (KeyError, TypeError, AttributeError) as e:
        return f"a saved case with a malformed record ({type(e).__name__}: {e})"


LOG_SUFFIXES = (".log", ".jsonl", ".gz", ".ndjson")


def _has_logs(root: Path) -> bool:
    """A directory given on the command line is a source tree unless it holds logs.

    Walks the tree as the code probe does, pruning the folders it never scans
    (node_modules, .git, virtualenvs...), so a large checkout is not walked twice whole.
    """
    from probes.code.scan import SKIP_DIRS

    for _folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        if any(name.endswith(LOG_SUFFIXES) for name in files):
            return True
    return False


def _path_of(reader: LogReader) -> str | None:
    path = reader.inp.path
    return str(path) if path is not None else None


def iter_events(paths: Sequence[str], config: IngestConfig | None = None,
                cancel: threading.Event | None = None) -> Iterator[LogEvent]:
    """All log and trace events of the given files, merged by time (for exports)."""
    config = config or IngestConfig()
    readers = [LogReader(inp, config, cancel=cancel) for inp in discover(paths) if not inp.error]
    yield from merge_by_time([r.events() for r in readers])


def cluster_case(got: Any, target: Any, sink: EventSink | None = None) -> Case:
    """What a live cluster read gives (``probes.kube.live.gather``): the pods' evidence and
    the analysis of their logs, each log named by pod identity (``ns/pod/container``, and
    ``/previous`` for a restarted container's last run).

    Logs go through the same reader as files (``LogReader``), written to a private folder
    of the process's temp space first because the reader reads files; the folder is
    removed when the logs are read: ``sink`` (the TUI's Logs view index) gets their events
    in the same pass, with their texts, since the files do not outlive it.
    """
    from probes.kube.live import evidence_of
    from probes.tempspace import space

    ev = evidence_of(got, target)
    if not got.logs:
        return Case(evidence=(ev,))
    with space().scoped("kube-logs") as folder:
        readers = []
        for i, (source, lines) in enumerate(got.logs):
            path = Path(folder) / f"{i:06d}.log"
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            readers.append(LogReader(InputFile(source, path), IngestConfig()))
        log_ev = analyze_logs(readers, sink=sink)
    return Case(evidence=(log_ev, ev))


def live_evidence(*, port: int | None = None, pid: int | None = None, ramp: Any = None,
                  prometheus: Any = None, cancel: threading.Event | None = None
                  ) -> list[Evidence]:
    """The live probes joined to an analysis: a process sample of whatever serves ``port``
    (or ``pid`` and its workers), a bounded ramp (``probes.ramp.RampPlan``), and the
    fleet's metrics from a Prometheus server (``probes.prometheus.PromTarget``). Each
    returns Evidence; a target that cannot be reached is Evidence with its error. psutil
    and httpx load only when asked for."""
    out: list[Evidence] = []
    if port is not None or pid is not None:
        from probes.process import ProcessTarget
        from probes.process import collect as collect_processes

        out.append(collect_processes(ProcessTarget(port=port, pid=pid), cancel))
    if ramp is not None:
        from probes.ramp import run_ramp

        out.append(run_ramp(ramp, cancel))
    if prometheus is not None:
        from probes.prometheus import collect as collect_metrics

        out.append(collect_metrics(prometheus, cancel))
    return out
