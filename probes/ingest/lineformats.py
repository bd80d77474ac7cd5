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

import json
import re
import sys
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from operator import attrgetter
from typing import Any

import msgspec
from msgspec.structs import astuple

from probes.events import EventKind, LogEvent
from probes.ingest import roles as R
from probes.ingest.kinds import _cache as _kind_cache
from probes.ingest.kinds import classify, end_failed
from probes.ingest.limits import text_too_deep
from probes.ingest.textshapes import (
    ShapeState,
    mark,
    mark_structured,
    parse_shape,
    plain_of_html,
    proxy_page,
)

_END_KINDS = frozenset({"run_end", "request_end"})

N_ROLES = len(R.ROLES)
_ROLE_INDEX = {role: i for i, role in enumerate(R.ROLES)}
_I_TIME, _I_LEVEL, _I_MSG = _ROLE_INDEX["time"], _ROLE_INDEX["level"], _ROLE_INDEX["message"]
_N_EXTRA = len(R.EXTRA_ROLES)
_OTHER = EventKind.OTHER
# ``assemble`` unpacks role values by position: the table's order is part of its contract.
assert R.ROLES[:13] == ("time", "level", "message", "event", "pid", "host", "instance",
                        "session", "request", "run", "error", "status", "duration")
assert R.ROLES[13:] == R.EXTRA_ROLES and _N_EXTRA == 7

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


_intern = sys.intern
_FLOAT_INT = 1 << 1000
"""Integers below this in size convert to float; a bigger one (hostile input) raised
OverflowError out of the reader, now it is no duration (``roles.number_value``)."""


def assemble(vals: Sequence[Any], level_key: str, source: str, line_no: int, text: str,
             wrap_time: int | None, wrap_host: str | None) -> LogEvent:
    """One LogEvent from raw role values (``ROLES`` order), whatever format they came
    from. The hot path of ingestion: common value types are handled inline and only
    unusual ones go through the ``roles`` converters."""
    (tv, lv, msg, evn, pidv, hostv, instv, sessv, reqv, runv, errv, stv, durv,
     x0, x1, x2, x3, x4, x5, x6) = vals
    # time: pino's epoch ms int is the common case
    if type(tv) is int and 100_000_000_000 <= tv < 100_000_000_000_000:
        t: int | None = tv * 1_000_000
    else:
        t = R.time_value(tv) if tv is not None else None
        if t is None:
            t = wrap_time
    if type(lv) is int and level_key == "level" and 10 <= lv <= 60:
        level: int | None = lv
    else:
        level = R.level_value(lv, level_key) if lv is not None else None
    message = msg if type(msg) is str else ("" if msg is None else str(msg))
    event_name = evn if type(evn) is str else None
    pid = pidv if type(pidv) is str or pidv is None else (
        str(pidv) if type(pidv) is int else R.text_value(pidv))
    host = hostv if type(hostv) is str else (R.text_value(hostv) if hostv is not None else None)
    if not host:
        host = wrap_host
    instance = instv if type(instv) is str or instv is None else R.text_value(instv)
    session = sessv if type(sessv) is str or sessv is None else R.text_value(sessv)
    if session and session[0] in "MTA" and session.startswith(R.THREAD_NAMES):
        session = None  # python logging's thread=MainThread names a thread, not a conversation
    request: str | None = None
    if reqv is not None:
        request = reqv if type(reqv) is str else R.text_value(reqv)
        # a per-process counter (pino-http 1,2,3; fastify req-1) is made unique per process
        if request and (host or pid) and (type(reqv) is int or len(request) < 16):
            request = f"{host or '-'}/{pid or '-'}/{request}"
    run = runv if type(runv) is str or runv is None else R.text_value(runv)
    # One string per id, not one per line: the analyses keep ids per run, request and
    # session in several places (the run, the request, duplicate detection, the
    # instance's sets), and each line decodes its own copy (see probes.analysis.runs).
    if type(instance) is str:
        instance = _intern(instance)
    if type(session) is str:
        session = _intern(session)
    if type(request) is str:
        request = _intern(request)
    if type(run) is str:
        run = _intern(run)
    error = R.error_value(errv) if errv is not None else None
    status = stv if type(stv) is int and 100 <= stv <= 599 else (
        R.status_value(stv) if stv is not None else None)
    duration = float(durv) if type(durv) is float or (
        type(durv) is int and -_FLOAT_INT < durv < _FLOAT_INT) else (
        R.number_value(durv) if durv is not None else None)
    fields: dict[str, Any] | None = None
    if not (x0 is None and x1 is None and x2 is None and x3 is None and x4 is None
            and x5 is None and x6 is None):
        for role, v in zip(R.EXTRA_ROLES, (x0, x1, x2, x3, x4, x5, x6), strict=True):
            if v is not None:
                x = R.extra_value(role, v)
                if x is not None:
                    if fields is None:
                        fields = {}
                    fields[role] = x
    kind = _kind_cache.get(message)
    if kind is None or kind is _OTHER or error is not None or (level is not None and level >= 50):
        # the slow path: classify, and look for fatal phrases (a JSON "worker 123 died")
        kind = classify(message, event_name, level, error, status, duration,
                        fields is not None and "history_len" in fields)
        if error is None and (kind is EventKind.ERROR or (
                kind in _END_KINDS and end_failed(kind, message, level, status, event_name))):
            error = message[: R.MAX_ERROR_TEXT] or event_name or (
                f"status {status}" if status is not None else None)
        ev = LogEvent(t, source, line_no, level, message, kind, host, pid, instance, session,
                      request, run, error, status, duration, fields, text)
        if level is not None and level >= 40 and message:
            mark_structured(ev)
        return ev
    if error is None and kind in _END_KINDS and end_failed(kind, message, level, status,
                                                            event_name):
        error = message[: R.MAX_ERROR_TEXT] or event_name or (
            f"status {status}" if status is not None else None)
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


