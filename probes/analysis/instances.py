"""Instances: which agent/team/runtime object served which sessions, requests and users.

The seeds' debug step "log session IDs and agent instance creation: if you see one
instance handling many users, that's your problem", and its mirror image ("you recreate
the agent on every request") are both answered from the same per-instance counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from probes.analysis.fields import field_value
from probes.analysis.runs import excerpt
from probes.events import EventKind, LogEvent
from probes.evidence import Example, iso_ns

COARSE_MIN_CREATED = 4
LONG_LIVED_NS = 3600 * 1_000_000_000
"""Invocations an hour or more apart on one instance: it outlived the request."""

SERVERLESS_HINT = re.compile(
    r"\b(?:aws[ _-]?lambda|lambda|vercel|netlify|cloud ?functions?|cold[ _-]?start|"
    r"warm[ _-]?(?:start|instance|invocation|container)|hot[ _-]?reload(?:ed|ing)?|HMR|"
    r"fast refresh|next dev|nodemon|watchfiles|--reload)\b",
    re.IGNORECASE)
"""Words that say the service runs where module state outlives a request."""
HINT_RAW_LINES = 5000
HINT_CACHE_SIZE = 4096
HINT_CACHE_TEXT = 256
"""Messages remembered by the hint search: at most this many, of at most this length."""
_UNSEEN: Any = object()
_AGENTISH = frozenset({EventKind.CREATED, EventKind.RUN_START, EventKind.RUN_END})
SERVERLESS_FIELD_KEYS = frozenset({
    "coldStart", "cold_start", "faas.coldstart", "faas.invocation_id", "awsRequestId",
    "aws_request_id", "faas.name", "x-vercel-id", "vercelId", "lambda",
})


@dataclass(slots=True)
class InstanceStats:
    id: str
    sessions: set[str] = field(default_factory=set)
    requests: set[str] = field(default_factory=set)
    users: dict[str, Example] = field(default_factory=dict)
    processes: set[str] = field(default_factory=set)
    first_ns: int | None = None
    last_ns: int | None = None
    first_ev: LogEvent | None = None
    last_ev: LogEvent | None = None
    events: int = 0
    session_examples: list[Example] = field(default_factory=list)
    last_request: str | None = None  # the request last added to ``requests``

    @property
    def first_at(self) -> Example | None:
        return excerpt(self.first_ev, f"instance {self.id} first seen") if self.first_ev else None

    @property
    def last_at(self) -> Example | None:
        return excerpt(self.last_ev, f"instance {self.id} last seen") if self.last_ev else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "sessions": len(self.sessions), "requests": len(self.requests),
            "users": len(self.users), "processes": sorted(self.processes)[:8],
            "first": iso_ns(self.first_ns) if self.first_ns is not None else None,
            "last": iso_ns(self.last_ns) if self.last_ns is not None else None,
            "first_at": f"{self.first_ev.source}:{self.first_ev.line}" if self.first_ev else None,
        }


@dataclass
class InstanceTracker:
    stats: dict[str, InstanceStats] = field(default_factory=dict)
    created: int = 0
    created_requests: set[str] = field(default_factory=set)
    created_examples: list[Example] = field(default_factory=list)
    created_ids: set[str] = field(default_factory=set)  # instance ids named at creation
    # ids made from an agent's name in its process (spans with no object id): one object
    # only when a creation under the id shows it
    inferred_ids: set[str] = field(default_factory=set)
    agent_requests: set[str] = field(default_factory=set)
    hint: Example | None = None
    hint_looked: int = 0
    max_examples: int = 8
    _hint_cache: dict[str, re.Match[str] | None] = field(default_factory=dict, repr=False)

    def feed(self, ev: LogEvent, proc: str | None = None) -> None:
        """One event; ``proc`` is ``ev.process`` when the caller has built it already."""
        if self.hint is None:
            if ev.fields or self.hint_looked < HINT_RAW_LINES:
                self._look_for_hint(ev)
            else:  # the common case, inline: a message whose answer is remembered
                self.hint_looked += 1
                msg = ev.message
                if msg and self._hint_cache.get(msg, _UNSEEN) is not None:
                    self._look_for_hint_in(ev, msg)
        kind = ev.kind
        instance, request = ev.instance, ev.request
        if request and (instance or kind in _AGENTISH):
            self.agent_requests.add(request)
        if kind is EventKind.CREATED:
            self.created += 1
            if instance and len(self.created_ids) < 4096:
                self.created_ids.add(instance)
            if request:
                self.created_requests.add(request)
            if len(self.created_examples) < self.max_examples:
                self.created_examples.append(excerpt(
                    ev, f"instance {instance or '?'} created"
                        + (f" for request {request}" if request else "")))
        if not instance:
            return
        if ev.fields and "instance_from" in ev.fields and len(self.inferred_ids) < 4096:
            self.inferred_ids.add(instance)
        st = self.stats.get(instance)
        if st is None:
            st = self.stats[instance] = InstanceStats(instance)
        st.events += 1
        session = ev.session
        if session and session not in st.sessions:
            st.sessions.add(session)
            if len(st.session_examples) < 4:
                st.session_examples.append(excerpt(
                    ev, f"instance {instance} serves session {session}"
                        f" ({len(st.sessions)} so far)"))
        if request and request != st.last_request:  # a request's lines come together
            st.requests.add(request)
            st.last_request = request
        if proc is None:
            proc = ev.process
        if proc and len(st.processes) < 64:
            st.processes.add(proc)
        if ev.fields:
            user = field_value(ev, "user")
            if user is not None and str(user) not in st.users and len(st.users) < 256:
                st.users[str(user)] = excerpt(ev, f"instance {instance} serves user {user}")
        t = ev.time_ns
        if t is not None:
            # Keep the event itself; its excerpt is built once, when asked for.
            if st.first_ns is None or t < st.first_ns:
                st.first_ns, st.first_ev = t, ev
            if st.last_ns is None or t > st.last_ns:
                st.last_ns, st.last_ev = t, ev

    def _look_for_hint(self, ev: LogEvent) -> None:
        """Messages are searched on every line (they are short); whole raw lines only
        while the first ``HINT_RAW_LINES`` events stream past, where platforms print
        their banners (cold start, runtime, dev server), to keep the hot path cheap.
        Messages repeat, so the answer for a message is remembered (bounded)."""
        self.hint_looked += 1
        if ev.fields and not SERVERLESS_FIELD_KEYS.isdisjoint(ev.fields):
            self.hint = excerpt(ev, "serverless platform fields on this line")
            return
        if self.hint_looked <= HINT_RAW_LINES and ev.text:
            m = SERVERLESS_HINT.search(ev.text)
            if m:
                self.hint = excerpt(ev, f"serverless / hot-reload hint: {m.group(0)!r}")
        elif ev.message:
            self._look_for_hint_in(ev, ev.message)

    def _look_for_hint_in(self, ev: LogEvent, text: str) -> None:
        cache = self._hint_cache
        if text in cache:
            m = cache[text]
        else:
            m = SERVERLESS_HINT.search(text)
            if len(cache) < HINT_CACHE_SIZE and len(text) <= HINT_CACHE_TEXT:
                cache[text] = m
        if m:
            self.hint = excerpt(ev, f"serverless / hot-reload hint: {m.group(0)!r}")

    def coarse_ids(self) -> bool:
        """Many objects created under few ids: the "instance" id names an owner (a process,
        a service instance: OTel's ``service.instance.id``), not one agent. Overlapping runs
        under such an id are not runs on one object."""
        return self.created >= COARSE_MIN_CREATED and 0 < len(self.created_ids) * 2 <= \
            self.created

    def unproven_names(self) -> bool:
        """Every instance id is an agent's name in a process and none was seen created:
        one name may be many objects (built per request), so nothing is claimed."""
        return bool(self.inferred_ids) and not (self.inferred_ids & self.created_ids) \
            and set(self.stats) <= self.inferred_ids

    def reuse_count(self, st: InstanceStats) -> int:
        """Sessions when the instance's lines name sessions, else requests."""
        return len(st.sessions) if st.sessions else len(st.requests)
