"""Container wrappers around a log line, removed before the line itself is parsed.

A pod's line reaches us wrapped by whatever carried it: the kubelet's CRI file
(``<ts> stdout F <line>``, long lines split into ``P`` partials), ``kubectl logs
--timestamps`` (``<ts> <line>``), ``kubectl logs --prefix`` (``[pod/NAME/CONTAINER] ``),
Docker's json-file driver (``{"log":"...\\n","stream":..,"time":..}``, long lines
split into records until one ends in ``\\n``) or stern (``pod container [ts] line``,
ANSI-coloured). lnav reads such files as plain text and loses the JSON inside; we
peel the wrappers off, keep their clock (the kubelet's receive time) for lines whose
own time is missing, and take the pod name as the host.

``detect_wrappers`` picks the wrappers on a sample; ``Unwrapper`` applies the locked
ones to each line, letting lines that do not match through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import msgspec

from probes.evidence import parse_iso_ns

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PREFIX = re.compile(r"\[pod/([^/\]\s]+)/([^\]\s]+)\] ")
# A Kubernetes pod name made by a controller: "<name>-<5 chars>" or "<name>-<hash>-<5 chars>".
_POD_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?-[a-z0-9]{5}")
_STREAMS = ("stdout ", "stderr ")

_KUBELET_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d) ")
# Go's RFC3339Nano (kubectl --timestamps, stern -t) trims trailing zeros: ".136Z", ".1Z", none.
_GO_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,9}))?(?:Z|[+-]\d\d:\d\d) ")

MATCH_SHARE = 0.6
"""A wrapper is locked on when at least this share of the sample's lines carry it."""


class Unwrapped(NamedTuple):
    """The inner line and what the wrappers said about it. ``stream`` is the CRI /
    Docker stream ("stdout", "stderr") when the wrapper names one; ``partial`` says the
    record continues on the next line of that stream (CRI ``P``, a Docker record
    without a final newline)."""

    text: str
    time_ns: int | None
    host: str | None
    stream: str | None = None
    partial: bool = False


class DockerLine(msgspec.Struct, gc=False):
    log: str
    stream: str | None = None
    time: str | None = None


_docker_decoder = msgspec.json.Decoder(DockerLine)


def split_timestamp(line: str) -> tuple[int, str] | None:
    """``"2021-11-08T22:10:43.631552134Z rest"`` -> (ns, "rest"); a cheap shape check
    before parsing, since this runs on every line of a kubectl/CRI file."""
    sp = line.find(" ")
    if sp < 19 or sp > 36 or line[4:5] != "-" or line[10:11] != "T":
        return None
    t = parse_iso_ns(line[:sp])
    if t is None:
        return None
    return t, line[sp + 1 :]


def strip_kubectl_prefix(line: str) -> tuple[str, str] | None:
    """``"[pod/web-1/app] rest"`` -> ("web-1", "rest")."""
    if not line.startswith("[pod/"):
        return None
    m = _PREFIX.match(line)
    if m is None:
        return None
    return m.group(1), line[m.end() :]


