"""Pod evidence → signals, plus the tables the front ends show (pods, timeline, replicas).

Pure functions over the dicts ``kubectl get -o json`` prints, so the live probe, offline
dumps and bundles all take the same path and tests feed real captures directly.

What each signal answers, and how (details in each function):

* ``pods.restarts``: any container restarted or terminated (restartCount, lastState,
  state.terminated). Pods that are Running and Ready *now* still count: the OOM or kill
  happened to the previous instance and is only visible in ``lastState``.
* ``pods.oomkilled``: a termination whose reason is OOMKilled (never exit 137 alone), or
  a node ``OOMKilling``/``SystemOOM`` event (weaker: it names the node, not the pod).
* ``pods.probe_killed``: probe kill events (see ``termination.probe_kills``). When events
  have expired (1 h TTL by default) and a container with a liveness probe keeps
  restarting with a clean exit or a bare SIGKILL/SIGTERM, it is reported as *consistent
  with* a probe kill, at half strength.
* ``pods.probe_config_risky``: liveness and readiness run the same check, or the
  observed start-up is longer than the liveness ``initialDelaySeconds`` with no
  startupProbe.
* ``pods.unschedulable``: a pod stuck Pending: the scheduler could not place it
  (PodScheduled=False/Unschedulable, FailedScheduling events, a ``get pods`` row
  "Pending" with no node), or, at lower strength, scheduled but stuck before running
  (image pull or container config errors).
* ``pods.not_ready``: a container Running but not Ready (READY 0/1 with STATUS
  Running, ``ready: false`` on a running container, Ready=False), with its readiness
  failures as examples; readiness failure events alone count at lower strength.
* ``pods.no_memory_limit``: app containers without ``resources.limits.memory``.
* ``process.multiple_workers``: a workload with more than one live replica.

Pods read from pasted text (``probes.kube.paste``) carry ``_from``: "table" (a
``kubectl get pods`` row: status, no spec) or "fragment" (a few describe lines with
no pod name). Signals that read the spec (limits, probes) skip them and say so, so a
table never yields "no memory limit" or "no liveness probe" it cannot see.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial
from operator import itemgetter
from typing import Any

from probes.evidence import Example, Signal, iso_ns, no, unknown, yes
from probes.evidence import example as plain_example
from probes.kube.objects import (
    ContainerView,
    EventView,
    Obj,
    as_list,
    as_map,
    containers,
    event_view,
    gc_paused,
    iso_time,
    meta,
    name_of,
    namespace_of,
    owner_of,
    probe_check,
    probe_text,
    time_ns,
)
from probes.kube.termination import (
    Ended,
    Termination,
    kill_window_seconds,
    probe_kills,
    terminations,
)
from probes.redact import redact_text

PROBE = "kube"
MAX_EXAMPLES = 8
STATUS_INFERRED_STRENGTH = 0.5
CONFIG_RISK_STRENGTH = 0.7
NODE_OOM_STRENGTH = 0.7
_NODE_OOM_REASONS = {"OOMKilling", "SystemOOM"}
_LIVE_PHASES = {"Running", "Pending"}
STUCK_PENDING_STRENGTH = 0.6
READINESS_EVENTS_STRENGTH = 0.7
REPLICAS_NOT_READY_STRENGTH = 0.6
SCHEDULING_EVENTS_STRENGTH = 0.8
# Waiting reasons of a scheduled pod that will not start by itself (kubelet reasons).
_STUCK_WAITING = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                  "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
                  "ErrImageNeverPull"}
_UNSCHEDULABLE_TEXT = re.compile(r"Insufficient (?:memory|cpu|ephemeral-storage|[\w./-]+)|"
                                 r"nodes? (?:are|is) available|Unschedulable|"
                                 r"didn't match|untolerated taint|PodFitsResources", re.I)
_READINESS_FAILED = re.compile(r"^(?:Readiness|Startup) probe failed", re.I)
"""A failing startup probe keeps the container unready too (it gates readiness)."""
_OOM_TEXT = re.compile(r"\(last reason: OOMKilled\)|\bOOMKilled\b|\bOOM[- ]killed\b", re.I)
"""An OOM kill named in a pod event's message (e.g. "(last reason: OOMKilled)")."""


def oom_events(events: Iterable[EventView]) -> list[EventView]:
    """Pod-level events whose message names an OOM kill (node events are separate).
    Every spelling ``_OOM_TEXT`` knows holds "oom": that cheap test comes first."""
    return [e for e in events if e.kind != "Node" and "oom" in e.message.lower()
            and _OOM_TEXT.search(e.message)]


def spec_known(pod: Obj) -> bool:
    """Whether the pod's spec was in the input (not a table row or a describe fragment)."""
    return not pod.get("_from")


def example(source: str, line: int | None = None, time_ns: int | None = None,
            text: str = "", note: str = "") -> Example:
    """``probes.evidence.example`` with the excerpt redacted: event messages, probe
    commands and termination reasons come from the cluster and may carry secrets."""
    return plain_example(source, line, time_ns, redact_text(text), redact_text(note))


