"""State, history and contamination: what processes and requests did to shared data.

* ``StateTracker``: state reads/writes with versions per key (session/workflow), by
  process. A read that misses another process's newer write is a stale read (state kept
  in process memory); two writers that both read v and both wrote v+1 lost an update
  (read-modify-write without compare-and-swap). One request repeating the same write
  is a duplicate side effect.
* ``HistoryTracker``: history sizes per session (did a session's context restart?) and
  per process/instance (does history keep growing across sessions?).
* ``ContaminationTracker``: a request's lines carrying another request's ids or values.

Memory is per key, per session, per request and per process; never per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from probes.analysis.fields import IDENTITY_FIELDS, as_int, field_value
from probes.analysis.runs import LineStore, excerpt
from probes.events import EventKind, LogEvent
from probes.evidence import Example

VERSIONS_KEPT_PER_KEY = 16
"""Lost updates are races between neighbouring versions; older ones are dropped."""


@dataclass(slots=True)
class _Write:
    writer: tuple[str | None, str | None]  # (process, request)
    time_ns: int | None
    at: Example


@dataclass
class StateTracker:
    processes_by_session: dict[str, set[str]] = field(default_factory=dict)
    # session -> (line, process) of its first lines on each process (up to 3): excerpts
    # are built for the few sessions a report shows (``session_examples``)
    session_lines: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    lines: LineStore = field(default_factory=LineStore)
    max_write_by_process: dict[str, dict[str, tuple[int, Example]]] = field(default_factory=dict)
    last_read: dict[tuple[str, tuple[str | None, str | None]], tuple[int, int | None]] = field(
        default_factory=dict)
    keys_with_reads: set[str] = field(default_factory=set)
    writes: dict[str, dict[int, _Write]] = field(default_factory=dict)
    stale: list[tuple[Example, Example]] = field(default_factory=list)
    stale_count: int = 0
    lost: list[tuple[Example, Example]] = field(default_factory=list)
    lost_count: int = 0
    versioned_reads: int = 0
    versioned_writes: int = 0
    state_events_with_process: int = 0
    writes_seen_by_request: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)
    repeated_writes: list[tuple[Example, str]] = field(default_factory=list)
    repeated_count: int = 0
    max_examples: int = 8

    def session_process(self, ev: LogEvent, proc: str | None = None) -> None:
        """Any event with a session and a process: who served this session. ``proc`` is
        ``ev.process`` when the caller has built it already."""
        if proc is None:
            proc = ev.process
        if not ev.session or not proc:
            return
        procs = self.processes_by_session.get(ev.session)
        if procs is None:
            procs = self.processes_by_session[ev.session] = set()
        if proc not in procs:
            procs.add(proc)
            at = self.session_lines.get(ev.session)
            if at is None:
                self.session_lines[ev.session] = [(self.lines.put(ev), proc)]
            elif len(at) < 3:
                at.append((self.lines.put(ev), proc))

    def session_examples(self, session: str) -> list[Example]:
        """The excerpts of a session's first line on each process (up to three)."""
        return [excerpt(self.lines.event(ref), f"session {session} served by process {proc}")
                for ref, proc in self.session_lines.get(session, ())]

    def feed(self, ev: LogEvent, proc: str | None = None) -> None:
        if proc is None:
            proc = ev.process
        key = field_value(ev, "key") or ev.session
        version = as_int(field_value(ev, "version"))
        if ev.kind is EventKind.STATE_WRITE or ev.kind is EventKind.TOOL_CALL:
            self._repeat(ev, key, version)
        if ev.kind is EventKind.TOOL_CALL or key is None:
            return
        key = str(key)
        if proc:
            self.state_events_with_process += 1
        if version is None:
            return
        writer = (proc, ev.request)
        if ev.kind is EventKind.STATE_READ:
            self.versioned_reads += 1
            self.keys_with_reads.add(key)
            self.last_read[(key, writer)] = (version, ev.time_ns)
            if proc:
                self._check_stale(ev, key, proc, version)
        elif ev.kind is EventKind.STATE_WRITE:
            self.versioned_writes += 1
            self._check_lost(ev, key, writer, version)
            if proc:
                per = self.max_write_by_process.setdefault(key, {})
                if proc not in per or per[proc][0] < version:
                    per[proc] = (version, excerpt(ev, f"process {proc} wrote {key} "
                                                      f"version {version}"))

    def _check_stale(self, ev: LogEvent, key: str, proc: str, version: int) -> None:
        for other, (wv, wex) in self.max_write_by_process.get(key, {}).items():
            if other != proc and wv > version:
                self.stale_count += 1
                if len(self.stale) < self.max_examples:
                    self.stale.append((excerpt(
                        ev, f"process {proc} read {key} version {version}, but process "
                            f"{other} had already written version {wv}"), wex))
                return

    def _check_lost(self, ev: LogEvent, key: str, writer: tuple[str | None, str | None],
                    version: int) -> None:
        per_key = self.writes.setdefault(key, {})
        earlier = per_key.get(version)
        if earlier is None:
            per_key[version] = _Write(writer, ev.time_ns, excerpt(ev))
            if len(per_key) > VERSIONS_KEPT_PER_KEY:
                del per_key[min(per_key)]
            return
        if earlier.writer == writer:
            return
        read = self.last_read.get((key, writer))
        if key in self.keys_with_reads:
            # Both read the same old version before either wrote: the race.
            if read is None or read[0] >= version:
                return
            if read[1] is not None and earlier.time_ns is not None and read[1] > earlier.time_ns:
                return  # read after the other write: a stale read, not this race
        self.lost_count += 1
        if len(self.lost) < self.max_examples:
            who = f"process {writer[0]}" + (f" request {writer[1]}" if writer[1] else "")
            note = (f"{who} also wrote {key} version {version}"
                    + (f" after reading version {read[0]}" if read else ""))
            self.lost.append((earlier.at, excerpt(ev, note)))

    def _repeat(self, ev: LogEvent, key: object, version: int | None) -> None:
        """The same write (key and version/value) twice in one request."""
        if not ev.request or key is None or field_value(ev, "key") is None:
            return
        phase = ev.fields.get("phase") if ev.fields else None
        if ev.kind is EventKind.TOOL_CALL and (phase == "end" or (phase != "start" and (
                ev.duration_ms is not None or ev.status is not None or ev.error))):
            return  # the end of a call: its start was counted
        value = version if version is not None else field_value(ev, "value")
        ident = (ev.kind.value, str(key), "" if value is None else str(value))
        seen = self.writes_seen_by_request.setdefault(ev.request, set())
        if ident in seen:
            self.repeated_count += 1
            if len(self.repeated_writes) < self.max_examples:
                self.repeated_writes.append((excerpt(
                    ev, f"request {ev.request} repeats the write of {key}"), str(key)))
        else:
            seen.add(ident)