SINGLE_KEY_ROLES = frozenset({"time", "level", "message", "event", "pid", "host", "status",
                              "duration"})
"""Roles one logger writes under one key: once the sample shows it, other aliases are
not tried on typed lines (each extra Struct field costs decode time). Id roles and
errors keep their fallbacks: a service may log ``sessionId`` on some lines and
``workflowId`` on others."""

ABSENT_KEY = "~scaledoc absent~"
"""A key no JSON line has: roles the sample did not show read this always-None field."""


class _Decoding:
    """One typed decoder over a key tree, and how to read role values out of it.

    Top-level keys are ordered primaries, the absent marker, then keys only fallbacks
    use (contiguous, so one slice of the field tuple tests them all). One
    ``attrgetter`` call reads all primaries (C speed); only when a fallback key is
    present (``count(None)``, also in C) does Python coalesce them.
    """

    def __init__(self, name: str, tree: Mapping[str, Any], fb_start: int,
                 primary: Sequence[tuple[str, ...]], fallback: Sequence[Sequence[tuple[str, ...]]],
                 primary_whole: Collection[str], *, closed: bool = False,
                 raw_keys: Collection[str] = ()) -> None:
        optional = set(list(tree)[fb_start:])
        self.struct, attr_of = _build_struct(name, tree, optional, closed=closed,
                                             raw_keys=raw_keys)
        self.decoder = msgspec.json.Decoder(self.struct)
        absent = attr_of[(ABSENT_KEY,)]
        self.primary = attrgetter(*[attr_of.get(kp, absent) for kp in primary])
        self.fb_start = fb_start
        self.n_fb_top = len([k for k in list(tree)[fb_start:] if k not in raw_keys])
        # Fallbacks nested under a primary's parent object are never None-tested by
        # the slice, so they are read on every line (there are none in the alias table).
        self.always: list[tuple[int, tuple[str, ...]]] = []
        self.fallback_slots: list[tuple[int, tuple[tuple[str, ...], ...]]] = []
        for role_i, cands in enumerate(fallback):
            attrs: list[tuple[str, ...]] = []
            for kp in cands:
                attr = attr_of.get(kp)
                if attr is None:
                    continue
                if kp[0] not in optional and kp[0] not in primary_whole and len(kp) > 1:
                    self.always.append((role_i, tuple(attr.split("."))))
                attrs.append(tuple(attr.split(".")))
            if attrs:
                self.fallback_slots.append((role_i, tuple(attrs)))

        self.primaries_only = not self.n_fb_top and not self.always
        """No fallback can ever be present: the primaries are the role values."""

    def values(self, data: bytes | str) -> Sequence[Any]:
        return self.read(self.decoder.decode(data))

    def read(self, obj: Any) -> Sequence[Any]:
        """Role values of one decoded line."""
        vals = self.primary(obj)
        if self.n_fb_top and astuple(obj)[self.fb_start : self.fb_start + self.n_fb_top
                                          ].count(None) != self.n_fb_top or self.always:
            out = list(vals)
            for role_i, attrs in self.fallback_slots:
                if out[role_i] is None:
                    for attr in attrs:
                        v = _attr_path(obj, attr)
                        if v is not None:
                            out[role_i] = v
                            break
            return out
        return vals