Pending = Callable[[], Example]


def later(source: str, line: int | None = None, time_ns: int | None = None,
          text: str = "", note: str = "") -> Pending:
    """An example made (and so redacted) only when it is shown: a signal counts every
    pod it hits but shows ``MAX_EXAMPLES`` of them (10,000 replicas, 8 examples)."""
    return partial(example, source, line, time_ns, text, note)


def shown(pending: list[Pending]) -> list[Example]:
    """The examples a signal shows: the first ``MAX_EXAMPLES``, made now."""
    return [make() for make in pending[:MAX_EXAMPLES]]


def _pod_id(namespace: str, name: str) -> tuple[str, str]:
    return (namespace, name)


class PodFacts:
    """Everything derived once from the input, shared by signals and tables.

    Building it is one pass over pods and one over events (linear in the input): events
    are indexed by (namespace, pod name), so a 10,000-pod namespace costs no pairwise
    matching.
    """

    def __init__(self, pods: Iterable[Obj], events: Iterable[Obj],
                 owner_rows: Iterable[Obj] = ()) -> None:
        self.pods = [p for p in pods if isinstance(p, Mapping)]
        # Deployment/ReplicaSet rows ({kind, name, namespace, desired, ready, row}) from
        # pasted ``kubectl get deploy,rs`` tables, and owners from JSON dumps.
        self.owner_rows = [o for o in owner_rows if isinstance(o, Mapping)]
        views = [event_view(e) for e in events if isinstance(e, Mapping)]
        self.pod_events: dict[tuple[str, str], list[EventView]] = defaultdict(list)
        self.node_ooms: list[EventView] = []
        # Pasted inputs lose namespaces on one side (events tables without a NAMESPACE
        # column, insights pods): an event with no namespace matches the pod of that
        # name, and an event matches a pod that has no namespace.
        namespaces_by_name: dict[str, set[str]] = defaultdict(set)
        for p in self.pods:
            namespaces_by_name[name_of(p)].add(namespace_of(p))
        # The same event often arrives twice (a describe and an events table of one
        # pod, overlapping dumps): once resolved to its pod, identical events count once.
        seen: set[EventView] = set()
        self.events: list[EventView] = []
        for ev in views:
            if ev.kind == "Pod":
                known = namespaces_by_name.get(ev.name, set())
                if not ev.namespace and len(known) == 1:
                    ev = replace(ev, namespace=next(iter(known)))
                elif ev.namespace and ev.namespace not in known and "" in known:
                    ev = replace(ev, namespace="")
            if ev in seen:
                continue
            seen.add(ev)
            self.events.append(ev)
            if ev.kind == "Pod":
                self.pod_events[_pod_id(ev.namespace, ev.name)].append(ev)
            elif ev.kind == "Node" and ev.reason in _NODE_OOM_REASONS:
                self.node_ooms.append(ev)
        self.kills = {key: probe_kills(evs) for key, evs in self.pod_events.items()}
        self.pod_by_id = {_pod_id(namespace_of(p), name_of(p)): p for p in self.pods}
        self.containers: list[ContainerView] = []
        self.terms: list[Termination] = []
        for pod in self.pods:
            key = _pod_id(namespace_of(pod), name_of(pod))
            kills = self.kills.get(key, {})
            for c in containers(pod):
                self.containers.append(c)
                self.terms.extend(terminations(c, pod.get("status"), kills))
        self.evicted = [p for p in self.pods
                        if as_map(p.get("status")).get("reason") == "Evicted"]
        self.container_by_id = {(c.namespace, c.pod, c.name, c.init): c for c in self.containers}
        self.pod_containers: dict[tuple[str, str], list[ContainerView]] = defaultdict(list)
        for c in self.containers:
            self.pod_containers[_pod_id(c.namespace, c.pod)].append(c)
        self._owners = {id(p): owner_of(p) for p in self.pods}

    def owner(self, pod: Obj) -> str | None:
        """``owner_of`` a pod of ``self.pods``, worked out once per pod."""
        key = id(pod)
        return self._owners[key] if key in self._owners else owner_of(pod)

    def events_for(self, pod: Obj) -> list[EventView]:
        return self.pod_events.get(_pod_id(namespace_of(pod), name_of(pod)), [])

    def containers_of(self, pod: Obj) -> list[ContainerView]:
        """Every container of every pod with this pod's namespace and name."""
        return self.pod_containers.get(_pod_id(namespace_of(pod), name_of(pod)), [])


def pod_signals(pods: list[dict[str, Any]], events: list[dict[str, Any]]) -> tuple[Signal, ...]:
    """The pod signals for a set of pods and events (dicts as ``kubectl -o json``)."""
    with gc_paused():
        return signals_from(PodFacts(pods, events))


