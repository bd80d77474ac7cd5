"""Read saved Kubernetes material with no cluster: dumps, folders and capture bundles.

Accepted (detected by content, not by file name):

* ``kubectl get ... -o json`` output: a List/PodList/EventList or a single Pod/Event,
  also several JSON documents one after another (``kubectl cluster-info dump`` to stdout);
* ``kubectl get ... -o yaml`` output, one or several documents (timestamps kept as text,
  the way the API sends them);
* ``kubectl describe pod`` text (see ``probes.kube.describe``);
* ``kubectl get events`` / ``kubectl events`` tables (see ``probes.kube.events_text``);
* a ``kubectl cluster-info dump --output-directory`` folder, or any folder of the above;
* a capture bundle ``.tar.gz`` written by ``probes.kube.bundle``.

Every file read gets an ``InputReport``; objects that are neither Pods nor Events
(Deployments, Nodes...) are counted as skipped by kind, never dropped silently. Logs in
folders and bundles are not parsed here: ``bundle_log_members`` hands them to the log
pipeline with the pod identity in the source name.

Speed: a file (or bundle member) holding one JSON document, what ``kubectl get -o json``
writes, is decoded straight from its bytes into only the fields diagnosis reads
(``probes.kube.fields``: 10,000 pods and 50,000 events in a third of ``json.load``'s
time); anything else takes the general path, with the same result. Reading and building
evidence run with the cyclic garbage collector paused (``objects.gc_paused``).
"""

from __future__ import annotations

import json
import re
import tarfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from probes.evidence import Evidence, InputReport, now_utc
from probes.ingest.limits import DEEP_REASON, MAX_DEPTH, MAX_YAML_NODES
from probes.ingest.sources import InputFile
from probes.kube import describe, events_text, paste
from probes.kube.fields import DecodeFailed, decode_dump, kept_too_deep, too_deep
from probes.kube.objects import as_list, as_map, gc_paused, is_event, is_pod
from probes.kube.pods import PodFacts, pod_data, signals_from
from probes.safe_text import visible
from probes.tempspace import release, space

PROBE = "kube"
MANIFEST = "manifest.json"
BUNDLE_FORMAT = "scaledoc-capture/v1"
MAX_FILE_BYTES = 512 * 1024 * 1024
_LIST_KINDS = {"List", "PodList", "EventList"}
_KNOWN_KINDS = {"Pod", "Event", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",
                "Job", "Node", "Service", "Namespace", "ConfigMap", "Endpoints",
                "ReplicationController", "CronJob", "HorizontalPodAutoscaler"}


def looks_like_kube(doc: Mapping[str, Any]) -> bool:
    """Whether a parsed JSON/YAML document is Kubernetes API material we can use."""
    if not isinstance(doc, Mapping):
        return False
    kind = doc.get("kind")
    if isinstance(kind, str) and (kind in _LIST_KINDS or kind.endswith("List")):
        items = as_list(doc.get("items"))
        return "apiVersion" in doc and (not items or any(
            isinstance(i, Mapping) and (is_pod(i) or is_event(i) or "metadata" in i)
            for i in items[:20]))
    if isinstance(kind, str):
        return kind in _KNOWN_KINDS and "metadata" in doc
    return is_pod(doc) or is_event(doc)


def looks_like_kube_text(head: str) -> bool:
    """Whether the start of a text file is ``kubectl describe pod`` output or a
    ``kubectl get events`` / ``kubectl events`` table (for input sniffing: these are
    not JSON/YAML, so ``looks_like_kube`` cannot see them)."""
    return (describe.looks_like_describe(head) or events_text.looks_like_events_table(head)
            or paste.looks_like_paste(head))


class YamlRefused(ValueError):
    """A YAML document past a bound (nesting, alias expansion): the reason, as text."""


class _TextTimestampLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings, as the API server sends them, and
    refuses nesting past ``MAX_DEPTH`` and aliases expanding past ``MAX_YAML_NODES``
    nodes ("billion laughs"), both while composing, before anything walks the result."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(f"YAML nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None and _expanded_nodes(node, {}) > MAX_YAML_NODES:
            raise YamlRefused(f"YAML aliases expand past {MAX_YAML_NODES:,} nodes "
                              "(an alias bomb?)")
        return node