_COUNTER_NEW = re.compile(
    r'"(?:new|new_value|newValue)"\s*:\s*(-?\d{1,18})(?=[,}\s])|\bnew(?:_value)?=(-?\d{1,18})\b')
_COUNTER_KEY = re.compile(
    r'"(tenant|tenant_id|tenantId|key|account|account_id|accountId|counter|counter_id)"\s*:'
    r'\s*"([^"]{1,200})"|\b(tenant|key|account|counter)=(\S{1,200})')
COUNTER_GUARDS = ('"new', "new=", '"newValue"')
"""A line that reports the value a write produced (``"old": 4, "new": 5``, ``new=5``): the
counter's version as the service saw it. Two writers that produced the same new value
both read the same old one: one increment is lost."""


def counter_write(ev: LogEvent) -> tuple[str, int] | None:
    """(key, new value) when the line reports a counter write, else None. The key is the
    session, or a tenant/key/account/counter field, or "" when the line names none."""
    text = ev.text
    if not text or not any(g in text for g in COUNTER_GUARDS):
        return None
    m = _COUNTER_NEW.search(text)
    if m is None:
        return None
    new = int(m.group(1) or m.group(2))
    key = ev.session or str(field_value(ev, "key") or "")
    if not key:
        k = _COUNTER_KEY.search(text)
        if k is not None:
            key = f"{k.group(1) or k.group(3)}:{k.group(2) or k.group(4)}"
    return key, new


@dataclass(slots=True)
class _SessionHistory:
    turns: int = 0
    max_len: int = 0
    all_small: bool = True  # never grew past the length its first turn had (at most 2)
    first_len: int | None = None
    reset: Example | None = None
    first: Example | None = None


@dataclass(slots=True)
class _HolderHistory:
    last_len: int | None = None
    last_session: str | None = None
    sessions: set[str] = field(default_factory=set)
    carried: int = 0
    dropped: int = 0  # a new session started lower than the previous one left
    examples: list[Example] = field(default_factory=list)
    first_len: int | None = None  # the holder's first session's first history_len
    starts_high: int = 0  # later sessions whose first history_len was already long
    high_examples: list[Example] = field(default_factory=list)


RESET_AFTER_LEN = 3
"""A session whose history was >= this and later reads <= 1 forgot its context."""
SMALL_TURNS = 3
SMALL_HISTORY = 2
"""A history that stays at its first turn's length, one message or a user and an
assistant message (LangGraph's ``messages`` after one exchange), never grew."""
CARRIED_MIN = 3
START_HIGH_LEN = 3
"""A session's first history_len this long (and above where the holder's first session
started) holds turns it never had: per-session histories start at 1 or 2 (one turn, or a
user and an assistant message)."""
MAX_DROP_SHARE = 0.25
"""A shared buffer only grows (a restart may drop it once): few new sessions start lower."""