def signals_from(facts: PodFacts) -> tuple[Signal, ...]:
    return (
        _restarts(facts),
        _oomkilled(facts),
        _probe_killed(facts),
        _probe_config_risky(facts),
        _unschedulable(facts),
        _not_ready(facts),
        _no_memory_limit(facts),
        _multiple_workers(facts),
    )


def _src(pod: str) -> str:
    return f"pod/{pod}"


def _term_example(t: Termination) -> Example:
    return example(_src(t.pod), time_ns=t.finished_ns, text=t.text(),
                   note=f"container {t.container}: {t.why}")


def _no_pods(key: str) -> Signal:
    return unknown(key, PROBE, "no Pod objects in the input")


def _restarts(f: PodFacts) -> Signal:
    key = "pods.restarts"
    ev_ooms = oom_events(f.events)
    if not f.pods:
        if ev_ooms:
            return yes(key, PROBE, f"{len(ev_ooms)} event(s) name an OOM kill, so a container "
                       "was terminated (the pod objects are not in the input)",
                       [example(_src(e.name), time_ns=e.time_ns, text=e.describe())
                        for e in ev_ooms[:MAX_EXAMPLES]], value=len(ev_ooms))
        return _no_pods(key)
    hit: list[tuple[int, ContainerView]] = []
    for c in f.containers:
        if c.restart_count > 0 or c.last_state.get("terminated") or c.state.get("terminated"):
            hit.append((c.restart_count, c))
    evicted = [p for p in f.evicted if name_of(p) not in {c.pod for _, c in hit}]
    if not hit and not evicted:
        if ev_ooms:
            return yes(key, PROBE, f"{len(ev_ooms)} event(s) name an OOM kill, so a container "
                       "was terminated",
                       [example(_src(e.name), time_ns=e.time_ns, text=e.describe())
                        for e in ev_ooms[:MAX_EXAMPLES]], value=len(ev_ooms))
        return no(key, PROBE, f"no container of {len(f.pods)} pod(s) restarted or terminated",
                  value=0)
    hit.sort(key=lambda rc: -rc[0])
    total = sum(n for n, _ in hit)
    last_by = {(t.pod, t.container): t for t in f.terms if t.which == "lastState"}
    now_by = {(t.pod, t.container): t for t in f.terms if t.which == "state"}
    examples = []
    for n, c in hit[:MAX_EXAMPLES]:
        parts = [f"restartCount={n}"]
        waiting = as_map(c.state.get("waiting")).get("reason")
        if waiting:
            parts.append(f"state.waiting: reason={waiting}")
        for t in (now_by.get((c.pod, c.name)), last_by.get((c.pod, c.name))):
            if t is not None:
                parts.append(t.text())
        t = last_by.get((c.pod, c.name)) or now_by.get((c.pod, c.name))
        examples.append(example(_src(c.pod), time_ns=t.finished_ns if t else None,
                                text="; ".join(parts),
                                note=f"container {c.name}" + (f": {t.why}" if t else "")))
    examples.extend(_eviction_example(p) for p in evicted[:MAX_EXAMPLES])
    pods_hit = len({c.pod for _, c in hit}) + len(evicted)
    return yes(key, PROBE, f"{len(hit)} container(s) in {pods_hit} pod(s) restarted or "
               f"terminated ({total} restarts in all)", examples, value=total,
               data={"containers": len(hit), "pods": pods_hit})


def _eviction_example(pod: Obj) -> Example:
    status = as_map(pod.get("status"))
    return example(_src(name_of(pod)),
                   text=f"status: phase={status.get('phase')} reason=Evicted "
                        f"message={str(status.get('message') or '').strip()}",
                   note="the kubelet evicted the pod under node pressure; not an OOM kill")


def _oomkilled(f: PodFacts) -> Signal:
    key = "pods.oomkilled"
    ooms = [t for t in f.terms if t.ended is Ended.OOM_KILLED]
    examples = [_term_example(t) for t in ooms[:MAX_EXAMPLES]]
    if ooms:
        return yes(key, PROBE, f"{len(ooms)} container termination(s) with reason OOMKilled "
                   f"in {len({t.pod for t in ooms})} pod(s)", examples, value=len(ooms))
    ev_ooms = oom_events(f.events)
    if ev_ooms:
        return yes(key, PROBE, f"{len(ev_ooms)} event(s) name an OOM kill "
                   f"({', '.join(sorted({e.name for e in ev_ooms})[:4])})",
                   [example(_src(e.name), time_ns=e.time_ns, text=e.describe())
                    for e in ev_ooms[:MAX_EXAMPLES]], value=len(ev_ooms))
    if f.node_ooms:
        node_examples = [example(f"node/{e.name}", time_ns=e.time_ns, text=e.describe())
                         for e in f.node_ooms[:MAX_EXAMPLES]]
        return yes(key, PROBE, f"{len(f.node_ooms)} node OOM event(s) (the node's OOM killer "
                   "ended a process; the pod is not named)", node_examples,
                   value=len(f.node_ooms), strength=NODE_OOM_STRENGTH)
    if not f.pods:
        return _no_pods(key)
    ended = {(t.namespace, t.pod, t.container) for t in f.terms}
    unexplained = [c for c in f.containers
                   if c.restart_count > 0 and (c.namespace, c.pod, c.name) not in ended]
    if unexplained:
        # a `kubectl get pods` row counts restarts but never says why a container ended
        return unknown(key, PROBE, f"{len(unexplained)} restarted container(s) with no record "
                       "of why they ended (kubectl get rows show counts only; "
                       "kubectl describe pod shows Last State)")
    other = Counter(t.ended.value for t in f.terms)
    not_oom_137 = [t for t in f.terms if t.exit_code == 137]
    detail = "no termination has reason OOMKilled"
    if other:
        kinds = ", ".join(f"{k} x{v}" for k, v in sorted(other.items()))
        detail += f" (terminations: {kinds})"
    if not_oom_137:
        detail += "; exit code 137 here is not an OOM kill: " + not_oom_137[0].why
    if f.evicted:
        detail += f"; {len(f.evicted)} pod(s) evicted under node pressure (not OOMKilled)"
    return no(key, PROBE, detail, value=0,
              examples=[_term_example(t) for t in not_oom_137[:MAX_EXAMPLES]]
              + [_eviction_example(p) for p in f.evicted[:MAX_EXAMPLES]])