def _expanded_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes of a composed YAML tree with every alias expanded, counted without
    expanding (each shared node is counted once and reused). Depth is bounded by the
    loader, so the recursion is too."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a recursive alias counts once, never loops
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_nodes(c, memo) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_nodes(k, memo) + _expanded_nodes(v, memo) for k, v in node.value)
    memo[key] = total = min(total, MAX_YAML_NODES + 1)
    return total


_TextTimestampLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class _Collected:
    """Objects gathered from one or many files, with what became of each file."""

    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)
    owner_rows: list[dict[str, Any]] = field(default_factory=list)  # pasted deploy/rs rows
    usage: list[dict[str, Any]] = field(default_factory=list)  # pasted top rows
    inputs: list[InputReport] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    found_kube: bool = False

    def add_doc(self, doc: Any, skipped: Counter[str]) -> int:
        """Sort one parsed document's objects into pods/events/owners; count the rest."""
        if not isinstance(doc, Mapping) or not looks_like_kube(doc):
            skipped["not Kubernetes material"] += 1
            return 0
        self.found_kube = True
        items = as_list(doc.get("items")) if "items" in doc else [doc]
        used = 0
        for item in items:
            if not isinstance(item, Mapping):
                skipped["not an object"] += 1
                continue
            # freshly parsed and never changed: a plain dict is kept as it is
            obj = item if type(item) is dict else dict(item)
            if is_pod(obj):
                self.pods.append(obj)
                used += 1
            elif is_event(obj):
                self.events.append(obj)
                used += 1
            elif obj.get("kind") in ("Deployment", "ReplicaSet", "StatefulSet"):
                self.owners.append(obj)
                used += 1
            else:
                skipped[f"kind {item.get('kind') or 'unknown'} not used"] += 1
        return used


