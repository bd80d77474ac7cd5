"""What an input is, from a bounded head sample: log, trace, kube, bundle, code...

``sniff`` reads at most ``SAMPLE_BYTES`` (64 KiB, decompressed when gzip) and decides
with cheap checks in this order: name (source code and manifests), tar magic
(bundle), emptiness, binary content, kubectl JSON/YAML, trace shapes, else a log
whose wrappers and inner format are guessed on its first ``SAMPLE_LINES`` lines. The
reader uses the same ``classify_head`` so the two never disagree. For stdin the
sample is kept and replayed: pass ``Sniffed.stdin`` on to the reader.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO, cast

from probes.ingest.lineformats import detect_format
from probes.ingest.sources import (
    GZIP_MAGIC,
    SAMPLE_BYTES,
    InputFile,
    ReplayStream,
    open_raw,
    peek_stdin,
)
from probes.ingest.wrappers import Unwrapper, detect_wrappers, inner_sample

SAMPLE_LINES = 200
BINARY_SHARE = 0.10
"""A sample is binary when more than this share of its characters are NUL, control or
undecodable, or more than this share of its lines hold a NUL byte. A log with a
stray NUL line stays a log (that line is skipped and counted)."""

CODE_SUFFIXES = frozenset({".py", ".ts", ".tsx", ".js", ".mjs", ".cjs"})
MANIFEST_NAMES = frozenset({"package.json", "pyproject.toml", "poetry.lock", "uv.lock",
                            "pipfile", "pipfile.lock"})
_KUBE_JSON = re.compile(r'\A\s*\{\s*"(?:apiVersion|kind)"\s*:')
# an object saved without apiVersion/kind (openshift insights archives): metadata first
_KUBE_JSON_BARE = re.compile(r'\A\s*\{\s*"metadata"\s*:\s*\{\s*"(?:name|namespace|uid)"')
# a node's Conditions rows, as `kubectl describe node` prints them
_NODE_CONDITION = re.compile(
    r"^\s*(?:MemoryPressure|DiskPressure|PIDPressure|NetworkUnavailable|Ready)\s+"
    r"(?:True|False|Unknown)\s+\S", re.MULTILINE)
_KUBE_YAML_API = re.compile(r"^apiVersion:\s*\S", re.MULTILINE)
_KUBE_YAML_KIND = re.compile(r"^(?:kind|items):", re.MULTILINE)
# `kubectl describe` output: "Name:" first, or (for excerpts) several of its section keys.
_DESCRIBE_FIRST = re.compile(r"\A\ufeff?Name:\s+\S")
_DESCRIBE_KEYS = re.compile(
    r"^\s*(?:Namespace|Labels|Annotations|Status|Containers|Conditions|Events|Restart Count|"
    r"Last State|Exit Code|Liveness|Readiness|Limits|Requests|Roles|Taints|Allocatable):",
    re.MULTILINE)
# `kubectl get events` tables (with or without the header) and describe's Events section.
_EVENTS_HEADER = re.compile(r"^\s*(?:LAST SEEN|TIME|Type)\s+.*\b(?:REASON|Reason)\b",
                            re.MULTILINE)
_EVENT_ROW = re.compile(r"^\s*(?:[a-z0-9][a-z0-9.-]*\s+)?(?:\S+(?: \(x\d+ over \S+\))?\s+)?"
                        r"(?:Normal|Warning)\s+[A-Za-z]+\s+\S+")
# `kubectl get pods|deploy|rs` / `kubectl top pods` headers, and pod rows without one
# (NAME READY STATUS RESTARTS AGE; RESTARTS may read "6 (118s ago)").
_GET_HEADER = re.compile(
    r"^\s*(?:NAMESPACE\s+)?(?:NAME\s+READY\s+(?:STATUS\s+RESTARTS|UP-TO-DATE\s+AVAILABLE)\s+AGE|"
    r"NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE|(?:POD\s+)?NAME\s+CPU\(cores\)\s+.*MEMORY\(bytes\))",
    re.MULTILINE)
_POD_ROW = re.compile(r"^\s*(?:[a-z0-9][a-z0-9.-]*\s+)?(?:pod/)?[a-z0-9{][\w.{}-]*\s+\d+/\d+\s+"
                      r"[A-Za-z][\w:/-]*\s+\d+(?:\s+\([^)]*\))?\s+\d[\w.]*(?:\s+\S+)*\s*$")
_KUBECTL_CMD = re.compile(
    r"^\s*(?:\S*[$#>]\s*)?(?:sudo\s+)?kubectl\s+(?:get|describe|top|events)\b", re.MULTILINE)
_OTLP = re.compile(r'\A\s*\{\s*"(resourceSpans|resourceLogs|resourceMetrics|batches)"\s*:')
_CONSOLE = re.compile(r'\A\s*\{\s*"name"\s*:')
_CTRL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


@dataclass
class Sniffed:
    """What ``sniff`` found. ``kind`` is one of log, trace, kube, bundle, code, binary,
    empty; ``format`` the format guess ("cri+pino", "otlp-json", "kubectl-json"...);
    ``reason`` why, in words. ``stdin`` is the replaying stream to hand to the reader
    when the input is stdin. ``error`` is set when the input could not be read."""

    kind: str
    format: str
    reason: str
    stdin: BinaryIO | None = None
    error: str | None = None


def is_code_name(name: str) -> bool:
    """Source files and dependency manifests, by name."""
    p = PurePath(name)
    low = p.name.lower()
    if p.suffix.lower() in CODE_SUFFIXES or low in MANIFEST_NAMES:
        return True
    if low.startswith("requirements") and low.endswith(".txt"):
        return True
    return "lock" in low and p.suffix.lower() in (".json", ".yaml", ".yml", ".lock", "")


def is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def binary_share(sample: bytes) -> float:
    """Share of NUL, control (not tab/newline/CR/ESC) and undecodable characters."""
    if not sample:
        return 0.0
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") + len(_CTRL.findall(sample))
    return bad / max(1, len(text))


def sample_lines(sample: bytes, complete: bool) -> list[str]:
    """The first SAMPLE_LINES non-empty lines; a last line cut by the sample bound is
    dropped (it would look malformed)."""
    lines = sample.split(b"\n")
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    out: list[str] = []
    for b in lines:
        if b.strip():
            out.append(b.rstrip(b"\r").decode("utf-8", errors="replace"))
            if len(out) >= SAMPLE_LINES:
                break
    return out


def log_format(lines: list[str]) -> str:
    """"kubectl-timestamps+structlog"-style name: wrappers, then the inner format."""
    wrappers = detect_wrappers(lines)
    fmt, _ = detect_format(inner_sample(lines, Unwrapper(wrappers)))
    return "+".join([*wrappers, fmt])


def classify_head(name: str, sample: bytes, complete: bool, tar: bool) -> tuple[str, str, str]:
    """(kind, format, reason) for a head sample (already decompressed)."""
    if name != "-" and is_code_name(name):
        return "code", PurePath(name).suffix.lstrip(".") or PurePath(name).name, \
            "source file or dependency manifest (by name)"
    if tar or is_tar(sample):
        return "bundle", "tar", "tar archive"
    if not sample.strip():
        return "empty", "", "no content" if not sample else "only whitespace"
    share = binary_share(sample)
    raw_lines = sample.split(b"\n")
    nul_lines = sum(1 for ln in raw_lines if b"\x00" in ln)
    if share > BINARY_SHARE or nul_lines > len(raw_lines) * BINARY_SHARE:
        return "binary", "", (f"binary data ({share:.0%} NUL/control/undecodable bytes "
                              "in the sample)")
    text = sample.decode("utf-8", errors="replace").lstrip("\ufeff")
    if _KUBE_JSON.match(text):
        return "kube", "kubectl-json", 'JSON object with top-level "apiVersion"/"kind"'
    if _KUBE_JSON_BARE.match(text):
        return "kube", "kubectl-json", "Kubernetes object without apiVersion/kind"
    if _NODE_CONDITION.match(text):
        return "kube", "kubectl-describe", "kubectl describe node conditions"
    if _KUBE_YAML_API.search(text) and _KUBE_YAML_KIND.search(text):
        return "kube", "kubectl-yaml", "YAML with top-level apiVersion and kind"
    if _DESCRIBE_FIRST.match(text) and len(_DESCRIBE_KEYS.findall(text)) >= 2 \
            or len(_DESCRIBE_KEYS.findall(text[:4096])) >= 3:
        return "kube", "kubectl-describe", "kubectl describe output"
    if _EVENTS_HEADER.search(text[:4096]):
        return "kube", "kubectl-events", "kubectl get events table"
    if _GET_HEADER.search(text[:4096]):
        return "kube", "kubectl-get", "kubectl get / top table"
    rows = [ln for ln in text.splitlines()[:50] if ln.strip()]
    events = sum(1 for ln in rows if _EVENT_ROW.match(ln))
    pods = sum(1 for ln in rows if _POD_ROW.match(ln))
    if rows and events >= max(2, len(rows) * 3 // 4):
        return "kube", "kubectl-events", "kubectl get events rows"
    if rows and pods + events >= max(2, len(rows) * 3 // 4):
        return "kube", "kubectl-get", "kubectl get pods rows (without their header)"
    if (events or pods) and _KUBECTL_CMD.search(text[:4096]):
        return "kube", "kubectl-get", "kubectl command and its output"
    m = _OTLP.match(text)
    if m:
        what = "OTLP JSON lines" if m.group(1) != "batches" else "OTLP JSON (Tempo export)"
        return "trace", "otlp-json", what
    if _CONSOLE.match(text) and '"context": {' in text and '"trace_id": "0x' in text:
        return "trace", "otel-console", "OpenTelemetry ConsoleSpanExporter JSON objects"
    lines = sample_lines(sample, complete)
    return "log", log_format(lines), f"text lines ({len(lines)} sampled)"


def decompress_head(head: bytes) -> tuple[bytes, bool, str | None]:
    """Decompress a gzip head sample up to SAMPLE_BYTES. Returns (bytes, complete?, error)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(head, SAMPLE_BYTES)
    except zlib.error:
        return b"", True, "gzip data corrupt"
    return out, d.eof and not d.unconsumed_tail, None