MAX_PROCESSES_PER_SESSION = 16


@dataclass
class HistoryTracker:
    sessions: dict[str, _SessionHistory] = field(default_factory=dict)
    holders: dict[str, _HolderHistory] = field(default_factory=dict)
    events: int = 0
    max_examples: int = 8
    # session -> process -> (the longest history it reported, where): a session whose
    # history on one process is shorter than another process already had is state kept
    # per process (a stale read), not an agent that forgets (context reset)
    by_process: dict[str, dict[str, tuple[int, Example | None]]] = field(default_factory=dict)
    stale: list[tuple[Example, Example]] = field(default_factory=list)
    stale_count: int = 0
    stale_sessions: set[str] = field(default_factory=set)
    multi_process_sessions: int = 0

    def feed(self, ev: LogEvent) -> None:
        n = as_int(field_value(ev, "history_len"))
        if n is None:
            return
        self.events += 1
        if ev.session:
            s = self.sessions.setdefault(ev.session, _SessionHistory())
            s.turns += 1
            if s.first is None:
                s.first = excerpt(ev, f"session {ev.session}: history_len {n}")
                s.first_len = n
            if n <= 1 and s.max_len >= RESET_AFTER_LEN and s.reset is None:
                s.reset = excerpt(ev, f"session {ev.session}: history_len back to {n} after "
                                      f"{s.max_len}")
            s.max_len = max(s.max_len, n)
            # one turn's worth (a message, or a user and an assistant message) every time
            # A run's end reports what that run produced (AutoGen's TaskResult.messages is
            # the run's own user + assistant pair, 2 with or without memory); only a state
            # line's count of 2 that never grows says the history was not kept.
            cap = 1 if ev.kind is EventKind.RUN_END else SMALL_HISTORY
            s.all_small = s.all_small and n <= min(s.first_len or 0, cap)
        proc = ev.process
        if proc and ev.session:
            self._across_processes(ev, ev.session, proc, n)
        # Lines with no instance or process identity: their stream is the holder (one log,
        # one writer as far as anything shows). Several writers interleaved on one stream
        # make new sessions start lower often, which the drop share below refuses.
        holder = ev.instance or ev.process or f"stream {ev.source}"
        if holder and ev.session:
            h = self.holders.setdefault(holder, _HolderHistory())
            new_session = (ev.session not in h.sessions
                           and h.last_session not in (None, ev.session) and h.last_len is not None)
            if new_session and h.last_len is not None and n < h.last_len:
                h.dropped += 1
            elif new_session and h.last_len is not None and n >= 2 and n > h.last_len:
                h.carried += 1
                if len(h.examples) < self.max_examples:
                    h.examples.append(excerpt(
                        ev, f"new session {ev.session} on {holder} starts with history_len {n}"
                            f" (the previous session {h.last_session} left {h.last_len})"))
            if ev.session not in h.sessions:
                if h.first_len is None:
                    h.first_len = n
                elif n >= START_HIGH_LEN and n > h.first_len + 1:
                    # a session's first turn already holds a long history: someone else's
                    h.starts_high += 1
                    if len(h.high_examples) < self.max_examples:
                        h.high_examples.append(excerpt(
                            ev, f"session {ev.session} on {holder} starts with history_len "
                                f"{n}; the first session here started at {h.first_len}"))
            h.sessions.add(ev.session)
            h.last_len, h.last_session = n, ev.session

    def _across_processes(self, ev: LogEvent, session: str, proc: str, n: int) -> None:
        procs = self.by_process.get(session)
        if procs is None:
            procs = self.by_process[session] = {}
        mine = procs.get(proc)
        if mine is None:
            if len(procs) >= MAX_PROCESSES_PER_SESSION:
                return
            if len(procs) == 1:
                self.multi_process_sessions += 1
        others = [(m, ex, p) for p, (m, ex) in procs.items() if p != proc]
        if others:
            best, best_ex, other = max(others, key=lambda t: t[0])
            if n < best and (mine is None or n <= mine[0]):
                # this process never saw the turns the other one holds
                self.stale_count += 1
                self.stale_sessions.add(session)
                if len(self.stale) < self.max_examples and best_ex is not None:
                    self.stale.append((excerpt(
                        ev, f"process {proc} has session {session} at history_len {n}, but "
                            f"process {other} already had {best}"), best_ex))
        if mine is None or n > mine[0]:
            procs[proc] = (n, excerpt(ev, f"process {proc}: session {session} history_len {n}"))

    def forgotten(self) -> tuple[list[Example], int]:
        out: list[Example] = []
        count = 0
        for sid, s in self.sessions.items():
            if sid in self.stale_sessions:
                continue  # explained: another process held the turns (see _across_processes)
            if s.reset is not None:
                count += 1
                out.append(s.reset)
            elif s.all_small and s.turns >= SMALL_TURNS and s.first is not None:
                count += 1
                out.append(excerpt_note(s.first, f"session {sid}: {s.turns} turns, history_len "
                                                 f"never above {s.first_len}"))
        return out, count

    def cross_session(self) -> tuple[list[Example], int]:
        out: list[Example] = []
        count = 0
        for h in self.holders.values():
            new_sessions = max(len(h.sessions) - 1, 1)
            # One growing buffer: new sessions start above where the last one left, and
            # (almost) never below it. Per-session histories start low again.
            if (h.carried >= CARRIED_MIN and h.carried >= 0.5 * new_sessions
                    and h.dropped <= h.carried * MAX_DROP_SHARE):
                count += h.carried
                out.extend(h.examples)
            elif (h.first_len is not None and h.first_len <= 2
                  and h.starts_high >= CARRIED_MIN and h.starts_high >= 0.5 * new_sessions):
                # Concurrent sessions interleave, so "above where the last one left" misses
                # a buffer they all share; their first turns all starting long does not.
                count += h.starts_high
                out.extend(h.high_examples)
        return out, count