def _probe_killed(f: PodFacts) -> Signal:
    key = "pods.probe_killed"
    examples: list[Pending] = []
    pods_hit: set[str] = set()
    for (_ns, pod), kills in f.kills.items():
        for container, proof in kills.items():
            pods_hit.add(pod)
            evs = f.pod_events[(_ns, pod)]
            when = max((e.time_ns for e in evs if e.reason == "Killing" and e.time_ns),
                       default=None)
            examples.append(later(_src(pod), time_ns=when, text=proof,
                                  note="" if container == "*" else f"container {container}"))
    if examples:
        return yes(key, PROBE, f"probes failed and the kubelet restarted containers in "
                   f"{len(pods_hit)} pod(s)", shown(examples), value=len(pods_hit))
    if not f.pods:
        if f.events:
            return no(key, PROBE, f"no probe-kill events among {len(f.events)} event(s)")
        return unknown(key, PROBE, "no Pod objects and no events in the input")
    inferred: list[Pending] = []
    for t in f.terms:
        owner_pod = f.pod_by_id.get((t.namespace, t.pod))
        if owner_pod is None or f.events_for(owner_pod):
            continue
        spec = f.container_by_id[(t.namespace, t.pod, t.container, t.init)].spec
        policy = as_map(owner_pod.get("spec")).get("restartPolicy", "Always")
        if (spec.get("livenessProbe") is not None and policy == "Always"
                and t.ended in (Ended.CLEAN_EXIT, Ended.KILLED)):
            inferred.append(later(
                _src(t.pod), time_ns=t.finished_ns,
                text=f"{t.text()}; livenessProbe: {probe_text(spec.get('livenessProbe'))}",
                note=f"container {t.container}: a server container with a liveness probe "
                     "restarted without an error; no events left to confirm a probe kill"))
    if inferred:
        return yes(key, PROBE, "restarts consistent with liveness kills (clean exit or "
                   "SIGKILL/SIGTERM under restartPolicy Always); events expired, not confirmed",
                   shown(inferred), value=len(inferred), strength=STATUS_INFERRED_STRENGTH)
    if not f.terms and not any(c.restart_count for c in f.containers):
        return no(key, PROBE, "no container restarted or terminated, so no probe killed one",
                  value=0)
    if not f.events:
        return unknown(key, PROBE, "no events in the input (events expire after 1 h by default) "
                       "and pod status shows no restart a probe could explain")
    return no(key, PROBE, f"no probe-kill events among {len(f.events)} event(s)")


def startup_seconds(pod: Obj, c: ContainerView) -> float | None:
    """Observed start-up of a running, ready container: from its startedAt to the pod's
    Ready condition turning True. None when either is missing or out of order."""
    started = time_ns(as_map(c.state.get("running")).get("startedAt"))
    if started is None or not c.status.get("ready"):
        return None
    for cond in as_list(as_map(pod.get("status")).get("conditions")):
        cond = as_map(cond)
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            ready = time_ns(cond.get("lastTransitionTime"))
            if ready is not None and ready >= started:
                return (ready - started) / 1e9
    return None


def _no_spec(key: str, f: PodFacts) -> Signal | None:
    """UNKNOWN when no pod's spec is in the input (only get-table rows or fragments)."""
    if not f.pods:
        return _no_pods(key)
    if not any(spec_known(p) for p in f.pods):
        return unknown(key, PROBE, f"{len(f.pods)} pod(s) known only from kubectl get rows or "
                       "describe fragments: their spec (probes, limits) is not in the input")
    return None