FAST_GIVE_UP = 1024
"""After this many lines that did not fit the closed decoder, it is dropped if they
are at least half of the lines: the layout is not as locked as the sample said."""


class JsonLayout:
    """A typed msgspec decoder for one JSON layout, built from sample objects.

    Per role, the key the sample showed is the *primary* field; every other alias is a
    *fallback* field, so a line that names its session ``workflowId`` where the sample
    said ``sessionId`` is still read. Decoding a Struct of every alias (70-odd fields)
    costs several times a Struct of the dozen keys a locked format writes, so each line
    is first decoded with a *closed* Struct: the sample's own top-level keys (the ones
    no role reads as ``msgspec.Raw``, never parsed) and unknown keys forbidden. A line
    that decodes with it has no key outside the sample's, hence no fallback key the
    sample did not show: its role values are exactly what the full decoder would give.
    A line with another key raises and goes through the full decoder.
    """

    def __init__(self, samples: Sequence[Mapping[str, Any]], overrides: Mapping[str, str]) -> None:
        self.paths = role_paths(overrides)
        self.level_key = "level"
        primary: list[tuple[str, ...]] = []
        fallback: list[list[tuple[str, ...]]] = []
        for role in R.ROLES:
            found = None
            for p in self.paths[role]:
                key = _path_in_samples(samples, p)
                if key is not None:
                    found = key
                    if role == "level":
                        self.level_key = p
                    break
            cands = [tuple(p.split(".")) for p in self.paths[role]]
            primary.append(found if found is not None else (ABSENT_KEY,))
            if found is not None and role in SINGLE_KEY_ROLES:
                fallback.append([])
            else:
                fallback.append([c for c in cands if c != found])
        # A key is read either whole (a leaf of any type) or as a nested object, never
        # both: the primaries decide, fallbacks that disagree are dropped.
        primary_whole = {kp[0] for kp in primary if len(kp) == 1}
        nested_parents = {kp[0] for kp in primary if len(kp) > 1} - primary_whole
        whole = primary_whole | ({kp[0] for cands in fallback for kp in cands if len(kp) == 1}
                                 - nested_parents)
        tree: dict[str, Any] = {}
        for kp in primary:
            _add_path(tree, kp)
        tree.setdefault(ABSENT_KEY, None)
        fb_start = len(tree)
        for cands in fallback:
            for kp in cands:
                if (len(kp) > 1 and kp[0] in whole) or (len(kp) == 1 and kp[0] in nested_parents):
                    continue
                _add_path(tree, kp)
        self._full = _Decoding("Line", tree, fb_start, primary, fallback, primary_whole)
        self.struct = self._full.struct
        self.decoder = self._full.decoder
        # The closed decoder: the same tree cut to the sample's top-level keys, plus
        # the sample's other keys as Raw (accepted, not parsed).
        sample_keys: dict[str, None] = {}
        for doc in samples:
            sample_keys.update(dict.fromkeys(doc))
        top = list(tree)
        kept = [k for k in top[:fb_start]] + [k for k in top[fb_start:] if k in sample_keys]
        closed_tree = {k: tree[k] for k in kept}
        raw_keys = [k for k in sample_keys if k not in closed_tree]
        for k in raw_keys:
            closed_tree[k] = None
        self._fast: _Decoding | None = _Decoding(
            "Closed", closed_tree, fb_start, primary, fallback, primary_whole, closed=True,
            raw_keys=raw_keys) if samples else None
        self._misses = 0
        self._lines = 0

    def values(self, data: bytes | str) -> Sequence[Any]:
        """Role values of one line; raises msgspec errors when the line does not fit."""
        fast = self._fast
        if fast is not None:
            self._lines += 1
            try:
                obj = fast.decoder.decode(data)
            except msgspec.ValidationError:
                self._misses += 1
                if self._misses >= FAST_GIVE_UP and self._misses * 2 >= self._lines:
                    self._fast = None
            else:
                return fast.primary(obj) if fast.primaries_only else fast.read(obj)
        return self._full.values(data)