def strip_stern(line: str) -> tuple[str, str] | None:
    """``"web-7cfd7bf68f-nk5kr app message"`` (ANSI removed, optional namespace first)
    -> (pod, "message")."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    parts = line.split(" ", 2)
    if len(parts) == 3 and _POD_NAME.fullmatch(parts[0]):
        return parts[0], parts[2]  # pod container message
    parts = line.split(" ", 3)
    if len(parts) == 4 and _POD_NAME.fullmatch(parts[1]):
        return parts[1], parts[3]  # namespace pod container message
    return None


def split_cri(rest: str) -> tuple[str, bool, str] | None:
    """After the timestamp: ``"stdout P:tag content"`` -> ("stdout", partial, content)."""
    if not rest.startswith(_STREAMS):
        return None
    stream = rest[:6]
    tag_end = rest.find(" ", 7)
    tags = rest[7:] if tag_end == -1 else rest[7:tag_end]
    first = tags.split(":", 1)[0]
    if first not in ("P", "F"):
        return None
    content = "" if tag_end == -1 else rest[tag_end + 1 :]
    return stream, first == "P", content


def unwrap_docker(line: str) -> Unwrapped | None:
    """One Docker json-file record; None when the line is not one."""
    if not line.startswith('{"log":'):
        return None
    try:
        rec = _docker_decoder.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    text = rec.log
    partial = True
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
        partial = False
    t = parse_iso_ns(rec.time) if rec.time else None
    return Unwrapped(text, t, None, rec.stream or "stdout", partial)


class Unwrapper:
    """Applies the wrappers locked for one source, outermost first."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._prefix = "kubectl-prefix" in self.names
        self._stern = "stern" in self.names
        self._cri = "cri" in self.names
        self._ts = "kubectl-timestamps" in self.names or self._stern
        self._docker = "docker" in self.names

    def __call__(self, line: str) -> Unwrapped:
        host: str | None = None
        if self._docker:
            d = unwrap_docker(line)
            if d is not None:
                return d
            return Unwrapped(line, None, None)
        if self._prefix:
            p = strip_kubectl_prefix(line)
            if p is not None:
                host, line = p
        elif self._stern:
            s = strip_stern(line)
            if s is not None:
                host, line = s
        t: int | None = None
        if self._cri:
            ts = split_timestamp(line)
            if ts is not None:
                cri = split_cri(ts[1])
                if cri is not None:
                    stream, partial, content = cri
                    return Unwrapped(content, ts[0], host, stream, partial)
        if self._ts:
            ts = split_timestamp(line)
            if ts is not None:
                t, line = ts
        return Unwrapped(line, t, host)


def detect_wrappers(lines: Sequence[str]) -> list[str]:
    """The wrappers most sample lines carry, outermost first (may be empty)."""
    sample = [ln for ln in lines if ln.strip()]
    if not sample:
        return []
    need = max(1, int(len(sample) * MATCH_SHARE + 0.999))
    if sum(1 for ln in sample if unwrap_docker(ln) is not None) >= need:
        return ["docker"]
    names: list[str] = []
    prefixed = [strip_kubectl_prefix(ln) for ln in sample]
    if sum(1 for p in prefixed if p is not None) >= need:
        names.append("kubectl-prefix")
        sample = [p[1] if p is not None else ln for p, ln in zip(prefixed, sample, strict=True)]
    else:
        sterned = [strip_stern(ln) for ln in sample]
        if sum(1 for s in sterned if s is not None) >= need:
            names.append("stern")
            sample = [s[1] if s is not None else ln for s, ln in zip(sterned, sample, strict=True)]
    stamped = [split_timestamp(ln) for ln in sample]
    if sum(1 for s in stamped if s is not None) >= need:
        cri = sum(1 for s in stamped if s is not None and split_cri(s[1]) is not None)
        # The kubelet writes RFC3339NanoFixed: always 9 fractional digits. An app's own
        # ISO time at the start of a plain text line has fewer, and is not a wrapper.
        nano = sum(1 for ln in sample if _KUBELET_TS.match(ln))
        if cri >= need:
            names.append("cri")
        elif "stern" not in names and (nano >= need or go_stamped(sample, need)):
            names.append("kubectl-timestamps")
    return names


def go_stamped(sample: Sequence[str], need: int) -> bool:
    """Do at least ``need`` lines carry a Go RFC3339Nano prefix that is a wrapper, not
    the app's own clock? Go trims trailing zeros, so a wrapper's fractions vary in
    length across lines (an app prints a fixed width); or the text after the stamp is
    itself a record (JSON, another timestamp, a bracket), which an app's own time is not."""
    lens: set[int] = set()
    stamped = inner = 0
    for ln in sample:
        m = _GO_TS.match(ln)
        if m is None:
            continue
        stamped += 1
        lens.add(len(m.group(1) or ""))
        c = ln[m.end() : m.end() + 1]
        if c and (c in "{[" or c.isdigit()):
            inner += 1
    return stamped >= need and (len(lens) > 1 or inner >= need)


def inner_sample(lines: Sequence[str], unwrap: Unwrapper) -> list[str]:
    """The sample's inner lines with partial records joined, as the reader will see
    them (a CRI ``P`` piece of a JSON line must not vote for "text")."""
    if not unwrap.names:
        return list(lines)
    out: list[str] = []
    pending: dict[str, list[str]] = {}
    for ln in lines:
        u = unwrap(ln)
        key = u.stream or ""
        if u.partial:
            pending.setdefault(key, []).append(u.text)
            continue
        parts = pending.pop(key, None)
        out.append("".join(parts) + u.text if parts else u.text)
    return out