def _probe_config_risky(f: PodFacts) -> Signal:
    key = "pods.probe_config_risky"
    missing = _no_spec(key, f)
    if missing is not None:
        return missing
    examples: list[Example] = []
    seen_templates: set[tuple[str | None, str, str]] = set()
    with_liveness = 0
    for c in f.containers:
        live, ready = c.spec.get("livenessProbe"), c.spec.get("readinessProbe")
        if live is None:
            continue
        with_liveness += 1
        pod = f.pod_by_id[(c.namespace, c.pod)]
        # Replicas share one template: report a config risk once per workload/container.
        template = (f.owner(pod) or c.pod, c.namespace, c.name)
        if template in seen_templates:
            continue
        check = probe_check(live)
        if ready is not None and check is not None and check == probe_check(ready):
            seen_templates.add(template)
            examples.append(example(
                _src(c.pod), text=f"Liveness: {probe_text(live)} | Readiness: {probe_text(ready)}",
                note=f"container {c.name}: liveness and readiness run the same check, so a "
                     "slow or busy replica is restarted instead of only taken out of traffic"))
            continue
        startup = startup_seconds(pod, c)
        delay = as_map(live).get("initialDelaySeconds", 0)
        if (startup is not None and c.spec.get("startupProbe") is None
                and isinstance(delay, int) and startup > delay):
            seen_templates.add(template)
            window = kill_window_seconds(live)
            examples.append(example(
                _src(c.pod), text=f"observed start-up {startup:.0f}s; Liveness: {probe_text(live)}",
                note=f"container {c.name}: initialDelaySeconds={delay} is shorter than the "
                     f"observed start-up; a start-up longer than {window}s gets it killed"))
    if examples:
        return yes(key, PROBE, f"{len(examples)} container template(s) with risky probe settings",
                   examples[:MAX_EXAMPLES], value=len(examples), strength=CONFIG_RISK_STRENGTH)
    if not with_liveness:
        return no(key, PROBE, "no container has a liveness probe", value=0)
    return no(key, PROBE, f"{with_liveness} liveness probe(s) differ from readiness and no "
              "start-up was seen to outlast initialDelaySeconds", value=0)


def _phase(pod: Obj) -> str:
    return str(as_map(pod.get("status")).get("phase") or "")


def _condition(pod: Obj, kind: str) -> Obj:
    for cond in as_list(as_map(pod.get("status")).get("conditions")):
        cond = as_map(cond)
        if cond.get("type") == kind:
            return cond
    return {}


def _unschedulable(f: PodFacts) -> Signal:
    """Pods the scheduler could not place, and pods stuck before their containers run.

    Ordered rules, first match per pod: PodScheduled=False (its reason and message);
    a FailedScheduling event for the pod; a Pending pod with no node and no container
    status (what ``kubectl get pods`` prints as "Pending"); then, at
    ``STUCK_PENDING_STRENGTH``, a Pending pod whose containers wait on errors that do
    not clear by themselves (image pull, container config). With no pods in the input,
    FailedScheduling events decide, unless a later Scheduled event placed the same pod.
    """
    key = "pods.unschedulable"
    strong: list[Pending] = []
    weak: list[Pending] = []
    for pod in f.pods:
        if _phase(pod) != "Pending" or meta(pod).get("deletionTimestamp"):
            continue
        name = name_of(pod)
        evs = [e for e in f.events_for(pod) if e.reason == "FailedScheduling"]
        cond = _condition(pod, "PodScheduled")
        spec = as_map(pod.get("spec"))
        statuses = as_list(as_map(pod.get("status")).get("containerStatuses"))
        waiting = sorted({str(as_map(c.state.get("waiting")).get("reason") or "")
                          for c in f.containers_of(pod)} & _STUCK_WAITING)
        if cond.get("status") == "False":
            strong.append(later(_src(name), text=f"status: phase=Pending; PodScheduled=False "
                                f"reason={cond.get('reason') or '-'} "
                                f"message={str(cond.get('message') or '').strip()}",
                                note="the scheduler found no node for the pod"))
        elif evs:
            e = evs[-1]
            strong.append(later(_src(name), time_ns=e.time_ns, text=e.describe(),
                                note="phase Pending: the scheduler found no node for the pod"))
        elif (not spec.get("nodeName") and not waiting
              and not any(as_map(as_map(s).get("state")) for s in statuses)):
            strong.append(later(_src(name), text=_table_text(pod) or "status: phase=Pending, "
                                "no node, no container started",
                                note="Pending with no node assigned: not scheduled"))
        elif waiting:
            weak.append(later(_src(name), text=_table_text(pod) or "status: phase=Pending; "
                              "waiting: " + ", ".join(waiting),
                              note="scheduled but stuck before running (" + ", ".join(waiting)
                              + "): it will not start by itself"))
    n_strong = len(strong)
    unnamed = [e for e in f.events if e.reason == "FailedScheduling" and e.name in ("", "?")]
    if strong and unnamed:
        # describe event rows pasted without their pod: the scheduler's reason
        strong.extend(later("pod/?", time_ns=e.time_ns, text=e.describe(),
                            note="scheduler event pasted without its pod name")
                      for e in unnamed[:2])
    if strong or weak:
        both = strong + weak
        detail = (f"{n_strong} pod(s) Pending and not scheduled" if strong else
                  f"{len(weak)} pod(s) stuck Pending before their containers run")
        if strong and weak:
            detail += f"; {len(weak)} more stuck Pending before running"
        return yes(key, PROBE, detail, shown(both), value=n_strong + len(weak),
                   strength=1.0 if strong else STUCK_PENDING_STRENGTH)
    failed = [e for e in f.events if e.reason == "FailedScheduling"]
    # events of pods that are not in the input (dumps filtered by label, events only)
    elsewhere = [e for e in failed if (e.namespace, e.name) not in f.pod_by_id
                 and (not f.pods or e.name not in ("", "?"))]
    if elsewhere:
        placed = {(e.namespace, e.name) for e in f.events if e.reason == "Scheduled"}
        open_ = [e for e in elsewhere if (e.namespace, e.name) not in placed or e.name == "?"]
        if open_:
            return yes(key, PROBE, f"{len(open_)} FailedScheduling event(s) and no later "
                       "Scheduled event for those pods (the pod objects are not in the input)",
                       [example(_src(e.name), time_ns=e.time_ns, text=e.describe())
                        for e in open_[:MAX_EXAMPLES]], value=len(open_),
                       strength=SCHEDULING_EVENTS_STRENGTH)
        if not f.pods:
            return no(key, PROBE, f"{len(failed)} FailedScheduling event(s), each followed by "
                      "a Scheduled event for the same pod", value=0)
    if not f.pods:
        if f.events:
            return no(key, PROBE, f"no FailedScheduling events among {len(f.events)} event(s)",
                      value=0)
        return unknown(key, PROBE, "no Pod objects and no events in the input")
    pending = sum(1 for p in f.pods if _phase(p) == "Pending")
    return no(key, PROBE, f"{len(f.pods)} pod(s): none stuck Pending"
              + (f" ({pending} Pending while containers are created)" if pending else "")
              + (f"; {len(failed)} earlier FailedScheduling event(s) resolved" if failed else ""),
              value=0)