def _json_documents(text: str, skipped: Counter[str]) -> list[Any]:
    """One or several JSON documents back to back. ``kubectl cluster-info dump`` to
    stdout puts container logs ("==== START logs for container ...") between them:
    text that is not JSON is skipped up to the next line opening a document, and its
    lines are counted. Raises JSONDecodeError when no document parses at all."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    i, n = 0, len(text)
    first_error: json.JSONDecodeError | None = None
    found = False  # a document refused for its depth still makes this JSON
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        try:
            doc, i = decoder.raw_decode(text, i)
            if too_deep(doc, MAX_DEPTH):
                raise RecursionError
            docs.append(doc)
            continue
        except RecursionError:
            skipped[DEEP_REASON] += 1
            found = True
            nxt = text.find("\n{", start + 1)
            i = n if nxt == -1 else nxt + 1
            continue
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
        nxt = text.find("\n{", i)
        end = n if nxt == -1 else nxt + 1
        skipped["text between JSON documents (e.g. dumped logs)"] += text.count("\n", i, end) or 1
        i = end
    if not docs and first_error is not None and not found:
        raise first_error
    return docs


def _parse_data(name: str, data: bytes, into: _Collected) -> InputReport | None:
    """Parse one file's bytes; None when it is not Kubernetes material at all.

    One JSON document (what ``kubectl get -o json`` writes) is decoded into only the
    fields diagnosis reads (``probes.kube.fields``); anything else, and any JSON that
    decoder does not take exactly, goes through ``_parse_text`` as before."""
    report = _parse_dump(name, data, into)
    if report is not None:
        return report
    return _parse_text(name, data.decode("utf-8", errors="replace"), into)


def _parse_dump(name: str, data: bytes, into: _Collected) -> InputReport | None:
    """The fast path of ``_parse_data``: the same objects and the same report as
    ``_parse_text`` gives for one JSON document, or None to take that path instead."""
    if not data[:4096].lstrip().startswith(b"{"):
        return None
    try:
        doc = decode_dump(data)
    except DecodeFailed:
        return None
    if kept_too_deep(doc, MAX_DEPTH) or not looks_like_kube(doc):
        return None  # the general path says why (too deep, not Kubernetes material)
    skipped: Counter[str] = Counter()
    used = into.add_doc(doc, skipped)
    # as _parse_text counts them on the decoded text: a newline is never part of a
    # multi-byte character, and only invalid UTF-8 changes the size once replaced
    size = len(data) if data.isascii() else len(data.decode("utf-8", "replace").encode())
    return InputReport(name=name, kind="kube",
                       format=f"kubectl-json:{doc.get('kind') or 'Pod/Event'}",
                       lines_read=data.count(b"\n") + 1, events=used, skipped=dict(skipped),
                       bytes_read=size)


def _parse_text(name: str, text: str, into: _Collected) -> InputReport | None:
    """Parse one file's text; None when it is not Kubernetes material at all."""
    skipped: Counter[str] = Counter()
    stripped = text.lstrip()
    fmt = ""
    docs: list[Any] = []
    if not stripped.startswith(("{", "[")) and not _looks_like_yaml(text):
        return _parse_paste(name, text, into)
    if stripped.startswith(("{", "[")):
        try:
            docs = _json_documents(text, skipped)
            fmt = "kubectl-json"
        except json.JSONDecodeError:
            docs = []
            skipped.clear()
    if not fmt:
        try:
            docs = list(yaml.load_all(text, Loader=_TextTimestampLoader))  # noqa: S506 (safe)
            fmt = "kubectl-yaml"
        except YamlRefused:
            raise  # a bound, not "not YAML": the caller reports it
        except (yaml.YAMLError, RecursionError):
            return None
    flat: list[Any] = []
    for d in docs:
        flat.extend(d if isinstance(d, list) else [d])
    if not any(isinstance(d, Mapping) and looks_like_kube(d) for d in flat):
        if skipped.get(DEEP_REASON):
            raise ValueError(DEEP_REASON)  # refused, not "not Kubernetes": say so
        return None
    used = sum(into.add_doc(d, skipped) for d in flat if d is not None)
    kinds = sorted({str(d.get("kind") or "Pod/Event") for d in flat if isinstance(d, Mapping)})
    return InputReport(name=name, kind="kube", format=f"{fmt}:{'+'.join(kinds)}",
                       lines_read=text.count("\n") + 1, events=used, skipped=dict(skipped),
                       bytes_read=len(text.encode()))


_YAML_DOC = re.compile(r"^(?:apiVersion|kind|items|metadata):", re.MULTILINE)


def _looks_like_yaml(text: str) -> bool:
    """``kubectl get -o yaml`` output: top-level apiVersion/kind/items/metadata keys."""
    head = text[:8192]
    return len(_YAML_DOC.findall(head)) >= 2 and not head.lstrip().startswith("Name:")


def _parse_paste(name: str, text: str, into: _Collected) -> InputReport | None:
    """Pasted kubectl text (``probes.kube.paste``); None when nothing in it was kubectl's."""
    got = paste.parse_paste(text)
    if not got.found:
        return None
    into.found_kube = True
    into.pods.extend(got.pods)
    into.events.extend(got.events)
    into.owner_rows.extend(got.owners)
    into.usage.extend(got.usage)
    formats = [f for f, _ in got.formats.most_common()]
    notes = [f"read: {', '.join(paste.iter_formats(got))}"]
    if any(e.get("age") for e in got.events):
        notes.append("event ages are relative: rows keep their printed order")
    if any(p.get("_from") == "table" for p in got.pods):
        notes.append("pods from kubectl get rows: status only, their spec is not in the input")
    used = len(got.pods) + len(got.events) + len(got.owners) + len(got.usage)
    fmt = formats[0] if len(formats) == 1 else "kubectl-text:" + "+".join(sorted(formats))
    return InputReport(name=name, kind="kube", format=fmt, lines_read=got.lines, events=used,
                       skipped=dict(got.skipped), bytes_read=len(text.encode()),
                       notes=tuple(notes))