def _add_path(tree: dict[str, Any], kp: tuple[str, ...]) -> None:
    node = tree
    for part in kp[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        node = nxt
    if kp[-1] not in node:
        node[kp[-1]] = None


def _attr_path(obj: Any, attrs: tuple[str, ...]) -> Any:
    for a in attrs:
        obj = getattr(obj, a)
        if obj is None:
            return None
    return obj


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


def _build_struct(name: str, tree: Mapping[str, Any], optional: Collection[str] = (), *,
                  closed: bool = False, raw_keys: Collection[str] = ()
                  ) -> tuple[type[msgspec.Struct], dict[tuple[str, ...], str]]:
    """A frozen, gc-free Struct for a key tree (leaf None = any value, dict = nested
    object). Nested objects default to an empty instance so dotted attrgetter paths
    never fail, except keys in ``optional``, which default to None. ``closed``
    forbids unknown top-level keys; ``raw_keys`` are kept undecoded (``msgspec.Raw``).
    Returns the type and, per key path, the attrgetter path to its value."""
    global _struct_counter
    _struct_counter += 1
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    attr_of: dict[tuple[str, ...], str] = {}
    for i, (key, sub) in enumerate(tree.items()):
        fname = f"f{i}"
        rename[fname] = key
        if key in raw_keys:
            fields.append((fname, msgspec.Raw, msgspec.Raw()))
        elif sub is None:
            fields.append((fname, Any, None))
            attr_of[(key,)] = fname
        else:
            sub_type, sub_attr = _build_struct(f"{name}_{i}", sub)
            if key in optional:
                fields.append((fname, sub_type | None, None))
            else:
                fields.append((fname, sub_type, sub_type()))
            for kp, attr in sub_attr.items():
                attr_of[(key, *kp)] = f"{fname}.{attr}"
    st = msgspec.defstruct(f"{name}{_struct_counter}", fields, rename=rename, gc=False,
                           frozen=True, forbid_unknown_fields=closed)
    return st, attr_of


# --------------------------------------------------------------------------- logfmt / text

_KV = re.compile(r'(?<![^\s,;(\[{])([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_TEXT_TIME = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)\]?\s+")
_TEXT_LEVEL = re.compile(
    r"\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)(?:\s*\])?(?::|\s+|$)",
    re.IGNORECASE)
_TEXT_LOGGER = re.compile(
    r"\[[A-Za-z][\w.:/-]{0,39}\]\s+(?=(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|"
    r"CRITICAL|PANIC)\b)", re.IGNORECASE)
"""A bracketed logger name before the level: ``[mcpx] WARN: Session not found``."""
_TEXT_PID = re.compile(r"\[(?:pid[ =:]?)?(\d{1,10})\]\s+")
# python's basicConfig default "%(levelname)s:%(name)s:%(message)s"
_PY_DEFAULT = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)", re.DOTALL)


# Plain-text phrases that name a role when no key=value token does, as services write them
# in prose ("session c1-u0: loaded 3 turns"). A session id needs a digit, so "session
# expired" names none; a history size is read only on a line that names its session.
_PHRASE_SESSION = re.compile(
    r"\b(?:session|conversation|thread)[ :=#]+['\"]?([A-Za-z0-9][\w.:@/-]{0,79}?)['\"]?"
    r"(?=[\s,;:)]|$)", re.IGNORECASE)
_PHRASE_HISTORY = re.compile(r"\b(\d{1,6}) (?:turns?|messages?)\b")


def _phrase_roles(body: str, vals: list[Any]) -> None:
    """Fill the session and history size from prose when no token named them."""
    i_sess = _ROLE_INDEX["session"]
    if vals[i_sess] is None:
        m = _PHRASE_SESSION.search(body)
        if m is None or not any(c.isdigit() for c in m.group(1)):
            return
        vals[i_sess] = m.group(1).rstrip(".:")
    i_hist = _ROLE_INDEX["history_len"]
    if vals[i_hist] is None:
        h = _PHRASE_HISTORY.search(body)
        if h is not None:
            vals[i_hist] = int(h.group(1))


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
    pid: str | None = None
    m = _TEXT_TIME.match(body)
    if m is not None:
        t = m.group(1)
        body = body[m.end() :]
        if body[:1] == "[":  # "%(asctime)s [%(process)d] %(levelname)s ..."
            pm = _TEXT_PID.match(body)
            if pm is not None:
                pid = pm.group(1)
                body = body[pm.end() :]
    if body[:1] == "[" and pid is None:
        lm = _TEXT_LOGGER.match(body)
        if lm is not None:
            body = body[lm.end() :]
    if body[:2] == "| ":  # loguru and friends: "time | LEVEL    | where - message"
        body = body[2:]
    m = _PY_DEFAULT.match(body)
    if m is not None:
        level, body = m.group(1), m.group(3)
        name_key = "levelname"
    else:
        m = _TEXT_LEVEL.match(body)
        if m is not None:
            level = m.group(1)
            if not m.group(0).endswith(":") or (level.isupper() and body[m.end() : m.end() + 1]
                                                == " "):
                # "Error: boom" (a JS error) keeps its word; "INFO:     msg" (uvicorn) does not
                body = body[m.end() :].lstrip()
                if body[:2] == "| ":
                    body = body[2:]
    if pid is None and body[:1] == "[":  # "%(asctime)s %(levelname)s [pid %(process)d] ..."
        pm = _TEXT_PID.match(body)
        if pm is not None:
            pid = pm.group(1)
            body = body[pm.end() :]
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
    if pid is not None and vals[_ROLE_INDEX["pid"]] is None:
        vals[_ROLE_INDEX["pid"]] = pid
    if "ession" in body or "onversation" in body or "hread" in body:
        _phrase_roles(body, vals)
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
            if text_too_deep(s):
                continue  # counted as skipped by the reader
            try:
                doc = _untyped.decode(s)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # truncated/malformed JSON: no vote either way
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


_raw_json = json.JSONDecoder()
MAX_SPLIT = 64
_RECORD_KEYS = frozenset(k for role in ("time", "level", "message", "event")
                         for k in R.ROLE_ALIASES[role])


def split_records(text: str) -> list[tuple[dict[str, Any], str]] | None:
    """``{...}{...}``: JSON records written back to back without a newline (two
    processes sharing a pipe). Each piece must be a JSON object with a log field (time,
    level, message or event); at most ``MAX_SPLIT`` pieces; else None."""
    out: list[tuple[dict[str, Any], str]] = []
    pos, n = 0, len(text)
    while pos < n:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos >= n:
            break
        if text[pos] != "{" or len(out) >= MAX_SPLIT:
            return None
        try:
            obj, end = _raw_json.raw_decode(text, pos)
        except ValueError:
            return None
        if not isinstance(obj, dict) or _RECORD_KEYS.isdisjoint(obj):
            return None
        out.append((obj, text[pos:end]))
        pos = end
    return out if len(out) >= 2 else None


class LineParser:
    """Parses inner lines of one source: the locked format first, then fallbacks."""

    def __init__(self, fmt: str, samples: Sequence[Mapping[str, Any]],
                 overrides: Mapping[str, str], source: str) -> None:
        self.format = fmt
        self.source = source
        self.paths = role_paths(overrides)
        try:
            self.layout = JsonLayout(samples, overrides) \
                if samples and fmt not in ("logfmt", "text") else None
        except (ValueError, TypeError):
            # a sample key msgspec cannot name a field after (a control character, a
            # quote: found by tests/test_fuzz.py): every line takes the untyped decoder
            self.layout = None
        self.unparsed = 0  # lines that matched no structured format (kept as text events)
        self._expect_text = fmt in ("text", "logfmt")
        self.shapes = ShapeState(source)
        self._page_line = -10  # the last line read as a proxy's error page
        self.extra: list[LogEvent] = []  # further records of the line just parsed
        self.split_lines = 0
        self.split_events = 0

    def parse(self, text: str, line_no: int, wrap_time: int | None,
              wrap_host: str | None) -> LogEvent:
        """One event from one inner line (never raises on bad content)."""
        if text[:1] == "{" or (text[:1].isspace() and text.lstrip()[:1] == "{"):
            level_key = "level"
            vals: Sequence[Any] | None = None
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
            if "}{" in text or "} {" in text:
                objs = split_records(text)
                if objs is not None:
                    evs = [assemble(*values_from_dict(o, self.paths), self.source, line_no, part,
                                    wrap_time, wrap_host) for o, part in objs]
                    self.extra.extend(evs[1:])
                    self.split_lines += 1
                    self.split_events += len(evs)
                    return evs[0]
            self.unparsed += 1  # looked like JSON and was not
        else:
            if text[:1] == "<" and "</" in text:
                return self._html_line(text, line_no, wrap_time, wrap_host)
            ev = parse_shape(text, self.shapes, self.source, line_no, wrap_time, wrap_host)
            if ev is not None:
                return ev
            if not self._expect_text:
                self.unparsed += 1
        vals, level_key = text_values(text, self.paths)
        ev = assemble(vals, level_key, self.source, line_no, text, wrap_time, wrap_host)
        mark(ev, text)
        return ev

    def _html_line(self, raw: str, line_no: int, wrap_time: int | None,
                   wrap_host: str | None) -> LogEvent:
        """A line of rendered HTML (a pasted colourised terminal, a proxy's error page):
        read as the plain text it shows; ``text`` stays the raw line."""
        text = plain_of_html(raw)
        ev: LogEvent | None = None
        if line_no - self._page_line > 3:  # one page, one event (its title and its h1)
            ev = proxy_page(text, self.source, line_no, wrap_time, wrap_host)
            if ev is not None:
                self._page_line = line_no
        if ev is None:
            ev = parse_shape(text, self.shapes, self.source, line_no, wrap_time, wrap_host)
        if ev is None:
            vals, level_key = text_values(text, self.paths)
            ev = assemble(vals, level_key, self.source, line_no, text, wrap_time, wrap_host)
            mark(ev, text)
        ev.text = raw
        return ev