def _table_text(pod: Obj) -> str:
    """The ``kubectl get pods`` row a table pod came from, as pasted."""
    row = pod.get("_row")
    return str(row) if isinstance(row, str) else ""


def _not_ready(f: PodFacts) -> Signal:
    """Containers that run but fail their readiness check: the pod serves no traffic.

    A container counts when its state is running and ``ready`` is false (or the pod's
    Ready condition is False while every container runs). A pod younger than 30 s (by
    its table AGE) is still starting and is left out. Readiness-failure events of the
    pod are added to its example. With no pods, "Readiness probe failed" events count
    at ``READINESS_EVENTS_STRENGTH``; with only Deployment/ReplicaSet rows, replicas
    short of ready count at ``REPLICAS_NOT_READY_STRENGTH``.
    """
    key = "pods.not_ready"
    examples: list[Pending] = []
    pods_hit = 0
    by_pod: dict[tuple[str, str], list[ContainerView]] = defaultdict(list)
    for c in f.containers:
        if not c.init:
            by_pod[(c.namespace, c.pod)].append(c)
    running = 0
    for pod in f.pods:
        if _phase(pod) != "Running" or meta(pod).get("deletionTimestamp"):
            continue
        age = pod.get("_age_s")
        if isinstance(age, int | float) and age < 30:
            continue
        cs = by_pod.get((namespace_of(pod), name_of(pod)), [])
        live = [c for c in cs if c.state.get("running") is not None]
        running += len(live)
        unready = [c for c in live if c.status.get("ready") is False]
        ready_cond = _condition(pod, "Ready")
        pod_unready = (bool(live) and len(live) == len(cs)
                       and ready_cond.get("status") == "False"
                       and not any(c.status.get("ready") is True for c in live))
        if not unready and not pod_unready:
            continue
        pods_hit += 1
        fails = [e for e in f.events_for(pod)
                 if e.reason == "Unhealthy" and _READINESS_FAILED.match(e.message)]
        names = ", ".join(c.name for c in unready) or "all containers"
        text = _table_text(pod) or (f"state.running, ready=false ({names})" if unready else
                                    f"Ready=False reason={ready_cond.get('reason') or '-'}")
        if fails:
            text += f"; {fails[-1].describe()}"
        probe = next((c.spec.get("readinessProbe") for c in unready
                      if c.spec.get("readinessProbe") is not None), None)
        note = f"running but not ready ({names})"
        if probe is not None:
            note += f"; readinessProbe: {probe_text(probe)}"
        examples.append(later(_src(name_of(pod)), time_ns=fails[-1].time_ns if fails else None,
                              text=text, note=note))
    if examples:
        return yes(key, PROBE, f"{pods_hit} pod(s) have containers running but not ready",
                   shown(examples), value=pods_hit)
    if not f.pods:
        fails = [e for e in f.events if e.reason == "Unhealthy"
                 and _READINESS_FAILED.match(e.message)]
        if fails:
            pods = {e.name for e in fails}
            return yes(key, PROBE, f"{len(fails)} readiness-failure event(s) for {len(pods)} "
                       "pod(s) (the pod objects are not in the input)",
                       [example(_src(e.name), time_ns=e.time_ns, text=e.describe())
                        for e in fails[:MAX_EXAMPLES]], value=len(pods),
                       strength=READINESS_EVENTS_STRENGTH)
        short = [o for o in f.owner_rows if o.get("ready") is not None
                 and o.get("desired") and o["ready"] < o["desired"]]
        if short:
            return yes(key, PROBE, f"{len(short)} workload(s) have fewer ready replicas than "
                       "desired (the pods themselves are not in the input)",
                       [example(f"{o['kind']}/{o['name']}", text=str(o.get("row") or ""),
                                note=f"{o['ready']} of {o['desired']} replicas ready")
                        for o in short[:MAX_EXAMPLES]], value=len(short),
                       strength=REPLICAS_NOT_READY_STRENGTH)
        if f.events or f.owner_rows:
            return no(key, PROBE, "no readiness-failure events"
                      + (" and every workload has its replicas ready" if f.owner_rows else ""),
                      value=0)
        return unknown(key, PROBE, "no Pod objects and no events in the input")
    if not running:
        return no(key, PROBE, f"no container of {len(f.pods)} pod(s) is running, so none runs "
                  "unready (see pods.restarts / pods.unschedulable)", value=0)
    return no(key, PROBE, f"all {running} running container(s) are ready", value=0)