def _read_file_bytes(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ValueError("binary file")
    return data


def _is_bundle(path: Path) -> bool:
    if not path.is_file() or not tarfile.is_tarfile(path):
        return False
    try:
        with tarfile.open(path, "r:*") as tar:
            for n, m in enumerate(tar):  # the first members only, never the whole index
                if PurePosixPath(m.name).name == MANIFEST:
                    return True
                if n >= 4:
                    return False
            return False
    except (tarfile.TarError, OSError):
        return False


def read_kube_path(path: Path) -> Evidence | None:
    """Evidence from a saved dump, folder or bundle; None when it holds no Kubernetes
    material (so the caller can try other readers). Unreadable files are reported in
    ``inputs`` with their error, never raised."""
    with gc_paused():
        return _read_kube_path(Path(path))


def _read_kube_path(path: Path) -> Evidence | None:
    got = _Collected()
    try:
        if path.is_dir():
            _read_dir(path, got)
        elif _is_bundle(path):
            _read_bundle(path, got)
        elif path.is_file():
            report = _parse_data(str(path), _read_file_bytes(path), got)
            if report is not None:
                got.inputs.append(report)
        else:
            return None
    except (OSError, ValueError, tarfile.TarError) as exc:
        return Evidence(probe=PROBE, target=str(path), error=f"cannot read {path}: {exc}",
                        inputs=(InputReport(name=str(path), kind="kube", format="unknown",
                                            error=str(exc)),),
                        collected_at=now_utc())
    if not got.found_kube:
        return None
    return evidence_from(str(path), got.pods, got.events, got.inputs, manifest=got.manifest,
                         owners=got.owners, owner_rows=got.owner_rows, usage=got.usage)


def read_kube_text(name: str, text: str) -> Evidence | None:
    """Evidence from Kubernetes material already in memory (stdin: ``kubectl get pods |
    scaledoc analyze -``); None when the text holds none. Same readers as a file."""
    got = _Collected()
    report = _parse_text(name, text[: MAX_FILE_BYTES], got)
    if report is None or not got.found_kube:
        return None
    got.inputs.append(report)
    return evidence_from(name, got.pods, got.events, got.inputs, owners=got.owners,
                         owner_rows=got.owner_rows, usage=got.usage)


def evidence_from(target: str, pods: list[dict[str, Any]], events: list[dict[str, Any]],
                  inputs: list[InputReport], *, manifest: Mapping[str, Any] | None = None,
                  owners: list[dict[str, Any]] | None = None, error: str | None = None,
                  notes: Mapping[str, Any] | None = None,
                  owner_rows: list[dict[str, Any]] | None = None,
                  usage: list[dict[str, Any]] | None = None) -> Evidence:
    """Signals and tables for a set of objects: shared by offline and live reading."""
    with gc_paused():
        rows = [*(owner_rows or []), *(_owner_row(o) for o in owners or [])]
        facts = PodFacts(pods, events, rows)
        data = pod_data(facts)
        if rows:
            data["workloads"] = [{k: v for k, v in r.items() if k != "row"} for r in rows]
        if usage:
            data["usage"] = [{k: v for k, v in u.items() if k != "row"} for u in usage]
        if manifest is not None:
            data["manifest"] = dict(manifest)
        if owners:
            data["owners"] = [{"kind": o.get("kind"), "name": as_map(o.get("metadata")).get("name"),
                               "namespace": as_map(o.get("metadata")).get("namespace")}
                              for o in owners]
        if notes:
            data.update(notes)
        return Evidence(probe=PROBE, target=target, signals=signals_from(facts),
                        inputs=tuple(inputs), error=error, collected_at=now_utc(), data=data)


def _owner_row(o: Mapping[str, Any]) -> dict[str, Any]:
    """A Deployment/ReplicaSet/StatefulSet object as the row a table would print."""
    meta = as_map(o.get("metadata"))
    spec = as_map(o.get("spec"))
    status = as_map(o.get("status"))
    desired = spec.get("replicas")
    ready = status.get("readyReplicas", 0)
    return {"kind": str(o.get("kind") or ""), "name": str(meta.get("name") or "?"),
            "namespace": str(meta.get("namespace") or ""),
            "desired": desired if isinstance(desired, int) else None,
            "ready": ready if isinstance(ready, int) else None,
            "row": f"{o.get('kind')} {meta.get('name')}: {ready}/{desired} ready"}


def _read_dir(root: Path, got: _Collected) -> None:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".json", ".yaml", ".yml", ".txt"):
            continue
        if path.name == "logs.txt" or path.suffix == ".log":
            continue  # container logs: see bundle_log_members
        try:
            report = _parse_data(str(path), _read_file_bytes(path), got)
        except (OSError, ValueError) as exc:
            got.inputs.append(InputReport(name=str(path), kind="kube", format="unknown",
                                          error=str(exc)))
            continue
        if report is not None:
            got.inputs.append(report)


