"""Parsing one (unwrapped) log line into a ``LogEvent``: JSON, logfmt, plain text.

The format is guessed on a sample (``detect_format``) and then locked for the source;
each line still falls back (JSON that fails the locked layout is decoded untyped, a
text line in a JSON file is kept as a text event), so mixed files parse.

Speed (log-formats.md §6): for a locked JSON layout ``JsonLayout`` builds a typed
``msgspec`` Struct holding only the keys our roles use (``gc=False``, nested frozen
Structs for dotted keys), decodes each line with it and pulls every role out in ONE
``operator.attrgetter`` call. A line that does not fit the Struct (``ValidationError``)
is decoded untyped and its roles looked up by name. Every path ends in ``assemble``,
which turns raw role values into a LogEvent the same way whatever the format.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

import msgspec

from probes.events import EventKind, LogEvent
from probes.ingest import roles as R
from probes.ingest.kinds import classify, end_failed

_END_KINDS = frozenset({"run_end", "request_end"})

N_ROLES = len(R.ROLES)
_ROLE_INDEX = {role: i for i, role in enumerate(R.ROLES)}
_I_TIME, _I_LEVEL, _I_MSG, _I_EVENT = (
    _ROLE_INDEX[k] for k in ("time", "level", "message", "event"))
_I_PID, _I_HOST, _I_INST, _I_SESS = (_ROLE_INDEX[k] for k in ("pid", "host", "instance", "session"))
_I_REQ, _I_RUN, _I_ERR = (_ROLE_INDEX[k] for k in ("request", "run", "error"))
_I_STATUS, _I_DUR = _ROLE_INDEX["status"], _ROLE_INDEX["duration"]
_EXTRA = tuple((role, _ROLE_INDEX[role]) for role in R.EXTRA_ROLES)
_I_HIST = _ROLE_INDEX["history_len"]

_untyped = msgspec.json.Decoder()


def role_paths(overrides: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Candidate paths per role: the user's override first, then the alias table."""
    out: dict[str, tuple[str, ...]] = {}
    for role, aliases in R.ROLE_ALIASES.items():
        own = overrides.get(role)
        out[role] = ((own,) + tuple(a for a in aliases if a != own)) if own else aliases
    return out


def values_from_dict(doc: Mapping[str, Any], paths: Mapping[str, tuple[str, ...]]
                     ) -> tuple[list[Any], str]:
    """Raw role values (in ``ROLES`` order) looked up by name; also the level key."""
    vals: list[Any] = [None] * N_ROLES
    level_key = "level"
    get = doc.get
    for i, role in enumerate(R.ROLES):
        for p in paths[role]:
            v = get(p) if "." not in p else R.lookup(doc, p)
            if v is not None:
                vals[i] = v
                if i == _I_LEVEL:
                    level_key = p
                break
    return vals, level_key