def excerpt_note(ex: Example, note: str) -> Example:
    return Example(ex.source, ex.line, ex.time_ns, ex.text, note)


_ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{7,}")
MIN_ID_LEN = 8
"""Only ids this long are looked for in other requests' text (short counters collide)."""


_REQUESTED_GUARD = '"requested'
_REQUESTED = re.compile(r'"requested([A-Z][A-Za-z0-9_]{0,40})"\s*:\s*"([^"]{1,200})"')
"""A tool line naming what it was asked for: ``"requestedOrderId": "ord-1-0-2"``."""


@dataclass
class ContaminationTracker:
    active: set[str] = field(default_factory=set)
    identities: dict[str, dict[str, str]] = field(default_factory=dict)
    found: list[Example] = field(default_factory=list)
    count: int = 0
    looked: int = 0
    max_examples: int = 8

    def request_start(self, ev: LogEvent) -> None:
        if ev.request and len(ev.request) >= MIN_ID_LEN:
            self.active.add(ev.request)

    def request_end(self, ev: LogEvent) -> None:
        if ev.request:
            self.active.discard(ev.request)
            self.identities.pop(ev.request, None)

    def _requested_vs_answer(self, ev: LogEvent) -> bool:
        """A tool call that logs what it was asked for (``"requestedOrderId":"ord-1"``)
        and what it answered (``"orderId":"ord-7"`` in its result): a different id is
        another request's value, read from state the tool kept between calls."""
        text = ev.text
        m = _REQUESTED.search(text)
        if m is None:
            return False
        name, asked = m.group(1), m.group(2)
        key = name[0].lower() + name[1:]
        got = None
        for g in re.finditer(r'"(?:' + re.escape(key) + "|" + re.escape(name) +
                             r')"\s*:\s*"([^"]{1,200})"', text):
            got = g.group(1)
            break
        if got is None:
            return False
        self.looked += 1
        if got != asked:
            self._hit(ev, f"the tool was asked for {key} {asked} but answered with {got}")
            return True
        return False

    def _hit(self, ev: LogEvent, note: str) -> None:
        self.count += 1
        if len(self.found) < self.max_examples:
            self.found.append(excerpt(ev, note))

    def feed(self, ev: LogEvent) -> None:
        if (ev.kind is EventKind.TOOL_CALL and _REQUESTED_GUARD in ev.text
                and self._requested_vs_answer(ev)):
            return
        expected, value = field_value(ev, "expected"), field_value(ev, "value")
        # A state write's "expected" is its compare-and-swap version, not an identity.
        is_state = ev.kind in (EventKind.STATE_READ, EventKind.STATE_WRITE)
        if expected is not None and value is not None and not is_state:
            self.looked += 1
            if str(expected) != str(value):
                who = f"request {ev.request}" if ev.request else "a request"
                self._hit(ev, f"{who} expected {expected} but read {value}")
                return
        if not ev.request:
            return
        if ev.fields:
            ids = self.identities.setdefault(ev.request, {})
            for name in IDENTITY_FIELDS:
                v = ev.fields.get(name)
                if v is None or isinstance(v, dict | list):
                    continue
                self.looked += 1
                sv = str(v)
                seen = ids.setdefault(name, sv)
                if seen != sv:
                    self._hit(ev, f"request {ev.request} set {name}={seen} but this line "
                                  f"carries {name}={sv}")
                    return
        if len(self.active) > 1 and ev.text:
            for tok in _ID_TOKEN.findall(ev.text):
                if tok != ev.request and tok in self.active:
                    self._hit(ev, f"request {ev.request}'s line names request {tok}, "
                                  "in flight at the same time")
                    return