MAX_MEMBERS = 10_000
"""Members of a bundle looked at; the rest of a larger archive is not read."""
MAX_OBJECT_BYTES = 64 * 1024 * 1024
"""Largest JSON/YAML member read (pods.json, events.json...), read whole to parse."""
MAX_LOG_MEMBERS = 2_000
"""Container logs taken from one bundle."""
MAX_LOG_BYTES = 64 * 1024 * 1024
"""Bytes of one log member extracted for the reader; the rest of it is cut."""
MAX_EXTRACT_BYTES = 512 * 1024 * 1024
"""Bytes extracted from one bundle in all (what it may cost in the temp folder)."""
_NAMED = 10  # skipped member names listed in the report, per bundle


@dataclass
class _Plan:
    """What to take from a bundle, decided from the tar headers alone (sizes, types,
    names) before a byte is extracted; the same plan serves reading and extracting."""

    objects: list[str] = field(default_factory=list)
    logs: list[tuple[str, LogMember, int]] = field(default_factory=list)  # name, id, bytes
    skipped: Counter[str] = field(default_factory=Counter)
    named: list[str] = field(default_factory=list)
    cut: int = 0

    def skip(self, reason: str, name: str) -> None:
        self.skipped[reason] += 1
        if len(self.named) < _NAMED:
            self.named.append(f"{visible(name)[:200]} ({reason})")


def _leaves_archive(name: str) -> bool:
    p = PurePosixPath(name)
    return p.is_absolute() or ".." in p.parts or "\\" in name or name.startswith("~")


def _plan(tar: tarfile.TarFile) -> _Plan:
    plan = _Plan()
    extracted = 0
    for n, info in enumerate(tar):
        if n >= MAX_MEMBERS:
            plan.skip(f"archive past {MAX_MEMBERS:,} members: the rest not read", info.name)
            break
        if info.isdir():
            continue
        if info.issym() or info.islnk():
            plan.skip("link: not followed", info.name)
            continue
        if not info.isfile():
            plan.skip("not a regular file", info.name)
            continue
        if _leaves_archive(info.name):
            plan.skip("path leaves the archive (absolute or ..)", info.name)
            continue
        name = PurePosixPath(info.name)
        if "logs" in name.parts:
            m = _member_from_path(name)
            if m is None:
                plan.skip("not a container log path", info.name)
            elif len(plan.logs) >= MAX_LOG_MEMBERS:
                plan.skip(f"past {MAX_LOG_MEMBERS:,} logs per bundle", info.name)
            elif extracted >= MAX_EXTRACT_BYTES:
                plan.skip(f"past {MAX_EXTRACT_BYTES >> 20:,} MiB extracted per bundle",
                          info.name)
            else:
                size = min(info.size, MAX_LOG_BYTES, MAX_EXTRACT_BYTES - extracted)
                if size < info.size:
                    plan.cut += 1
                    plan.skip(f"log cut at {size >> 20:,} MiB (of {info.size >> 20:,} MiB)",
                              info.name)
                extracted += size
                plan.logs.append((info.name, m, size))
        elif name.suffix.lower() not in (".json", ".yaml", ".yml", ".txt"):
            plan.skip("not a JSON/YAML/text member", info.name)
        elif info.size > MAX_OBJECT_BYTES:
            plan.skip(f"over {MAX_OBJECT_BYTES >> 20} MiB: not read whole", info.name)
        else:
            plan.objects.append(info.name)
    return plan