def _no_memory_limit(f: PodFacts) -> Signal:
    key = "pods.no_memory_limit"
    missing_spec = _no_spec(key, f)
    if missing_spec is not None:
        return missing_spec
    known = {(namespace_of(p), name_of(p)) for p in f.pods if spec_known(p)}
    app = [c for c in f.containers if not c.init and (c.namespace, c.pod) in known]
    missing = [c for c in app if c.memory_limit is None]
    if not missing:
        return no(key, PROBE, f"all {len(app)} app container(s) have a memory limit", value=0)
    examples = [example(_src(c.pod), text=f"container {c.name}: resources.limits.memory not set"
                        f" (requests.memory: {_memory_request(c)})")
                for c in missing[:MAX_EXAMPLES]]
    return yes(key, PROBE, f"{len(missing)} of {len(app)} app container(s) have no memory limit",
               examples, value=len(missing))


def _memory_request(c: ContainerView) -> str:
    requests = as_map(as_map(c.spec.get("resources")).get("requests"))
    return str(requests.get("memory") or "none")


def _live(pod: Obj) -> bool:
    status = as_map(pod.get("status"))
    return status.get("phase") in _LIVE_PHASES and not meta(pod).get("deletionTimestamp")


def _multiple_workers(f: PodFacts) -> Signal:
    key = "process.multiple_workers"
    if not f.pods:
        return _no_pods(key)
    groups: dict[str, list[Obj]] = defaultdict(list)
    for pod in f.pods:
        owner = f.owner(pod)
        if owner and not owner.startswith(("job/", "ds/")) and _live(pod):
            groups[f"{namespace_of(pod)}/{owner}".lstrip("/")].append(pod)
    multi = {k: v for k, v in groups.items() if len(v) > 1}
    if not multi:
        return no(key, PROBE, "every workload runs a single live replica", value=1)
    examples: list[Pending] = []
    for owner, pods in sorted(multi.items(), key=lambda kv: -len(kv[1])):
        for i, pod in enumerate(pods[:MAX_EXAMPLES - len(examples)], 1):
            node = as_map(pod.get("spec")).get("nodeName") or "?"
            examples.append(later(_src(name_of(pod)),
                                  text=f"replica {i}/{len(pods)} of {owner} on node {node}"))
    biggest = max(len(v) for v in multi.values())
    return yes(key, PROBE, f"{len(multi)} workload(s) run several replicas (up to {biggest}): "
               "in-process state is not shared between them", shown(examples),
               value=biggest, data={"workloads": {k: len(v) for k, v in multi.items()}})


# --- tables for front ends ---------------------------------------------------------


def _text_or_none(value: Any) -> str | None:
    """A JSON-safe time: YAML loaded by others may hold datetime objects."""
    if value is None or isinstance(value, str):
        return value
    ns = time_ns(value)
    return iso_ns(ns) if ns is not None else str(value)