def sniff(inp: InputFile, stdin: BinaryIO | None = None) -> Sniffed:
    """Say what one input is from at most 64 KiB of it. Never raises."""
    if inp.error:
        return Sniffed("empty", "", f"unreadable: {inp.error}", error=inp.error)
    replay: BinaryIO | None = None
    try:
        if inp.path is None:
            if stdin is None:
                return Sniffed("empty", "", "stdin was not given", error="stdin was not given")
            replay = peek_stdin(stdin)
            head = cast(ReplayStream, replay).head
            complete = len(head) < SAMPLE_BYTES
        else:
            with open_raw(inp, None) as f:
                head = f.read(SAMPLE_BYTES)
                complete = len(head) < SAMPLE_BYTES or not f.read(1)
    except OSError as exc:
        msg = "permission denied" if isinstance(exc, PermissionError) else str(exc)
        return Sniffed("empty", "", f"unreadable: {msg}", error=msg)
    tar_name = inp.name.lower().endswith((".tar", ".tar.gz", ".tgz"))
    sample = head
    if head[:2] == GZIP_MAGIC:
        sample, gz_complete, err = decompress_head(head)
        if err:
            return Sniffed("binary", "gzip", err, stdin=replay)
        complete = complete and gz_complete
    kind, fmt, reason = classify_head(inp.name, sample, complete, tar_name and is_tar(sample))
    if head[:2] == GZIP_MAGIC and kind not in ("bundle", "code"):
        reason += " (gzip)"
    return Sniffed(kind, fmt, reason, stdin=replay)