def _read_bundle(path: Path, got: _Collected) -> None:
    with tarfile.open(path, "r:*") as tar:
        plan = _plan(tar)
    wanted = set(plan.objects)
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            # a link (or device) may share a planned member's name: only the regular file
            # is read (tarfile resolving a link to a missing target raises KeyError)
            if member.name not in wanted or not member.isfile():
                continue
            wanted.discard(member.name)
            try:
                f = tar.extractfile(member)
            except (KeyError, tarfile.TarError) as exc:
                plan.skip(f"unreadable member: {exc}", member.name)
                continue
            if f is None:
                continue
            data = f.read(MAX_OBJECT_BYTES + 1)
            if PurePosixPath(member.name).name == MANIFEST:
                try:
                    doc = json.loads(data.decode("utf-8", errors="replace"))
                except (ValueError, RecursionError):
                    plan.skip("manifest is not JSON", member.name)
                    continue
                if isinstance(doc, dict) and not too_deep(doc, MAX_DEPTH):
                    got.manifest = doc
                continue
            try:
                report = _parse_data(f"{path}!{member.name}", data, got)
            except ValueError as exc:
                plan.skip(str(exc), member.name)
                continue
            if report is not None:
                got.inputs.append(report)
            if not wanted:
                break
    manifest = got.manifest or {}
    notes = [f"{d.get('verb')} {d.get('resource')} in {d.get('namespace') or 'all namespaces'}:"
             f" {d.get('reason')}" for d in as_list(manifest.get("denied"))
             if isinstance(d, Mapping)]
    if plan.named:
        more = sum(plan.skipped.values()) - len(plan.named)
        notes.append("members skipped: " + "; ".join(plan.named)
                     + (f"; and {more} more" if more > 0 else ""))
    got.inputs.insert(0, InputReport(
        name=str(path), kind="bundle", format=str(manifest.get("format") or "tar.gz"),
        events=len(got.pods) + len(got.events), bytes_read=path.stat().st_size,
        skipped=dict(plan.skipped),
        notes=(f"{len(plan.logs)} log file(s) inside", *notes)))
    got.found_kube = True


# --- logs inside folders and bundles ----------------------------------------------


@dataclass(frozen=True, slots=True)
class LogMember:
    """One container log inside a bundle or dump folder, with the pod identity."""

    source: str  # "pod/NAME/CONTAINER" or "pod/NAME/CONTAINER (previous)"
    namespace: str
    pod: str
    container: str
    previous: bool
    member: str  # path inside the archive, or the file path


def _member_from_path(rel: PurePosixPath) -> LogMember | None:
    """Identity from a path: bundle ``logs/[NS/]POD/CONTAINER[.previous].log`` or
    ``cluster-info dump`` ``NS/POD/logs.txt``."""
    parts = rel.parts
    if rel.name.endswith(".log") and "logs" in parts:
        after = parts[parts.index("logs") + 1:]
        if len(after) not in (2, 3):
            return None
        ns = after[0] if len(after) == 3 else ""
        pod, file = after[-2], after[-1]
        previous = file.endswith(".previous.log")
        container = file.removesuffix(".log").removesuffix(".previous")
    elif rel.name == "logs.txt" and len(parts) >= 3:
        # kubectl writes NS/POD/logs.txt, all containers of the pod in one file
        ns, pod, container, previous = parts[-3], parts[-2], "", False
    else:
        return None
    source = f"pod/{pod}/{container}" if container else f"pod/{pod}"
    if previous:
        source += " (previous)"
    return LogMember(source, ns, pod, container, previous, str(rel))


def _lines_from_tar(path: Path, member: str) -> Iterator[bytes]:
    with tarfile.open(path, "r:*") as tar:
        f = tar.extractfile(member)
        if f is not None:
            yield from f