def pod_rows(f: PodFacts) -> list[dict[str, Any]]:
    """One row per pod: the table an operator scans first."""
    last: dict[str, Termination] = {}
    for t in f.terms:
        prev = last.get(t.pod)
        if prev is None or (t.finished_ns or 0) >= (prev.finished_ns or 0):
            last[t.pod] = t
    rows = []
    by_pod: dict[str, list[ContainerView]] = defaultdict(list)
    for c in f.containers:
        by_pod[c.pod].append(c)
    for pod in f.pods:
        name = name_of(pod)
        app = [c for c in by_pod[name] if not c.init]
        status = as_map(pod.get("status"))
        lt = last.get(name)
        rows.append({
            "namespace": namespace_of(pod), "pod": name, "owner": f.owner(pod),
            "phase": status.get("phase"), "reason": status.get("reason"),
            "ready": f"{sum(1 for c in app if c.status.get('ready'))}/{len(app)}",
            "restarts": sum(c.restart_count for c in by_pod[name]),
            "last_termination": lt.to_json() if lt else None,
            "node": as_map(pod.get("spec")).get("nodeName"),
            "qos": status.get("qosClass"),
            "created": _text_or_none(meta(pod).get("creationTimestamp")),
            "images": sorted({c.image_digest for c in app if c.image_digest}),
            "memory_limits": {c.name: c.memory_limit for c in app},
        })
    return rows


def timeline(f: PodFacts) -> dict[str, list[dict[str, Any]]]:
    """Per pod, in time order: created, started, terminations, probe failures, kills,
    back-offs, readiness. Entries without a usable time come last, in input order."""
    # (sort key, entry): the key is the time, or infinity for none (after every time,
    # in input order: the sort is stable); sorted by the key alone, never the entry
    out: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)

    def add(pod: str, ns: int | None, what: str, text: str, container: str | None = None) -> None:
        out[pod].append((_NO_TIME if ns is None else ns,
                         {"time": iso_time(ns), "what": what, "container": container,
                          "text": text}))

    for pod in f.pods:
        name = name_of(pod)
        add(name, time_ns(meta(pod).get("creationTimestamp")), "created", f"pod {name} created")
        for cond in as_list(as_map(pod.get("status")).get("conditions")):
            cond = as_map(cond)
            if cond.get("type") == "Ready":
                add(name, time_ns(cond.get("lastTransitionTime")), "ready",
                    f"Ready={cond.get('status')} {cond.get('reason') or ''}".strip())
    for c in f.containers:
        running = as_map(c.state.get("running")).get("startedAt")
        if running:
            add(c.pod, time_ns(running), "running", "container running since " + str(running),
                c.name)
    for t in f.terms:
        add(t.pod, t.started_ns, "started", f"{t.which} instance started", t.container)
        add(t.pod, t.finished_ns, t.ended.value, redact_text(f"{t.text()}: {t.why}"),
            t.container)
    for (_ns, pod_name), evs in f.pod_events.items():
        entries = out[pod_name]
        for e in evs:  # most entries: add() inlined
            ns = e.time_ns
            entries.append((_NO_TIME if ns is None else ns,
                            {"time": iso_time(ns), "what": "event:" + e.reason,
                             "container": None, "text": redact_text(e.describe())}))
    return {pod: [d for _, d in sorted(items, key=_first)] for pod, items in out.items()}


_NO_TIME = float("inf")
_first = itemgetter(0)


_COMPARE = ("node", "restarts", "last_reason", "last_exit", "ended", "images", "created",
            "ready", "phase")


def replica_comparison(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each workload with two or more replicas: which replicas differ, in what.

    ``differs`` lists the columns whose values are not all equal; ``outliers`` maps a
    column to the replicas that differ from the most common value (ties: none singled
    out), which is where "replica 3 of 5 behaves differently" shows.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["owner"]:
            groups[f"{r['namespace']}/{r['owner']}".lstrip("/")].append(r)
    out = []
    for owner, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        table = []
        for r in members:
            t = r["last_termination"] or {}
            table.append({"pod": r["pod"], "node": r["node"], "restarts": r["restarts"],
                          "last_reason": t.get("reason"), "last_exit": t.get("exit_code"),
                          "ended": t.get("ended"), "images": ",".join(r["images"]),
                          "created": r["created"], "ready": r["ready"], "phase": r["phase"]})
        differs, outliers = [], {}
        for col in _COMPARE:
            counts = Counter(str(row[col]) for row in table)
            if len(counts) < 2:
                continue
            differs.append(col)
            (top, n_top), *rest = counts.most_common()
            if rest and rest[0][1] == n_top:
                continue
            outliers[col] = [row["pod"] for row in table if str(row[col]) != top]
        out.append({"owner": owner, "replicas": table, "differs": differs,
                    "outliers": outliers})
    return out


def pod_data(f: PodFacts) -> dict[str, Any]:
    """The ``Evidence.data`` payload: plain JSON values only."""
    rows = pod_rows(f)
    return {
        "pods": rows,
        "terminations": [t.to_json() for t in f.terms],
        "events": [{"namespace": e.namespace, "kind": e.kind, "name": e.name, "type": e.type,
                    "reason": e.reason, "message": redact_text(e.message), "count": e.count,
                    "first": iso_time(e.first_ns), "last": iso_time(e.last_ns)} for e in f.events],
        "timeline": timeline(f),
        "replicas": replica_comparison(rows),
    }