def assemble(vals: Sequence[Any], level_key: str, source: str, line_no: int, text: str,
             wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    """One LogEvent from raw role values, whatever format they came from."""
    v = vals[_I_TIME]
    t = R.time_value(v) if v is not None else None
    if t is None:
        t = wrap_time
    v = vals[_I_LEVEL]
    level = R.level_value(v, level_key) if v is not None else None
    v = vals[_I_MSG]
    message = v if type(v) is str else ("" if v is None else str(v))
    v = vals[_I_EVENT]
    event_name = v if type(v) is str else None
    v = vals[_I_PID]
    pid = R.text_value(v) if v is not None else None
    v = vals[_I_HOST]
    host = (R.text_value(v) if v is not None else None) or wrap_host
    v = vals[_I_INST]
    instance = R.text_value(v) if v is not None else None
    v = vals[_I_SESS]
    session = R.text_value(v) if v is not None else None
    v = vals[_I_REQ]
    request: str | None = None
    if v is not None:
        request = R.text_value(v)
        if request is not None and (host or pid) and R.is_counter_id(v):
            request = f"{host or '-'}/{pid or '-'}/{request}"
    v = vals[_I_RUN]
    run = R.text_value(v) if v is not None else None
    v = vals[_I_ERR]
    error = R.error_value(v) if v is not None else None
    v = vals[_I_STATUS]
    status = R.status_value(v) if v is not None else None
    v = vals[_I_DUR]
    duration = R.number_value(v) if v is not None else None
    fields: dict[str, Any] | None = None
    for role, i in _EXTRA:
        v = vals[i]
        if v is not None:
            x = R.extra_value(role, v)
            if x is not None:
                if fields is None:
                    fields = {}
                fields[role] = x
    kind = classify(message, event_name, level, error, status, duration,
                    fields is not None and "history_len" in fields)
    if error is None and (kind is EventKind.ERROR
                          or (kind in _END_KINDS and end_failed(kind, message, level, status))):
        error = message[: R.MAX_ERROR_TEXT] or (f"status {status}" if status is not None else None)
    return LogEvent(t, source, line_no, level, message, kind, host, pid, instance, session,
                    request, run, error, status, duration, fields, text)


# --------------------------------------------------------------------------- JSON

def json_flavor(doc: Mapping[str, Any]) -> str:
    """Which logger wrote this JSON object (log-formats.md §3 detection rules)."""
    lvl = doc.get("level")
    if type(lvl) is int and "v" in doc and "name" in doc and isinstance(doc.get("time"), str):
        return "bunyan"
    if type(lvl) is int and 10 <= lvl <= 60 and ("msg" in doc or "pid" in doc or "time" in doc):
        if "reqId" in doc:
            return "fastify"
        if isinstance(doc.get("req"), dict) or isinstance(doc.get("res"), dict) \
                or "responseTime" in doc:
            return "pino-http"
        return "pino"
    if "levelname" in doc or "asctime" in doc or "levelno" in doc:
        return "python-json-logger"
    if isinstance(lvl, str) and "event" in doc:
        return "structlog"
    if isinstance(lvl, str) and "message" in doc:
        return "winston"
    return "json"


_FAMILY = {"pino-http": "pino", "fastify": "pino"}


def json_format_name(flavors: Counter[str]) -> str:
    """Name the JSON format from per-line flavors: majority family, most specific name
    (a pino service whose sample shows pino-http request lines is "pino-http")."""
    fam: Counter[str] = Counter()
    for f, n in flavors.items():
        fam[_FAMILY.get(f, f)] += n
    top = fam.most_common(1)[0][0]
    if top == "pino":
        for specific in ("fastify", "pino-http"):
            if flavors.get(specific):
                return specific
    return top


class JsonLayout:
    """A typed msgspec decoder for one JSON layout, built from sample objects."""

    def __init__(self, samples: Sequence[Mapping[str, Any]], overrides: Mapping[str, str]) -> None:
        self.paths = role_paths(overrides)
        chosen: list[list[tuple[str, ...]]] = []  # per role: key paths (tuples) to coalesce
        self.level_key = "level"
        for role in R.ROLES:
            found = None
            for p in self.paths[role]:
                key = _path_in_samples(samples, p)
                if key is not None:
                    found = key
                    if role == "level":
                        self.level_key = p
                    break
            # The sampled key first; every other alias after it, because keys the sample
            # lacks show up later (pino's err on 4% of lines, a "created" time).
            cands = [tuple(p.split(".")) for p in self.paths[role]]
            if found is not None:
                cands = [found, *(c for c in cands if c != found)]
            chosen.append(cands)
        whole = {kp[0] for cands in chosen for kp in cands if len(kp) == 1}
        tree: dict[str, Any] = {}
        for cands in chosen:
            for kp in cands:
                if len(kp) > 1 and kp[0] in whole:
                    continue  # the parent is read whole for another candidate
                node = tree
                for part in kp[:-1]:
                    nxt = node.setdefault(part, {})
                    if nxt is None:
                        break
                    node = nxt
                else:
                    node.setdefault(kp[-1], None)
        self.struct, attr_of = _build_struct("Line", tree)
        slot_paths: list[str] = []
        slot_of: dict[str, int] = {}
        self.slots: list[tuple[int, ...]] = []
        for cands in chosen:
            idxs: list[int] = []
            for kp in cands:
                attr = attr_of.get(kp)
                if attr is None:
                    continue
                if attr not in slot_of:
                    slot_of[attr] = len(slot_paths)
                    slot_paths.append(attr)
                idxs.append(slot_of[attr])
            self.slots.append(tuple(idxs))
        self.decoder = msgspec.json.Decoder(self.struct)
        self._getter = attrgetter(*slot_paths) if len(slot_paths) > 1 else None
        self._single = slot_paths[0] if len(slot_paths) == 1 else None

    def values(self, data: bytes | str) -> list[Any]:
        """Role values of one line; raises msgspec errors when the line does not fit."""
        obj = self.decoder.decode(data)
        if self._getter is not None:
            got = self._getter(obj)
        elif self._single is not None:
            got = (attrgetter(self._single)(obj),)
        else:
            got = ()
        out: list[Any] = []
        for idxs in self.slots:
            v = None
            for i in idxs:
                v = got[i]
                if v is not None:
                    break
            out.append(v)
        return out


def _path_in_samples(samples: Sequence[Mapping[str, Any]], path: str) -> tuple[str, ...] | None:
    """The key path (flat dotted key or nested) under which ``path`` has a value in any
    sample object, or None."""
    nested = tuple(path.split("."))
    for doc in samples:
        if doc.get(path) is not None:
            return (path,)
        if len(nested) > 1 and R.lookup(doc, path) is not None:
            return nested
    return None


_struct_counter = 0


def _build_struct(name: str, tree: Mapping[str, Any]
                  ) -> tuple[type[msgspec.Struct], dict[tuple[str, ...], str]]:
    """A frozen, gc-free Struct for a key tree (leaf None = any value, dict = nested
    object). Returns the type and, per key path, the attrgetter path to its value."""
    global _struct_counter
    _struct_counter += 1
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    attr_of: dict[tuple[str, ...], str] = {}
    for i, (key, sub) in enumerate(tree.items()):
        fname = f"f{i}"
        rename[fname] = key
        if sub is None:
            fields.append((fname, Any, None))
            attr_of[(key,)] = fname
        else:
            sub_type, sub_attr = _build_struct(f"{name}_{i}", sub)
            fields.append((fname, sub_type, sub_type()))
            for kp, attr in sub_attr.items():
                attr_of[(key, *kp)] = f"{fname}.{attr}"
    st = msgspec.defstruct(f"{name}{_struct_counter}", fields, rename=rename, gc=False,
                           frozen=True)
    return st, attr_of


# --------------------------------------------------------------------------- logfmt / text

_KV = re.compile(r'(?<![^\s,;(\[{])([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_TEXT_TIME = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)\]?\s+")
_TEXT_LEVEL = re.compile(
    r"\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\]?(?::|\s+|$)",
    re.IGNORECASE)
# python's basicConfig default "%(levelname)s:%(name)s:%(message)s"
_PY_DEFAULT = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)", re.DOTALL)


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
        if "\\" in v:
            v = v.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n")
    return v


def kv_pairs(text: str) -> tuple[dict[str, str], str]:
    """``key=value`` tokens of a line and the text left when they are removed."""
    pairs: dict[str, str] = {}
    rest: list[str] = []
    pos = 0
    for m in _KV.finditer(text):
        pairs.setdefault(m.group(1), _unquote(m.group(2)))
        rest.append(text[pos : m.start()])
        pos = m.end()
    rest.append(text[pos:])
    return pairs, " ".join("".join(rest).split())


def is_logfmt(text: str) -> bool:
    """A line made of ``key=value`` tokens only (at least two), starting with one."""
    if "=" not in text:
        return False
    pairs, rest = kv_pairs(text)
    return len(pairs) >= 2 and not rest and bool(_KV.match(text))


def text_values(text: str, paths: Mapping[str, tuple[str, ...]]) -> tuple[list[Any], str]:
    """Role values of a logfmt or plain-text line: a leading timestamp and level word,
    ``key=value`` tokens, and the rest as the message."""
    body = text
    t: str | None = None
    level: str | None = None
    name_key = "level"
    m = _TEXT_TIME.match(body)
    if m is not None:
        t = m.group(1)
        body = body[m.end() :]
    m = _PY_DEFAULT.match(body)
    if m is not None:
        level, body = m.group(1), m.group(3)
        name_key = "levelname"
    else:
        m = _TEXT_LEVEL.match(body)
        if m is not None:
            level, body = m.group(1), body[m.end() :].lstrip()
    if "=" in body:
        pairs, rest = kv_pairs(body)
    else:
        pairs, rest = {}, body.strip()
    if pairs:
        vals, key = values_from_dict(pairs, paths)
        if vals[_I_LEVEL] is not None:
            name_key = key
    else:
        vals = [None] * N_ROLES
    if vals[_I_MSG] is None or not pairs:
        vals[_I_MSG] = rest
    elif rest and vals[_I_MSG] != rest:
        vals[_I_MSG] = f"{vals[_I_MSG]} {rest}"
    if vals[_I_TIME] is None and t is not None:
        vals[_I_TIME] = t
    if level is not None and vals[_I_LEVEL] is None:
        vals[_I_LEVEL] = level
    for role in ("duration", "status"):  # logfmt numbers arrive as text
        i = _ROLE_INDEX[role]
        if isinstance(vals[i], str) and role == "duration":
            vals[i] = R.number_value(vals[i])
    return vals, name_key


def detect_format(inner_lines: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """Guess the inner format of a sample: a JSON flavor name, "logfmt" or "text".
    Also returns the sample's JSON objects (to build a JsonLayout)."""
    votes: Counter[str] = Counter()
    flavors: Counter[str] = Counter()
    objs: list[dict[str, Any]] = []
    for ln in inner_lines:
        s = ln.strip()
        if not s:
            continue
        if s[0] == "{":
            try:
                doc = _untyped.decode(s)
            except (msgspec.DecodeError, msgspec.ValidationError):
                votes["text"] += 1
                continue
            if isinstance(doc, dict):
                votes["json"] += 1
                flavors[json_flavor(doc)] += 1
                objs.append(doc)
                continue
        votes["logfmt" if is_logfmt(s) else "text"] += 1
    if not votes:
        return "text", []
    top = votes.most_common(1)[0][0]
    if top == "json":
        return json_format_name(flavors), objs
    return top, objs


class LineParser:
    """Parses inner lines of one source: the locked format first, then fallbacks."""

    def __init__(self, fmt: str, samples: Sequence[Mapping[str, Any]],
                 overrides: Mapping[str, str], source: str) -> None:
        self.format = fmt
        self.source = source
        self.paths = role_paths(overrides)
        self.layout = JsonLayout(samples, overrides) if samples and fmt not in ("logfmt", "text") \
            else None
        self.unparsed = 0  # lines that matched no structured format (kept as text events)
        self._expect_text = fmt in ("text", "logfmt")

    def parse(self, text: str, line_no: int, wrap_time: int | None,
              wrap_host: str | None) -> LogEvent:
        """One event from one inner line (never raises on bad content)."""
        if text[:1] == "{" or (text[:1].isspace() and text.lstrip()[:1] == "{"):
            level_key = "level"
            vals: list[Any] | None = None
            if self.layout is not None:
                try:
                    vals = self.layout.values(text)
                    level_key = self.layout.level_key
                except (msgspec.ValidationError, msgspec.DecodeError):
                    vals = None
            if vals is None:
                try:
                    doc = _untyped.decode(text)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    doc = None
                if isinstance(doc, dict):
                    vals, level_key = values_from_dict(doc, self.paths)
            if vals is not None:
                return assemble(vals, level_key, self.source, line_no, text, wrap_time, wrap_host)
        if not self._expect_text:
            self.unparsed += 1
        vals, level_key = text_values(text, self.paths)
        return assemble(vals, level_key, self.source, line_no, text, wrap_time, wrap_host)