def _lines_from_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from f


def bundle_log_members(path: Path) -> list[tuple[LogMember, Iterator[bytes]]]:
    """The container logs inside a capture bundle or a dump folder.

    Each entry is the member's identity (``LogMember.source`` is the name to give the
    log reader, e.g. ``pod/agent-7d9f/app (previous)``) and a lazy iterator of raw lines
    (bytes, newline kept). Nothing is opened until an iterator is consumed; each opens
    and closes its own file, so they may be consumed in any order or not at all. For a
    .tar.gz, consuming in list order is cheapest (gzip is read forward). Lines carry
    the ``--timestamps`` prefix when the capture asked for it (ours always does).
    """
    path = Path(path)
    out: list[tuple[LogMember, Iterator[bytes]]] = []
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.is_file():
                m = _member_from_path(PurePosixPath(file.relative_to(path).as_posix()))
                if m is not None:
                    out.append((m, _lines_from_file(file)))
        return out
    if not _is_bundle(path):
        return out
    with tarfile.open(path, "r:*") as tar:
        plan = _plan(tar)
    return [(m, _lines_from_tar(path, name)) for name, m, _ in plan.logs]


_EXTRACTED: dict[tuple[str, float], tuple[Path, list[tuple[LogMember, Path]]]] = {}
MAX_CACHED_BUNDLES = 4
"""Bundles kept extracted at once (a long-lived TUI reopening bundles): the oldest
extraction is removed when a fifth is made."""


def _extract_logs(path: Path) -> list[tuple[LogMember, Path]]:
    """Copy a bundle's log members into a private folder of the process's temp space
    (``probes.tempspace``: removed at exit, on SIGTERM/SIGHUP, or by the next run
    when this process was killed), once per bundle. The plan's caps hold: at most
    ``MAX_LOG_BYTES`` per log and ``MAX_EXTRACT_BYTES`` per bundle are written, whatever
    the compression ratio. Files are named by position, never by the member's own path,
    so a crafted archive cannot write outside the folder."""
    key = (str(path.resolve()), path.stat().st_mtime)
    if key in _EXTRACTED:
        return _EXTRACTED[key][1]
    while len(_EXTRACTED) >= MAX_CACHED_BUNDLES:
        old_key = next(iter(_EXTRACTED))
        release(_EXTRACTED.pop(old_key)[0])
    folder = space().folder("bundle")
    out: list[tuple[LogMember, Path]] = []
    try:
        with tarfile.open(path, "r:*") as tar:
            plan = _plan(tar)
        sizes = {name: (m, size) for name, m, size in plan.logs}
        with tarfile.open(path, "r:*") as tar:
            for i, info in enumerate(tar):
                if info.name not in sizes:
                    continue
                m, size = sizes.pop(info.name)
                src = tar.extractfile(info)
                if src is None:
                    continue
                dest = folder / f"{i:06d}.log"
                with dest.open("wb") as f:
                    left = size
                    while left > 0:
                        chunk = src.read(min(1 << 20, left))
                        if not chunk:
                            break
                        f.write(chunk)
                        left -= len(chunk)
                out.append((m, dest))
                if not sizes:
                    break
    except BaseException:
        release(folder)
        raise
    _EXTRACTED[key] = (folder, out)
    return out


def bundle_log_inputs(path: Path) -> list[InputFile]:
    """The container logs of a bundle or dump folder as ``InputFile``s for
    ``probes.ingest.LogReader``: ``name`` is the pod identity (``pod/NAME/CONTAINER``,
    ``… (previous)``), ``path`` a readable file (bundle members are extracted to a
    private temporary folder first, since LogReader reads files)."""
    path = Path(path)
    if path.is_dir():
        return [InputFile(m.source, path / m.member) for m, _ in bundle_log_members(path)]
    if not _is_bundle(path):
        return []
    try:
        return [InputFile(m.source, dest) for m, dest in _extract_logs(path)]
    except (OSError, tarfile.TarError) as exc:
        return [InputFile(f"{path} (logs)", None, f"cannot extract logs: {exc}")]
