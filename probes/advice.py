"""Fixes tailored to the service at hand: its language, framework and the evidence's numbers.

The catalogue (``probes.causes``) holds one generic broken/fixed pair per cause. An
on-call engineer needs the fix in the service's own language and framework, naming the
object, file:line and figures the evidence holds: a Python FastAPI service given a
TypeScript fix, or a pod with a 256Mi limit told to add ``resources: {}``, loses trust in
everything else the report says. ``tailor`` rewrites a ranked cause's advice from the
case and never invents a fact the evidence does not hold.

How it decides, in three steps, all from the case's evidence:

1. **Stack** (``detect_stack``): clues from the inputs' detected log formats (pino,
   winston, bunyan, fastify => Node; structlog, python logging, uvicorn, gunicorn =>
   Python), from excerpts (a Python ``Traceback`` against ``    at fn (file.js:1:2)``,
   dotted Python exception names, framework names and messages), from OpenTelemetry
   resource attributes when the logs evidence keeps them, and from the code probe's
   findings (file suffixes, manifests, the framework class named in a finding). Clues
   near the cause's own evidence (the same input files) decide first; the whole case
   next. A language needs twice the weight of the other one; otherwise it is unknown
   and the fix is given for both languages, saying so. Never one language silently.
2. **Facts** (``_FACTS``): per cause, the instance id and how many sessions and overlaps
   it had, the code finding's file:line, the pod's memory limit and restarts, the
   duration failures cluster at, the counts of rate-limit errors, the concurrency that
   stayed clean. Only numbers the evidence holds.
3. **Fix** (``FIXES``): a broken/fixed pair per (cause, language, framework), looked up
   from the most specific to the plainest; the code finding's own line replaces the
   template's "broken" when there is one. Templates use only APIs checked against the
   frameworks' documentation or installed sources (AutoGen AgentChat 0.7, LangGraph 1.x,
   CrewAI ``akickoff``, LangChain JS ``createAgent``, the OpenAI SDKs' ``max_retries``).

Pure and deterministic: same case in, same advice out; no I/O.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from probes.evidence import Answer, Case, Signal
from probes.redact import redact_text
from probes.verdict import RankedCause

PYTHON = "python"
NODE = "node"
LANGUAGE_NAMES = {PYTHON: "Python", NODE: "Node.js/TypeScript"}

FRAMEWORK_NAMES = {
    "autogen": "AutoGen AgentChat", "crewai": "CrewAI", "langgraph": "LangGraph",
    "langchain": "LangChain", "fastapi": "FastAPI", "flask": "Flask", "uvicorn": "uvicorn",
    "gunicorn": "gunicorn", "express": "express", "fastify": "fastify", "nextjs": "Next.js",
}
AGENT_FRAMEWORKS = ("autogen", "langgraph", "crewai", "langchain")
"""Most specific first: a LangGraph service often names LangChain packages too."""
SERVERS = ("fastapi", "flask", "fastify", "express", "nextjs", "uvicorn", "gunicorn")

MAX_TEXTS = 400
"""Excerpts scanned for clues (examples of every signal); a bound, not a sample."""
MAX_TEXT_CHARS = 2000
DECISIVE_RATIO = 2.0
"""A language is named when its clue weight is at least this multiple of the other's."""


@dataclass(frozen=True, slots=True)
class Clue:
    """One piece of evidence about the service's stack, with where it was seen."""

    language: str | None
    framework: str | None
    what: str
    where: str
    weight: int


@dataclass(frozen=True, slots=True)
class Stack:
    """The service's language and frameworks as far as the evidence shows them.

    ``language`` is None when unknown or mixed (``mixed`` says which); the fix then
    comes in both languages.
    """

    language: str | None
    framework: str | None  # an agent framework from AGENT_FRAMEWORKS
    server: str | None  # a web framework or server from SERVERS
    clues: tuple[Clue, ...]
    mixed: bool = False

    @property
    def label(self) -> str:
        if self.language is None:
            return "unknown language"
        parts = [LANGUAGE_NAMES[self.language]]
        parts += [("AutoGen (npm)" if f == "autogen" and self.language == NODE else
                   "LangChain.js" if f == "langchain" and self.language == NODE else
                   "LangGraph.js" if f == "langgraph" and self.language == NODE else
                   FRAMEWORK_NAMES[f]) for f in (self.framework, self.server) if f]
        return " · ".join(parts)

    def because(self, limit: int = 3) -> str:
        """The strongest clues for the chosen language, as 'what (where, +N more)'."""
        mine = [c for c in self.clues if c.language is not None and (
            self.language is None or c.language == self.language)]
        mine += [c for c in self.clues if c.language is None and c.framework and self.language]
        by_what: dict[tuple[str, str], list[Clue]] = {}
        for c in mine:
            lang = c.language if self.language is None and c.language else ""
            by_what.setdefault((lang, c.what), []).append(c)
        ranked = sorted(by_what.items(), key=lambda kv: -sum(c.weight for c in kv[1]))
        if self.language is None:  # both languages: the strongest of each
            ranked = [next(kv for kv in ranked if kv[0][0] == lang)
                      for lang in (PYTHON, NODE) if any(k[0] == lang for k, _ in ranked)]
        out = []
        for (lang, what), cs in ranked[:limit]:
            wheres = list(dict.fromkeys(os.path.basename(c.where) for c in cs))
            more = f", +{len(wheres) - 1} more" if len(wheres) > 1 else ""
            head = f"{LANGUAGE_NAMES[lang]}: " if lang else ""
            out.append(f"{head}{what} ({wheres[0]}{more})")
        return "; ".join(out)


# --------------------------------------------------------------------------- clue tables

FORMAT_CLUES: tuple[tuple[str, str, str | None, str], ...] = (
    # (token of InputReport.format, language, framework or server, what)
    ("structlog", PYTHON, None, "structlog log lines"),
    ("python", PYTHON, None, "Python logging lines"),
    ("uvicorn", PYTHON, "uvicorn", "uvicorn log lines"),
    ("gunicorn", PYTHON, "gunicorn", "gunicorn log lines"),
    ("traceback", PYTHON, None, "Python tracebacks"),
    ("fastify", NODE, "fastify", "fastify (pino) log lines"),
    ("pino", NODE, None, "pino log lines"),
    ("winston", NODE, None, "winston log lines"),
    ("bunyan", NODE, None, "bunyan log lines"),
    ("node", NODE, None, "Node.js output"),
    ("v8", NODE, None, "V8 runtime messages"),
)
"""Log formats (as ``probes.ingest`` names them, split on ``+ - : _``) that only one
runtime writes. A format is one clue per input, whatever its line count."""

TEXT_CLUES: tuple[tuple[re.Pattern[str], str | None, str | None, str, int], ...] = tuple(
    (re.compile(p, f), lang, fw, what, w) for p, f, lang, fw, what, w in (
        (r"Traceback \(most recent call last\)", 0, PYTHON, None, "a Python traceback", 3),
        (r'File "[^"\n]+\.py", line \d+', 0, PYTHON, None, "a Python stack frame", 3),
        (r"(?m)^\s*at (?:\S+ )?\(?[^()\s]+\.(?:[cm]?js|tsx?):\d+:\d+\)?", 0, NODE, None,
         "a Node.js stack frame", 3),
        (r"\bat [\w$.<>\[\] ]{1,120} \((?:file://)?[^()\s]+\.(?:[cm]?js|tsx?):\d+:\d+\)", 0,
         NODE, None, "a Node.js stack frame", 3),
        (r"(?m)^(?:error|warn|info|http|verbose|debug|silly): .*\{\"[^\"]+\":.*\}\s*$", 0, NODE,
         None, "winston's simple format", 2),
        (r'"event": ?"[^"]*".*"level": ?"(?:debug|info|warning|error|critical)"|'
         r'"level": ?"(?:debug|info|warning|error|critical)".*"event": ?"', 0, PYTHON, None,
         "structlog JSON lines", 2),
        (r"\(node:\d+\)|UnhandledPromiseRejection|node:internal|"
         r"JavaScript heap out of memory|<--- (?:Last few GCs|JS stacktrace) --->|"
         r"out of memory \(v8_heap\)", 0, NODE, None, "a Node.js runtime message", 3),
        (r"(?m)^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:", 0, PYTHON, None,
         "Python logging's default format", 3),
        (r"\b(?:openai|httpx|httpcore|anthropic|asyncio|redis|psycopg2?|asyncpg|sqlalchemy|"
         r"pydantic|requests|aiohttp|fastapi|starlette|uvicorn|litellm|botocore|groq|"
         r"google\.api_core|langchain_core|langgraph|crewai|autogen_core)\.(?:[a-z_]+\.)*"
         r"[A-Z]\w*(?:Error|Exception|Timeout)\b", 0, PYTHON, None,
         "a Python exception name", 2),
        (r"\b(?:MemoryError|RecursionError|ModuleNotFoundError|ImportError: cannot import "
         r"name|RuntimeError|ValueError|KeyError|AttributeError|IndexError|NameError|"
         r"ZeroDivisionError|ConnectionRefusedError|NotImplementedError)\b", 0, PYTHON, None,
         "a Python exception class", 2),
        (r"\buvicorn(?:\.error|\.access)?\b", re.I, PYTHON, "uvicorn", "uvicorn", 2),
        (r'(?m)^(?:INFO|WARNING|ERROR|DEBUG):\s{2,}(?:\S+ - "[A-Z]+ |Started server process|'
         r'Uvicorn running|Application startup)', 0, PYTHON, "uvicorn",
         "uvicorn's default output", 3),
        (r"(?m)\bgunicorn\b|Booting worker with pid|Worker \(pid:\d+\) (?:was sent|exited)|"
         r"^\[[\d: +-]+\] \[\d+\] \[(?:INFO|ERROR|WARNING|CRITICAL)\] ", 0, PYTHON,
         "gunicorn", "gunicorn's log lines", 3),
        (r"Error code: \d{3} - ", 0, PYTHON, None, "the OpenAI Python SDK's error text", 2),
        (r"(?:^|[\s:])(?:Error|RateLimitError|APIError|InternalServerError): [45]\d\d [A-Z]", 0,
         NODE, None, "the OpenAI Node SDK's error text", 2),
        (r"Converting circular structure to JSON|is not a function\b|Cannot read properties "
         r"of (?:undefined|null)", 0, NODE, None, "a V8 (Node.js) error message", 3),
        (r"(?m)^npm (?:ERR!|error|warn)\b|\bERESOLVE\b", 0, NODE, None, "npm output", 3),
        (r"\bfastapi\b", re.I, PYTHON, "fastapi", "FastAPI", 2),
        (r"autogen_(?:agentchat|core|ext)|autogen-(?:agentchat|core|ext)", 0, PYTHON,
         "autogen", "AutoGen AgentChat (Python) names", 3),
        (r"The team is already running", 0, PYTHON, "autogen",
         "AutoGen AgentChat's 'team is already running' error", 3),
        (r"\b(?:AssistantAgent|RoundRobinGroupChat|SelectorGroupChat|"
         r"SingleThreadedAgentRuntime)\b", 0, None, "autogen", "AutoGen class names", 1),
        (r"@autogen/", 0, NODE, "autogen", "@autogen/* packages", 2),
        (r"@langchain/langgraph", 0, NODE, "langgraph", "@langchain/langgraph", 3),
        (r"@langchain/", 0, NODE, "langchain", "@langchain/* packages", 2),
        (r"\blanggraph\b", re.I, None, "langgraph", "LangGraph names", 2),
        (r"\blangchain[_-](?:core|openai|community)\b", 0, PYTHON, "langchain",
         "langchain-* Python packages", 2),
        (r"\bcrewai\b|\bcrew\.kickoff\b|\bCrew\(", 0, None, "crewai", "CrewAI names", 2),
    ))
"""Excerpt patterns (examples of every signal, the code probe's lines): a pattern
is counted once per source, so a thousand identical lines stay one clue."""

SUFFIX_LANGUAGE = {".py": PYTHON, ".ts": NODE, ".tsx": NODE, ".js": NODE, ".mjs": NODE,
                   ".cjs": NODE, ".jsx": NODE}
MANIFEST_LANGUAGE = {"package.json": NODE, "package-lock.json": NODE, "pnpm-lock.yaml": NODE,
                     "yarn.lock": NODE, "pyproject.toml": PYTHON, "poetry.lock": PYTHON,
                     "uv.lock": PYTHON, "setup.py": PYTHON}
FINDING_FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("AutoGen", "autogen"), ("CrewAI", "crewai"), ("LangGraph", "langgraph"),
    ("LangChain", "langchain"))
"""The framework a code finding names in its 'why' (``probes.code.tables``' labels)."""

OTEL_LANGUAGE = {"python": PYTHON, "nodejs": NODE, "node": NODE, "js": NODE, "webjs": NODE}


def _rel(path: str) -> str:
    """Paths under the working directory relative to it (as the reports show them)."""
    if not path.startswith("/"):
        return path
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _source_of(where: str) -> str:
    """``file:12`` -> ``file`` (the input an example belongs to)."""
    head, sep, tail = where.rpartition(":")
    return head if sep and tail.isdigit() else where


NAME_CLUES: tuple[tuple[str, str, str, str], ...] = (
    ("uvicorn", PYTHON, "uvicorn", "an input named after uvicorn"),
    ("gunicorn", PYTHON, "gunicorn", "an input named after gunicorn"),
)
"""Input file names the operator gave: weak (weight 1), but evidence all the same."""


def _format_clues(case: Case) -> Iterator[Clue]:
    for inp in case.inputs():
        if inp.kind not in ("log", "trace"):
            continue
        tokens = set(re.split(r"[+\-:_ ]", inp.format.lower()))
        for token, lang, fw, what in FORMAT_CLUES:
            if token in tokens:
                yield Clue(lang, fw, what, _rel(inp.name), 2)
                break
        base = os.path.basename(inp.name).lower()
        for word, lang, fw, what in NAME_CLUES:
            if word in base:
                yield Clue(lang, fw, what, _rel(inp.name), 1)
                break


ACCESS_CLUES: dict[str, tuple[str, str | None, str]] = {
    "morgan": (NODE, "express", "morgan request lines (express's logger)"),
    "uvicorn": (PYTHON, "uvicorn", "uvicorn access lines"),
    "gunicorn": (PYTHON, "gunicorn", "gunicorn access lines"),
}
"""Access-log flavours the analysis counted (``access_flavours``) that name a stack."""


def _access_clues(case: Case) -> Iterator[Clue]:
    for ev in case.evidence:
        if ev.probe != "logs" or not isinstance(ev.data, dict):
            continue
        for row in ev.data.get("access_flavours") or ():
            if not isinstance(row, dict):
                continue
            hit = ACCESS_CLUES.get(str(row.get("flavour")))
            if hit is not None:
                lang, fw, what = hit
                yield Clue(lang, fw, what, _rel(str(row.get("source", ""))), 2)


def _texts(case: Case) -> Iterator[tuple[str, str]]:
    """(source, text) of every example in the case, bounded."""
    n = 0
    for ev in case.evidence:
        for sig in ev.signals:
            for ex in sig.examples:
                if n >= MAX_TEXTS:
                    return
                n += 1
                yield ex.source, (ex.text + "\n" + ex.note)[:MAX_TEXT_CHARS]


def _text_clues(case: Case) -> Iterator[Clue]:
    seen: set[tuple[int, str]] = set()
    for source, text in _texts(case):
        for i, (rx, lang, fw, what, weight) in enumerate(TEXT_CLUES):
            if (i, source) in seen:
                continue
            m = rx.search(text)
            if m:
                seen.add((i, source))
                yield Clue(lang, fw, what, _rel(source), weight)


def _code_findings(case: Case) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ev in case.evidence:
        if ev.probe == "code":
            out.extend(f for f in ev.data.get("findings", ()) if isinstance(f, dict))
    return out


def _code_clues(case: Case) -> Iterator[Clue]:
    for f in _code_findings(case):
        path = str(f.get("path", ""))
        where = f"{_rel(path)}:{f.get('line', '?')}"
        name = os.path.basename(path)
        lang = MANIFEST_LANGUAGE.get(name) or SUFFIX_LANGUAGE.get(os.path.splitext(name)[1])
        if name.startswith("requirements") and name.endswith(".txt"):
            lang = PYTHON
        why, excerpt = str(f.get("why", "")), str(f.get("excerpt", ""))
        fw = next((k for label, k in FINDING_FRAMEWORKS if why.startswith(label)
                   or f" {label} " in why), None)
        if lang or fw:
            yield Clue(lang, fw, "the code probe's finding", where, 4)
        route = re.search(r"route @(\w+)\.(\w+)", why)
        if lang == PYTHON and route and route.group(2) == "route":
            yield Clue(PYTHON, "flask", "a Flask @app.route handler", where, 1)
        elif lang == NODE and "exported route function" in why:
            yield Clue(NODE, "nextjs", "an exported route handler (Next.js)", where, 1)
        for rx, tlang, tfw, what, _w in TEXT_CLUES:
            if tfw and rx.search(excerpt):
                yield Clue(tlang or lang, tfw, what, where, 2)


def _otel_clues(case: Case) -> Iterator[Clue]:
    """OTel resource attributes, when the logs evidence keeps them as
    ``data["resources"]``: a list of attribute mappings (``telemetry.sdk.language``)."""
    for ev in case.evidence:
        resources = ev.data.get("resources")
        if not isinstance(resources, list):
            continue
        for res in resources[:50]:
            if not isinstance(res, Mapping):
                continue
            lang = OTEL_LANGUAGE.get(str(res.get("telemetry.sdk.language", "")).lower())
            if lang:
                name = res.get("service.name") or ev.target
                yield Clue(lang, None, "OTel telemetry.sdk.language", str(name), 4)


def all_clues(case: Case) -> tuple[Clue, ...]:
    """Every stack clue of the case, in a stable order."""
    return (*_format_clues(case), *_access_clues(case), *_text_clues(case),
            *_code_clues(case), *_otel_clues(case))


def decide(clues: Iterable[Clue]) -> Stack:
    """The stack these clues show: a language only when it clearly outweighs the other."""
    clues = tuple(clues)
    weight = {PYTHON: 0, NODE: 0}
    for c in clues:
        if c.language:
            weight[c.language] += c.weight
    py, js = weight[PYTHON], weight[NODE]
    lang: str | None = None
    if py and py >= DECISIVE_RATIO * js:
        lang = PYTHON
    elif js and js >= DECISIVE_RATIO * py:
        lang = NODE
    mixed = lang is None and py > 0 and js > 0

    def best(kinds: tuple[str, ...]) -> str | None:
        score: dict[str, int] = {}
        for c in clues:
            if c.framework in kinds and (lang is None or c.language in (lang, None)):
                score[c.framework] = score.get(c.framework, 0) + c.weight
        if not score:
            return None
        return max(kinds, key=lambda k: (score.get(k, 0), -kinds.index(k)))

    framework = best(AGENT_FRAMEWORKS) if lang else None
    if framework == "langchain" and any(c.framework == "langgraph" for c in clues):
        framework = "langgraph"
    server = best(SERVERS) if lang else None
    if server and _server_language(server) != lang:
        server = None
    return Stack(lang, framework, server, clues, mixed)


def _server_language(server: str) -> str:
    return NODE if server in ("express", "fastify", "nextjs") else PYTHON


def detect_stack(case: Case, near: Iterable[str] = ()) -> Stack:
    """The service's stack: from the clues in the ``near`` sources (the cause's own
    evidence) when they decide, else from the whole case."""
    clues = all_clues(case)
    near_set = {_rel(s) for s in near}
    if near_set:
        local = [c for c in clues if _source_of(c.where) in near_set]
        stack = decide(local)
        if stack.language:
            # Frameworks may come from elsewhere (the code probe), in the same language.
            whole = decide(c for c in clues if c.language in (stack.language, None))
            return replace(whole, language=stack.language,
                           clues=tuple(local) + tuple(c for c in clues if c not in local))
    return decide(clues)


# --------------------------------------------------------------------------- facts


@dataclass
class Facts:
    """What the evidence names for one cause: sentences for the report, and slots the
    fix templates fill (an object name, a number)."""

    lines: list[str]
    slots: dict[str, str]
    broken_code: str = ""  # the code finding's own line(s), with its file:line


def _logs_data(case: Case, key: str) -> Any:
    for ev in case.evidence:
        if ev.probe == "logs" and key in ev.data:
            return ev.data[key]
    return None


def _yes(signals: Mapping[str, Signal], key: str) -> Signal | None:
    s = signals.get(key)
    return s if s is not None and s.answer is Answer.YES else None


CODE_SIGNAL = {
    "shared-instance": "code.shared_instance", "shared-history": "code.shared_history",
    "stateful-tool": "code.stateful_tool", "unbounded-fanout": "code.unbounded_fanout",
    "reentrant-run": "code.reentrant_run", "overlapping-timer": "code.overlapping_timer",
    "in-memory-state": "code.in_memory_state", "non-atomic-update": "code.non_atomic_update",
    "version-mismatch": "code.version_mismatch", "stale-module-state": "code.shared_instance",
    "parallel-run-same-session": "code.unbounded_fanout",
}
"""The code signal whose findings locate each cause in the source."""


def _code_facts(case: Case, cause_id: str, facts: Facts, lang: str | None) -> None:
    key = CODE_SIGNAL.get(cause_id)
    if not key:
        return
    mine = [f for f in _code_findings(case) if f.get("signal") == key]
    if not mine:
        return
    first = mine[0]
    where = f"{_rel(str(first.get('path', '')))}:{first.get('line', '?')}"
    why = str(first.get("why", ""))
    more = f" (and {len(mine) - 1} more place(s))" if len(mine) > 1 else ""
    facts.lines.append(f"In the source: {where}: {_clip(why, 220)}{more}.")
    facts.slots["where"] = where
    name = re.search(r"'([A-Za-z_$][\w$.]*)(?:\(\))?'", why)
    if name:
        facts.slots["obj"] = name.group(1)
    path = str(first.get("path", ""))
    # Manifest findings come in sets (one per package of the family): show them all.
    same = [f for f in mine if f.get("path") == path] if cause_id == "version-mismatch" \
        else [first]
    excerpts = [str(f.get("excerpt", "")).strip() for f in same[:6]]
    if any(excerpts):
        comment = "#" if path.endswith((".py", ".txt", ".toml", ".lock", ".yaml")) else "//"
        facts.broken_code = f"{comment} {where}\n" + "\n".join(e for e in excerpts if e)
    if cause_id == "version-mismatch":
        names = [m.group(1) for e in excerpts
                 if (m := re.match(r"\s*([A-Za-z0-9_.\-]+\[[^\]]*\])", e))]
        facts.slots["extras"] = " ".join(names)


def _instance_facts(case: Case, facts: Facts) -> None:
    instances = _logs_data(case, "instances")
    if not isinstance(instances, list) or not instances:
        return
    shared = [i for i in instances if isinstance(i, dict)
              and (i.get("sessions", 0) or 0) + (i.get("requests", 0) or 0) > 2]
    if not shared:
        return
    shared.sort(key=lambda i: (-(i.get("overlapping_pairs") or 0), -(i.get("sessions") or 0),
                               str(i.get("id"))))
    top = shared[0]
    procs = top.get("processes") or []
    in_proc = f" in process {procs[0]}" if len(procs) == 1 else (
        f" across {len(procs)} processes" if procs else "")
    overlap = ""
    if top.get("overlapping_pairs"):
        overlap = (f", with {top['overlapping_pairs']} overlapping run pair(s), up to "
                   f"{top.get('max_concurrency', 2)} runs at once")
    first = f"; first seen at {_rel(str(top['first_at']))}" if top.get("first_at") else ""
    others = f" {len(shared) - 1} other instance(s) were shared the same way." \
        if len(shared) > 1 else ""
    served = " and ".join(f"{top[k]} {k[:-1]}(s)" for k in ("sessions", "requests")
                          if top.get(k))
    facts.lines.append(f"Instance {top.get('id')} served {served}{in_proc}{overlap}{first}."
                       f"{others}")
    facts.slots["instance"] = str(top.get("id"))


def _levels(case: Case, signals: Mapping[str, Signal]) -> list[dict[str, Any]]:
    sig = signals.get("errors.rise_with_concurrency")
    levels = sig.data.get("levels") if sig is not None else None
    if not isinstance(levels, list):
        levels = _logs_data(case, "concurrency")
    return [lv for lv in levels or [] if isinstance(lv, dict)]


def _upper(level: str) -> int | None:
    m = re.search(r"(\d+)\s*$", str(level))
    return int(m.group(1)) if m else None


def _clean_cap(case: Case, signals: Mapping[str, Signal], facts: Facts) -> None:
    """The highest in-flight level with no errors below the first failing one: a cap the
    evidence showed safe. Also says where failures started."""
    levels = _levels(case, signals)
    cap: int | None = None
    for lv in levels:
        if (lv.get("errors") or 0) > 0:
            rate = lv.get("error_rate") or 0
            facts.lines.append(
                f"Failures start at {lv.get('level')} request(s) in flight ({rate:.0%} "
                f"failed); " + (f"up to {cap} in flight, none failed." if cap else
                                "no level was clean."))
            if cap:  # a cap is only named when a failing level above it proves it
                facts.slots["cap"] = str(cap)
                facts.slots["cap_why"] = f"{cap} in flight stayed clean"
            break
        cap = _upper(str(lv.get("level"))) or cap


def _count_line(sig: Signal | None, what: str) -> str | None:
    if sig is None:
        return None
    failing, handled = sig.data.get("failing"), sig.data.get("handled")
    n = sig.value if isinstance(sig.value, int) else len(sig.examples)
    extra = ""
    if isinstance(failing, int) and isinstance(handled, int) and handled:
        extra = f" ({failing} failing, {handled} handled/retried)"
    first = sig.examples[0].where if sig.examples else ""
    return f"{n} {what}{extra}" + (f"; first at {_rel(first)}" if first else "") + "."


def _field(text: str, name: str) -> str | None:
    m = re.search(rf'"{name}"\s*:\s*"([^"]{{1,80}})"', text)
    return m.group(1) if m else None


def _facts_rate_limit(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    line = _count_line(_yes(s, "errors.rate_limit"), "rate-limit error line(s) (429/503)")
    if line:
        f.lines.append(line)
    _clean_cap(case, s, f)


def _facts_timeout(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    sig = _yes(s, "errors.timeout")
    line = _count_line(sig, "timeout error line(s)")
    if line:
        f.lines.append(line)
    tools: dict[str, int] = {}
    for ex in sig.examples if sig else ():
        m = re.search(r"execute_tool (\S+)", ex.text)
        name = m.group(1) if m else _field(ex.text, "tool")
        if name:
            tools[name] = tools.get(name, 0) + 1
    if tools:
        f.slots["tool"] = max(sorted(tools), key=lambda k: tools[k])
        f.lines.append(f"Tool in the timing-out calls: {', '.join(sorted(tools))}.")
    for ex in sig.examples if sig else ():
        m = re.search(r"(?:timed out after|timeout(?: of|=|:)?)\s*(\d+(?:\.\d+)?)\s*(ms|s)\b",
                      ex.text, re.I)
        if m:
            f.slots["timeout_now"] = m.group(1) + m.group(2)
            f.lines.append(f"The timeout in the error text is {m.group(1)} {m.group(2)}.")
            break
    _clean_cap(case, s, f)


def _facts_ceiling(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    sig = _yes(s, "latency.ceiling")
    if sig is None:
        return
    if isinstance(sig.value, int | float) and sig.value > 0:
        secs = float(sig.value) / 1000
        f.slots["ceiling_s"] = f"{secs:.0f}"
        f.slots["limit_s"] = str(max(60, int(secs * 2)))
        f.lines.append(f"Failing requests end at ~{secs:.1f} s ({sig.value:.0f} ms): that is "
                       "the limit to raise or to stay under.")
    gateway = [sig, _yes(s, "proxy.gateway_errors")]
    text = " ".join(f"{os.path.basename(ex.source)} {ex.text}" for g in gateway if g
                    for ex in g.examples)
    for rx, kind in ((r"upstream timed out|nginx", "nginx"),
                     (r"FUNCTION_INVOCATION_TIMEOUT|vercel", "vercel"),
                     (r"Task timed out after", "lambda"),
                     (r"\benvoy\b|upstream request timeout", "envoy")):
        if re.search(rx, text, re.I):
            f.slots["gateway"] = kind
            break
    if sig.examples:
        f.lines.append(f"Gateway evidence: {_rel(sig.examples[0].where)}.")


def _facts_oom(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    rows: list[dict[str, Any]] = []
    for ev in case.evidence:
        if ev.probe == "kube":
            rows.extend(r for r in ev.data.get("pods", ()) if isinstance(r, dict))
    oom = [r for r in rows if str((r.get("last_termination") or {}).get("reason")) ==
           "OOMKilled"]
    for r in (oom or rows)[:3]:
        term = r.get("last_termination") or {}
        container = term.get("container")
        limits = r.get("memory_limits") or {}
        limit = limits.get(container) if container else None
        if container is None and len(limits) == 1:
            container, limit = next(iter(limits.items()))
        known = container is not None and container in limits
        what = f"pod {r.get('pod')}" + (f", container {container}" if container else "")
        ended = f"{term.get('reason')} (exit {term.get('exit_code')})" if term else "restarted"
        lim = (f"limits.memory is {limit}" if limit else
               "no memory limit is set" if known else "its memory limit is not in the evidence")
        f.lines.append(f"{what}: {ended}, {r.get('restarts', 0)} restart(s); {lim}.")
        if "limit" not in f.slots and (limit or known):
            f.slots["limit"] = str(limit) if limit else "none"
            f.slots["container"] = str(container)
            f.slots["pod"] = str(r.get("pod"))
            f.slots["restarts"] = str(r.get("restarts", 0))
            if limit:
                f.slots["limit_next"] = _double(str(limit))
    peak = 0
    for ev in case.evidence:
        for p in ev.data.get("processes", ()) if ev.probe == "process" else ():
            if isinstance(p, dict) and isinstance(p.get("rss_bytes"), int):
                peak = max(peak, p["rss_bytes"])
    if peak:
        f.slots["peak"] = f"{peak / (1 << 20):.0f}Mi"
        f.lines.append(f"Highest resident memory sampled: {f.slots['peak']}.")
    died = _yes(s, "process.worker_died")
    if died is not None:
        f.lines.append(_clip(died.detail, 200) + (
            f"; e.g. {_rel(died.examples[0].where)}" if died.examples else "") + ".")
    if not rows:
        f.slots["no_kube"] = "yes"
    heap = _yes(s, "runtime.out_of_memory")
    if heap and heap.examples:
        f.lines.append(f"The runtime itself ran out of memory: {_rel(heap.examples[0].where)}.")
        if re.search(r"JavaScript heap out of memory|Reached heap limit",
                     " ".join(e.text for e in heap.examples)):
            f.slots["v8_heap"] = "yes"


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i?)?$")


def _double(limit: str) -> str:
    """Twice a Kubernetes memory quantity, in its own unit ('256Mi' -> '512Mi')."""
    m = _QUANTITY.match(limit.strip())
    if not m:
        return f"more than {limit}"
    n = float(m.group(1)) * 2
    return f"{n:g}{m.group(2) or ''}"


def _facts_probe_kill(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    for key in ("pods.probe_killed", "pods.probe_config_risky"):
        sig = _yes(s, key)
        if sig and sig.examples:
            ex = sig.examples[0]
            f.lines.append(f"{_rel(ex.where)}: {_clip(ex.text, 200)}")
    restarts = _yes(s, "pods.restarts")
    if restarts is not None and isinstance(restarts.value, int):
        f.lines.append(f"{restarts.value} restart(s) in all.")


def _facts_count(key: str) -> Any:
    """A fact function naming one signal's detail, first example and its id fields."""

    def fn(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
        sig = _yes(s, key)
        if sig is None:
            return
        f.lines.append(f"{_clip(sig.detail, 240)}" + (
            f"; e.g. {_rel(sig.examples[0].where)}" if sig.examples else "") + ".")
        for ex in sig.examples[:1]:
            for name in ("key", "tool", "workflowId", "workflow_id", "sessionId", "session_id"):
                v = _field(ex.text, name)
                if v:
                    f.slots.setdefault(name.lower().replace("_", ""), v)

    return fn


def _facts_serialization(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    sig = _yes(s, "errors.serialization")
    line = _count_line(sig, "serialization error line(s)")
    if line:
        f.lines.append(line)
    text = " ".join(ex.text for ex in sig.examples) if sig else ""
    m = re.search(r"Object of type '?(\w+)'? is not JSON serializable", text) or re.search(
        r"starting at object with constructor '(\w+)'", text)
    if m:
        f.slots["type"] = m.group(1)
        f.lines.append(f"The object that does not serialise: {m.group(1)}.")


def _facts_version(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    errs = _yes(s, "errors.version_mismatch")
    line = _count_line(errs, "start-up error line(s)")
    if line:
        f.lines.append(line)
    texts = [ex for ex in errs.examples] if errs else []
    if texts:
        f.broken_code = f"# {_rel(texts[0].where)}\n" + "\n".join(
            _clip(ex.text, 160) for ex in texts[:4])
    joined = "\n".join(ex.text for ex in texts)
    peer = re.search(r'peer (@?[\w./-]+)@"([^"]+)" from (@?[\w./-]+)@([\w.-]+)', joined)
    if peer:
        f.slots["pinned_js"] = f'{peer.group(1)}@"{peer.group(2)}"'
        f.lines.append(f"{peer.group(3)} {peer.group(4)} needs {peer.group(1)} "
                       f"{peer.group(2)}.")
    pip = re.search(r"([\w.\-]+) [\w.]+ requires ([\w.\-]+)([<>=!~]\S*?), but you have "
                    r"\2 ([\w.]+)", joined)
    if pip:
        f.slots["pinned_py"] = (f"{pip.group(2)}{pip.group(3)}   # what {pip.group(1)} "
                                    f"accepts, or upgrade {pip.group(1)}")
        f.lines.append(f"{pip.group(1)} needs {pip.group(2)}{pip.group(3)}; "
                       f"{pip.group(4)} is installed.")
    for fd in _code_findings(case):
        if fd.get("signal") != "code.version_mismatch":
            continue
        pkgs = re.findall(r"([@\w./-]+) [=^~<>]*(\d+\.\d+(?:\.\d+)?)[^()]*\(line \d+\)",
                          str(fd.get("why", "")))
        if pkgs:
            top = max((tuple(int(x) for x in v.split(".")), v) for _, v in pkgs)[1]
            f.slots["packages"] = " ".join(dict.fromkeys(p for p, _ in pkgs))
            f.slots["version"] = top
            f.lines.append("Versions in " + _rel(str(fd.get("path"))) + ": " + ", ".join(
                f"{p} {v}" for p, v in dict.fromkeys(pkgs)) + ".")
            break


def _facts_period(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    sig = _yes(s, "runs.periodic_overlap")
    if sig is not None:
        period = sig.data.get("period_s")
        if isinstance(period, int | float):
            f.slots["period"] = f"{period:g}"
        f.lines.append(_clip(sig.detail, 240) + ".")
    _instance_facts(case, f)


def _instances(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
    _instance_facts(case, f)


def _all(*fns: Any) -> Any:
    """Several fact functions, in order."""

    def fn(case: Case, s: Mapping[str, Signal], f: Facts) -> None:
        for one in fns:
            one(case, s, f)

    return fn


_FACTS: dict[str, Any] = {
    "shared-instance": _instances,
    "stale-module-state": _all(_instances, _facts_count("instance.long_lived")),
    "parallel-run-same-session": _facts_count("runs.parallel_same_session"),
    "reentrant-run": _facts_count("runs.nested_same_request"),
    "overlapping-timer": _facts_period,
    "shared-history": _facts_count("history.cross_session"),
    "stateful-tool": _facts_count("requests.contamination"),
    "in-memory-state": _all(_facts_count("state.stale_read"),
                            _facts_count("state.session_multi_process")),
    "non-atomic-update": _facts_count("state.lost_update"),
    "context-reset": _all(_facts_count("context.forgotten"),
                          _facts_count("instance.per_request")),
    "upstream-rate-limit": _facts_rate_limit,
    "unbounded-fanout": _all(_facts_count("fanout.concurrent_calls"),
                             _facts_count("errors.socket_exhaustion")),
    "tool-timeout": _facts_timeout,
    "platform-timeout": _facts_ceiling,
    "non-idempotent-side-effect": _facts_count("errors.duplicate_write"),
    "serialization": _facts_serialization,
    "oom": _facts_oom,
    "probe-kill": _facts_probe_kill,
    "version-mismatch": _facts_version,
}
"""Per cause: what to name from the evidence (sentences and template slots)."""


def gather_facts(case: Case, cause_id: str, lang: str | None) -> Facts:
    facts = Facts([], {})
    base = cause_id.split("/", 1)[0]
    fn = _FACTS.get(base)
    signals = case.signals()
    if fn is not None:
        fn(case, signals, facts)
    _code_facts(case, base, facts, lang)
    if base == "unbounded-fanout":
        sig = _yes(signals, "fanout.concurrent_calls")
        if sig is not None and isinstance(sig.value, int):
            facts.slots["peak_calls"] = str(sig.value)
    return facts


def _clip(text: str, n: int) -> str:
    text = " ".join(redact_text(text).split())  # redact first, cut after
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- fixes


@dataclass(frozen=True, slots=True)
class Fix:
    broken: str
    fixed: str


DEFAULT_SLOTS = {
    "cap_why": "measure the provider's budget and set the cap below it",
    "obj": "agent", "cap": "MAX_IN_FLIGHT", "tool": "the_tool", "ceiling_s": "30", "limit_s": "120",
    "limit": "", "limit_next": "1Gi", "container": "app", "period": "30", "version": "X.Y.Z",
    "packages": "the family's packages", "type": "object", "peak_calls": "",
}

_SLOT = re.compile(r"<<(\w+)(?::([^<>]+))?>>")
"""``<<name>>`` or ``<<name:default>>``: a fact from the evidence, else the default."""


def _fill(template: str, slots: Mapping[str, str]) -> str:
    return _SLOT.sub(lambda m: slots.get(m.group(1)) or m.group(2)
                     or DEFAULT_SLOTS.get(m.group(1), "") or m.group(1), template)


PY, JS = PYTHON, NODE

FIXES: dict[tuple[str, str, str | None], Fix] = {
    # ---- shared-instance
    ("shared-instance", PY, "autogen"): Fix(
        "<<obj:team>> = RoundRobinGroupChat([assistant], ...)   # module scope: one per worker\n"
        "@app.post(\"/chat\")\nasync def chat(body: Chat):\n"
        "    return await <<obj:team>>.run(task=body.message)   # every request drives it",
        "def build_team() -> RoundRobinGroupChat:\n"
        "    model_client = OpenAIChatCompletionClient(model=\"gpt-4o-mini\")\n"
        "    assistant = AssistantAgent(\"assistant\", model_client=model_client)\n"
        "    return RoundRobinGroupChat([assistant],\n"
        "                               termination_condition=MaxMessageTermination(6))\n\n"
        "@app.post(\"/chat\")\nasync def chat(body: Chat):\n"
        "    team = build_team()                 # per request\n"
        "    if state := await store.get(body.session_id):\n"
        "        await team.load_state(state)    # the session's context, from a store\n"
        "    result = await team.run(task=body.message)\n"
        "    await store.set(body.session_id, await team.save_state())\n"
        "    return result\n"
        "# or one team per session, each run under that session's asyncio.Lock"),
    ("shared-instance", PY, "crewai"): Fix(
        "<<obj:crew>> = Crew(agents=[analyst], tasks=[summarize])   # module scope\n"
        "@app.post(\"/summarize\")\nasync def summarize(body: Case):\n"
        "    return <<obj:crew>>.kickoff(inputs={\"case\": body.text})",
        "def build_crew() -> Crew:\n"
        "    analyst = Agent(role=\"Analyst\", goal=\"...\", backstory=\"...\")\n"
        "    task = Task(description=\"Summarize {case}\", expected_output=\"...\",\n"
        "                agent=analyst)\n"
        "    return Crew(agents=[analyst], tasks=[task])\n\n"
        "@app.post(\"/summarize\")\nasync def summarize(body: Case):\n"
        "    crew = build_crew()                             # a new crew per request\n"
        "    return await crew.akickoff(inputs={\"case\": body.text})\n"
        "    # akickoff: native async in current CrewAI; kickoff_async on older releases"),
    ("shared-instance", PY, "langgraph"): Fix(
        "graph = builder.compile()\nstate = {\"messages\": []}   # one state for every request\n"
        "async def chat(body):\n    state[\"messages\"].append(body.message)\n"
        "    return await graph.ainvoke(state)",
        "graph = builder.compile(checkpointer=checkpointer)   # a compiled graph is shareable\n"
        "async def chat(body):\n"
        "    config = {\"configurable\": {\"thread_id\": body.session_id}}  # state per thread\n"
        "    return await graph.ainvoke({\"messages\": [(\"user\", body.message)]}, config)\n"
        "# checkpointer: InMemorySaver() for one process; AsyncPostgresSaver for several workers"),
    ("shared-instance", PY, None): Fix(
        "<<obj>> = make_agent()        # module scope: one per worker process\n"
        "@app.post(\"/chat\")\nasync def chat(body: Chat):\n"
        "    return await <<obj>>.run(body.message)",
        "@app.post(\"/chat\")\nasync def chat(body: Chat):\n"
        "    agent = make_agent()      # per request (or per session, under an asyncio.Lock)\n"
        "    return await agent.run(body.message)"),
    ("shared-instance", JS, "langgraph"): Fix(
        "const agent = createAgent({ model, tools });\nconst messages = [];   // shared by all\n"
        "app.post(\"/chat\", async (req, res) => {\n  messages.push(req.body.message);\n"
        "  res.json(await agent.invoke({ messages }));\n});",
        "const agent = createAgent({ model, tools, checkpointer });  // shareable\n"
        "app.post(\"/chat\", async (req, res) => {\n"
        "  const out = await agent.invoke(\n"
        "    { messages: [{ role: \"user\", content: req.body.message }] },\n"
        "    { configurable: { thread_id: req.body.sessionId } });   // state per thread\n"
        "  res.json(out);\n});\n"
        "// checkpointer: new MemorySaver() for one process, PostgresSaver.fromConnString(url)\n"
        "// for several replicas (createReactAgent from @langchain/langgraph/prebuilt on older)"),
    ("shared-instance", JS, None): Fix(
        "const <<obj>> = makeAgent();   // module scope: one per process\n"
        "app.post(\"/chat\", async (req, res) => {\n"
        "  res.json(await <<obj>>.run(req.body.message));\n});",
        "app.post(\"/chat\", async (req, res) => {\n"
        "  const agent = makeAgent();   // per request (or one per session, runs queued)\n"
        "  res.json(await agent.run(req.body.message));\n});"),
    # ---- stale-module-state
    ("stale-module-state", PY, None): Fix(
        "<<obj>> = make_agent()   # module scope: survives warm invocations\n"
        "def handler(event, context):\n    return <<obj>>.run(event[\"message\"])",
        "def handler(event, context):\n"
        "    agent = make_agent()                       # per invocation\n"
        "    history = load_history(event[\"session_id\"])  # context from a store, per user\n"
        "    return agent.run(event[\"message\"], history)"),
    ("stale-module-state", JS, None): Fix(
        "export const <<obj>> = makeAgent();   // survives warm invocations",
        "export async function POST(req) {\n"
        "  const agent = makeAgent();   // per invocation; context from a store, per user\n"
        "  return Response.json(await agent.run((await req.json()).message));\n}"),
    # ---- parallel-run-same-session
    ("parallel-run-same-session", PY, None): Fix(
        "a, b = await asyncio.gather(agent.run(task=\"A\"), agent.run(task=\"B\"))  # one agent",
        "a = await agent.run(task=\"A\")\nb = await agent.run(task=\"B\")   # in sequence, or\n"
        "a, b = await asyncio.gather(make_agent().run(task=\"A\"), make_agent().run(task=\"B\"))"),
    ("parallel-run-same-session", JS, None): Fix(
        "const [a, b] = await Promise.all([agent.run(\"A\"), agent.run(\"B\")]);  // one agent",
        "const a = await agent.run(\"A\"); const b = await agent.run(\"B\");  // in sequence, or\n"
        "const [a, b] = await Promise.all([makeAgent().run(\"A\"), makeAgent().run(\"B\")]);"),
    # ---- reentrant-run
    ("reentrant-run", PY, None): Fix(
        "async def on_message(msg):\n"
        "    await team.run(task=\"Continue\")   # inside the team's own run",
        "follow_ups: list[str] = []\nasync def on_message(msg):\n"
        "    follow_ups.append(\"Continue\")        # only record it\n\n"
        "result = await team.run(task=task)\n"
        "while follow_ups:                       # after the run ended\n"
        "    result = await team.run(task=follow_ups.pop(0))"),
    ("reentrant-run", JS, None): Fix(
        "team.onMessage(async (msg) => { await team.run(\"Continue\"); });",
        "const followUps = [];\nteam.onMessage((msg) => { followUps.push(\"Continue\"); });\n"
        "let result = await team.run(task);\n"
        "while (followUps.length) result = await team.run(followUps.shift());  // after the run"),
    # ---- overlapping-timer
    ("overlapping-timer", PY, None): Fix(
        "while True:\n    asyncio.create_task(agent.run(task=\"Poll inbox\"))  # every tick\n"
        "    await asyncio.sleep(<<period>>)",
        "while True:\n"
        "    await agent.run(task=\"Poll inbox\")   # the next tick waits for this run\n"
        "    await asyncio.sleep(<<period>>)\n"
        "# APScheduler: scheduler.add_job(poll, \"interval\", seconds=<<period>>,\n"
        "#                                max_instances=1)"),
    ("overlapping-timer", JS, None): Fix(
        "setInterval(async () => { await agent.run(\"Poll inbox\"); }, <<period>> * 1000);",
        "async function tick() {\n  try { await agent.run(\"Poll inbox\"); }\n"
        "  finally { setTimeout(tick, <<period>> * 1000); }   // next run after this one ends\n}\n"
        "tick();"),
    # ---- shared-history
    ("shared-history", PY, "langgraph"): Fix(
        "<<obj>> = []   # module scope: every request appends\n"
        "async def chat(body):\n    <<obj>>.append((\"user\", body.message))\n"
        "    return await graph.ainvoke({\"messages\": <<obj>>})",
        "graph = builder.compile(checkpointer=checkpointer)\nasync def chat(body):\n"
        "    config = {\"configurable\": {\"thread_id\": body.session_id}}\n"
        "    return await graph.ainvoke({\"messages\": [(\"user\", body.message)]}, config)"),
    ("shared-history", PY, None): Fix(
        "<<obj>> = []   # module scope: every request appends\n"
        "async def chat(body):\n"
        "    <<obj>>.append({\"role\": \"user\", \"content\": body.message})",
        "async def chat(body):\n"
        "    history = await store.get(body.session_id) or []   # per session\n"
        "    history.append({\"role\": \"user\", \"content\": body.message})\n"
        "    ...\n    await store.set(body.session_id, history[-MAX_TURNS:])"),
    ("shared-history", JS, None): Fix(
        "const <<obj>> = [];   // module scope: every request pushes\n"
        "app.post(\"/chat\", async (req, res) => { <<obj>>.push(req.body.message); ... });",
        "app.post(\"/chat\", async (req, res) => {\n"
        "  const history = (await store.get(req.body.sessionId)) ?? [];   // per session\n"
        "  history.push({ role: \"user\", content: req.body.message });\n"
        "  ...\n  await store.set(req.body.sessionId, history.slice(-MAX_TURNS));\n});"),
    # ---- stateful-tool
    ("stateful-tool", PY, "crewai"): Fix(
        "class CaseTool(BaseTool):\n    def _run(self, customer_id: str) -> str:\n"
        "        self.customer_id = customer_id   # one tool object, concurrent crews",
        "class CaseTool(BaseTool):\n    def _run(self, customer_id: str) -> str:\n"
        "        return lookup(customer_id)       # use the argument; keep nothing on self\n"
        "# request data goes in through crew.kickoff(inputs={...}) / the task, not tool fields"),
    ("stateful-tool", PY, "autogen"): Fix(
        "tool.customer_id = body.customer_id   # shared tool object",
        "async def lookup_case(customer_id: str) -> str:   # the model passes the id\n"
        "    return await db.case_for(customer_id)\n"
        "case_tool = FunctionTool(lookup_case, description=\"Look up a customer's case\")"),
    ("stateful-tool", PY, None): Fix(
        "<<obj>>.customer_id = body.customer_id   # long-lived object, concurrent requests",
        "tool = CaseTool(customer_id=body.customer_id)   # per request, never mutated after\n"
        "# or pass the value as an argument of the call instead of a field"),
    ("stateful-tool", JS, None): Fix(
        "<<obj>>.customerId = req.body.customerId;   // long-lived object, concurrent requests",
        "const tool = new CaseTool(req.body.customerId);   // per request, never mutated\n"
        "// or pass the value as an argument of the call instead of a field"),
    # ---- in-memory-state
    ("in-memory-state", PY, "autogen"): Fix(
        "SESSIONS: dict[str, RoundRobinGroupChat] = {}   # one copy per worker process",
        "raw = await redis.get(f\"team:{sid}\")       # redis.asyncio.Redis.from_url(REDIS_URL)\n"
        "team = build_team()\nif raw:\n    await team.load_state(json.loads(raw))\n"
        "result = await team.run(task=message)\n"
        "await redis.set(f\"team:{sid}\", json.dumps(await team.save_state()))"),
    ("in-memory-state", PY, "langgraph"): Fix(
        "graph = builder.compile(checkpointer=InMemorySaver())   # per worker process",
        "async with AsyncPostgresSaver.from_conn_string(DB_URI) as checkpointer:\n"
        "    await checkpointer.setup()        # once\n"
        "    graph = builder.compile(checkpointer=checkpointer)   # every worker, one store\n"
        "# invoke with {\"configurable\": {\"thread_id\": session_id}}"),
    ("in-memory-state", PY, None): Fix(
        "<<obj>>: dict[str, dict] = {}   # module scope: each worker has its own copy",
        "state = json.loads(await redis.get(f\"wf:{wf_id}\") or \"{}\")   # shared by all workers\n"
        "...\nawait redis.set(f\"wf:{wf_id}\", json.dumps(state))\n"
        "# redis = redis.asyncio.Redis.from_url(REDIS_URL); versioned writes if two can race"),
    ("in-memory-state", JS, "langgraph"): Fix(
        "const agent = createAgent({ model, tools, checkpointer: new MemorySaver() });\n"
        "// MemorySaver lives in one process: each replica has its own copy",
        "const checkpointer = PostgresSaver.fromConnString(process.env.DATABASE_URL);\n"
        "await checkpointer.setup();\nconst agent = createAgent({ model, tools, checkpointer });\n"
        "// invoke with { configurable: { thread_id: sessionId } }"),
    ("in-memory-state", JS, None): Fix(
        "const <<obj>> = new Map();   // module scope: each process has its own copy",
        "const redis = createClient({ url: process.env.REDIS_URL }); await redis.connect();\n"
        "const state = JSON.parse((await redis.get(`wf:${id}`)) ?? \"{}\");\n"
        "...\nawait redis.set(`wf:${id}`, JSON.stringify(state));"),
    # ---- non-atomic-update
    ("non-atomic-update", PY, None): Fix(
        "cur = await store.get(wf_id)\ncur[\"step\"] += 1\n"
        "await store.set(wf_id, cur)   # last writer wins",
        "while True:                                   # compare-and-swap, then retry\n"
        "    cur = await store.get(wf_id)\n"
        "    nxt = {**cur, \"step\": cur[\"step\"] + 1, \"version\": cur[\"version\"] + 1}\n"
        "    if await store.set_if_version(wf_id, nxt, expected=cur[\"version\"]):\n"
        "        break\n"
        "# SQL: UPDATE wf SET state=$1, version=version+1 WHERE id=$2 AND version=$3\n"
        "# Redis: a WATCH/MULTI transaction, or INCR/HINCRBY for counters"),
    ("non-atomic-update", JS, None): Fix(
        "const cur = await store.get(id); cur.step += 1; await store.set(id, cur);",
        "for (;;) {                                    // compare-and-swap, then retry\n"
        "  const cur = await store.get(id);\n"
        "  const next = { ...cur, step: cur.step + 1, version: cur.version + 1 };\n"
        "  if (await store.setIfVersion(id, next, cur.version)) break;\n}\n"
        "// SQL: UPDATE wf SET state=$1, version=version+1 WHERE id=$2 AND version=$3\n"
        "// Redis: a WATCH/MULTI transaction, or INCR/HINCRBY for counters"),
    # ---- context-reset
    ("context-reset", PY, "autogen"): Fix(
        "team = build_team()\nreturn await team.run(task=body.message)   # starts from nothing",
        "team = build_team()\nif state := await store.get(body.session_id):\n"
        "    await team.load_state(state)\nresult = await team.run(task=body.message)\n"
        "await store.set(body.session_id, await team.save_state())"),
    ("context-reset", PY, "langgraph"): Fix(
        "graph = builder.compile()\nawait graph.ainvoke({\"messages\": [(\"user\", msg)]})",
        "graph = builder.compile(checkpointer=checkpointer)\n"
        "await graph.ainvoke({\"messages\": [(\"user\", msg)]},\n"
        "                    {\"configurable\": {\"thread_id\": session_id}})"),
    ("context-reset", PY, "crewai"): Fix(
        "build_crew().kickoff(inputs={\"question\": q})   # no earlier turns",
        "history = await store.get(session_id) or []\n"
        "out = await build_crew().akickoff(inputs={\"question\": q, \"history\": history})\n"
        "await store.set(session_id, history + [q, str(out)])"),
    ("context-reset", PY, None): Fix(
        "agent = make_agent()\nreturn await agent.run(body.message)   # starts from nothing",
        "history = await store.get(body.session_id) or []\n"
        "agent = make_agent(history)                  # load the session's turns first\n"
        "reply = await agent.run(body.message)\n"
        "await store.set(body.session_id, history + [body.message, reply])"),
    ("context-reset", JS, "langgraph"): Fix(
        "const agent = createAgent({ model, tools });\n"
        "await agent.invoke({ messages: [{ role: \"user\", content: msg }] });",
        "const agent = createAgent({ model, tools, checkpointer });\n"
        "await agent.invoke({ messages: [{ role: \"user\", content: msg }] },\n"
        "                   { configurable: { thread_id: sessionId } });"),
    ("context-reset", JS, None): Fix(
        "const agent = makeAgent();\nreturn agent.run(lastMessage);   // starts from nothing",
        "const history = (await store.get(sessionId)) ?? [];\n"
        "const agent = makeAgent(history);            // load the session's turns first\n"
        "const reply = await agent.run(lastMessage);\n"
        "await store.set(sessionId, [...history, lastMessage, reply]);"),
    # ---- upstream-rate-limit
    ("upstream-rate-limit", PY, "autogen"): Fix(
        "model_client = OpenAIChatCompletionClient(model=\"gpt-4o\")\n"
        "result = await team.run(task=msg)   # a 429 surfaces as a 500",
        "model_client = OpenAIChatCompletionClient(model=\"gpt-4o\", max_retries=5)  # backoff\n"
        "MODEL_SLOTS = asyncio.Semaphore(<<cap>>)   # per worker; <<cap_why>>\n"
        "async with MODEL_SLOTS:\n    result = await team.run(task=msg)"),
    ("upstream-rate-limit", PY, "crewai"): Fix(
        "crew = Crew(agents=[...], tasks=[...])   # no request budget",
        "crew = Crew(agents=[...], tasks=[...], max_rpm=60)   # the provider's budget\n"
        "CREW_SLOTS = asyncio.Semaphore(<<cap>>)   # <<cap_why>>\n"
        "async with CREW_SLOTS:\n    out = await crew.akickoff(inputs=inputs)"),
    ("upstream-rate-limit", PY, None): Fix(
        "client = AsyncOpenAI(max_retries=0)\nreply = await client.chat.completions.create(...)",
        "client = AsyncOpenAI(max_retries=5)    # 429/5xx retried with backoff\n"
        "MODEL_SLOTS = asyncio.Semaphore(<<cap>>)   # per worker; <<cap_why>>\n"
        "async with MODEL_SLOTS:\n    reply = await client.chat.completions.create(...)"),
    ("upstream-rate-limit", JS, "langchain"): Fix(
        "const model = new ChatOpenAI({ model: \"gpt-4o\" });",
        "const model = new ChatOpenAI({\n"
        "  model: \"gpt-4o\", maxRetries: 5, maxConcurrency: <<cap>> });\n"
        "// <<cap_why>>; maxConcurrency is per process"),
    ("upstream-rate-limit", JS, None): Fix(
        "const client = new OpenAI({ maxRetries: 0 });\n"
        "const reply = await client.chat.completions.create(req);",
        "const client = new OpenAI({ maxRetries: 5 });   // 429/5xx retried with backoff\n"
        "const limit = pLimit(<<cap>>);   // per process; <<cap_why>>\n"
        "const reply = await limit(() => client.chat.completions.create(req));"),
    # ---- unbounded-fanout
    ("unbounded-fanout", PY, None): Fix(
        "results = await asyncio.gather(*(run_agent(u) for u in users))   # all at once",
        "SLOTS = asyncio.Semaphore(5)\nasync def bounded(u):\n    async with SLOTS:\n"
        "        return await run_agent(u)\n"
        "results = await asyncio.gather(*(bounded(u) for u in users))   # 5 at a time"),
    ("unbounded-fanout", JS, None): Fix(
        "await Promise.all(users.map((u) => runAgent(u)));   // all at once",
        "const limit = pLimit(5);\n"
        "await Promise.all(users.map((u) => limit(() => runAgent(u))));   // 5 at a time"),
    # ---- tool-timeout
    ("tool-timeout", PY, None): Fix(
        "result = await <<tool>>(args)   # no deadline of its own; queues under load",
        "async with asyncio.timeout(15):            # the tool's own deadline (3.11+)\n"
        "    async with TOOL_SLOTS:                 # asyncio.Semaphore(<<cap>>): bound the queue\n"
        "        result = await <<tool>>(args)\n"
        "# retry the call on timeout a bounded number of times, and log tool + duration"),
    ("tool-timeout", JS, None): Fix(
        "const result = await <<tool>>(args);   // no deadline of its own; queues under load",
        "const limit = pLimit(<<cap>>);              // bound the queue in front of the tool\n"
        "const result = await limit(() =>\n"
        "  fetch(toolUrl, { signal: AbortSignal.timeout(15_000) }));   // its own deadline"),
    # ---- platform-timeout
    ("platform-timeout", PY, None): Fix(
        "@app.post(\"/research\")\nasync def research(body):\n"
        "    return await run_agent(body)   # outlives the ~<<ceiling_s>> s gateway limit",
        "@app.post(\"/research\", status_code=202)\n"
        "async def research(body, background_tasks: BackgroundTasks):\n"
        "    job_id = new_job_id()\n"
        "    background_tasks.add_task(run_and_store, job_id, body)   # finish after replying\n"
        "    return {\"job\": job_id}                 # the client polls GET /jobs/{job_id}"),
    ("platform-timeout", JS, None): Fix(
        "app.post(\"/research\", async (req, res) => {\n"
        "  res.json(await runAgent(req.body));   // outlives the ~<<ceiling_s>> s limit\n});",
        "app.post(\"/research\", async (req, res) => {\n"
        "  const job = await jobs.enqueue(req.body);   // your job queue; a worker runs it\n"
        "  res.status(202).json({ job: job.id });   // the client polls GET /jobs/:id\n});"),
    # ---- non-idempotent-side-effect
    ("non-idempotent-side-effect", PY, None): Fix(
        "await db.execute(\"INSERT INTO claims (policy_id, amount) VALUES ($1, $2)\", pid, amount)",
        "await db.execute(\n"
        "    \"INSERT INTO claims (idempotency_key, policy_id, amount) VALUES ($1, $2, $3)\"\n"
        "    \" ON CONFLICT (idempotency_key) DO NOTHING\", request_id, pid, amount)\n"
        "# one key per logical write, reused by every retry of it"),
    ("non-idempotent-side-effect", JS, None): Fix(
        "await pool.query(\"INSERT INTO claims (policy_id, amount) VALUES ($1, $2)\",\n"
        "                 [pid, amount]);",
        "await pool.query(\n"
        "  \"INSERT INTO claims (idempotency_key, policy_id, amount) VALUES ($1, $2, $3) \" +\n"
        "  \"ON CONFLICT (idempotency_key) DO NOTHING\", [requestId, pid, amount]);\n"
        "// one key per logical write, reused by every retry of it"),
    # ---- serialization
    ("serialization", PY, None): Fix(
        "await queue.publish(json.dumps({\"message\": msg, \"context\": request}))\n"
        "# <<type:the request object>> is not plain data",
        "await queue.publish(json.dumps({\"message\": msg, \"request_id\": request_id,\n"
        "                                \"user_id\": user_id}))   # ids and values only\n"
        "# pydantic models: model.model_dump(mode=\"json\")"),
    ("serialization", JS, None): Fix(
        "await queue.publish(JSON.stringify({ message, context: req }));\n"
        "// <<type:req>> is not plain data (circular)",
        "const payload = JSON.stringify({ message, requestId, userId });   // plain values\n"
        "await queue.publish(payload);"),
    # ---- version-mismatch
    ("version-mismatch", PY, None): Fix(
        "autogen-agentchat==0.4.7\nautogen-ext[openai]==0.3.1   # one family, two lines",
        "# requirements.txt: every package of the family on one version\n"
        "<<pinned_py>>"),
    ("version-mismatch", JS, None): Fix(
        "\"@autogen/core\": \"^0.4.0\", \"@autogen/openai\": \"^0.3.1\"",
        "npm install <<pinned_js>>   # one version for the family, then commit the lockfile"),
}
"""(cause, language, framework) -> broken/fixed. Looked up most specific first; a cause
with no language-specific entry keeps the catalogue's (language-neutral) text."""

NEUTRAL = frozenset({"oom", "probe-kill", "healthy", "inconclusive"})
"""Causes whose fix is configuration, not code: the same in every language."""


def _lookup(cause_id: str, lang: str, framework: str | None) -> Fix | None:
    for key in ((cause_id, lang, framework), (cause_id, lang, None)):
        if key in FIXES:
            return FIXES[key]
    if framework == "langgraph" and lang == NODE:
        return FIXES.get((cause_id, NODE, "langchain"))
    if framework == "langchain" and lang == NODE:
        return FIXES.get((cause_id, NODE, "langgraph"))
    return None


def _pinned(facts: Facts) -> None:
    pkgs = facts.slots.get("packages", "").split()
    version = facts.slots.get("version", "")
    if "pinned_js" in facts.slots or "pinned_py" in facts.slots:
        facts.slots.setdefault("pinned_js", "<each package of the family>@<one version>")
        facts.slots.setdefault("pinned_py", "# every package of the family at one version")
    elif pkgs and version:
        extras = {re.sub(r"\[.*", "", e): e for e in facts.slots.get("extras", "").split()}
        facts.slots["pinned_py"] = "\n".join(f"{extras.get(p, p)}=={version}" for p in pkgs)
        facts.slots["pinned_js"] = " ".join(f"{p}@{version}" for p in pkgs)
    else:
        facts.slots["pinned_py"] = ("# every package of the family at one version\n"
                                    "# (pip list | grep -i <family>, then pin them together)")
        facts.slots["pinned_js"] = "<each package of the family>@<one version>"


OOM_PROCESS_FIXES = {
    PYTHON: Fix(
        "transcripts[session_id].append(turn)   # module-level dict of lists, never trimmed",
        "transcripts[session_id] = deque(maxlen=MAX_TURNS)   # bounded per session\n"
        "# (and sessions evicted, or kept in a store, not in the worker)\n"
        "# gunicorn: recycle workers that still grow\n"
        "#   gunicorn -k uvicorn.workers.UvicornWorker --max-requests 1000 "
        "--max-requests-jitter 100\n"
        "# and a container/cgroup memory limit above the observed peak"),
    NODE: Fix(
        "const turns = new Map();   // module level, never evicted\n"
        "turns.get(sessionId).push(turn);",
        "const turns = new LRUCache({ max: 500 });   // from lru-cache: bounded, evicts\n"
        "turns.set(sessionId, [...(turns.get(sessionId) ?? []), turn].slice(-MAX_TURNS));\n"
        "// node --max-old-space-size=<about 75% of the container's memory, in MiB>"),
}
"""OOM without Kubernetes evidence (a worker killed in a cgroup, a V8 heap fatal): the
fix is in the process, in its language."""


def _oom_fix(facts: Facts, lang: str | None) -> Fix:
    """The OOM fix names the container's real limit; ``resources: {}`` appears only when
    the evidence says no limit is set. Without Kubernetes evidence it is the process's
    fix, in the service's language."""
    s = facts.slots
    if s.get("no_kube") and lang in OOM_PROCESS_FIXES:
        return OOM_PROCESS_FIXES[lang]
    limit = s.get("limit")
    v8 = s.get("v8_heap") == "yes"
    heap = ("\n# Node: keep the V8 heap under the limit, e.g. NODE_OPTIONS="
            "--max-old-space-size=<about 75% of limits.memory in MiB>") if v8 else ""
    if limit and limit != "none":
        peak = f"the observed peak ({s['peak']})" if s.get("peak") else "the observed peak"
        return Fix(
            f"# pod {s.get('pod')}, container {s.get('container')}: OOMKilled, "
            f"{s.get('restarts')} restart(s)\n"
            f"resources:\n  limits:\n    memory: {limit}   # below the working set",
            f"resources:\n  requests:\n    memory: {limit}\n  limits:\n"
            f"    memory: {s.get('limit_next')}   # was {limit}: raise limits.memory above "
            f"{peak}\n# and bound what grows: history per session, parallel work per "
            f"replica{heap}")
    if limit == "none":
        return Fix(
            f"# pod {s.get('pod')}, container {s.get('container')}: no memory limit\n"
            "resources: {}",
            "resources:\n  requests:\n    memory: 512Mi   # the measured working set\n"
            "  limits:\n    memory: 1Gi     # above the observed peak\n"
            f"# and bound what grows: history per session, parallel work per replica{heap}")
    return Fix(
        "# the container's memory limit is not in the evidence\n"
        "# (kubectl get pod -o yaml: spec.containers[].resources)",
        "resources:\n  limits:\n    memory: <above the observed peak>\n"
        f"# and bound what grows: history per session, parallel work per replica{heap}")


def _platform_lines(facts: Facts) -> list[str]:
    s = facts.slots
    limit = s.get("limit_s", "120")
    return {
        "nginx": [f"nginx: proxy_read_timeout {limit}s; in the location that proxies the "
                  "agent, if runs really take that long."],
        "vercel": [f"Vercel/Next.js: export const maxDuration = {limit} in the route, "
                   "within the plan's maximum."],
        "lambda": ["AWS Lambda: raise the function's timeout, or hand the run to a queue."],
        "envoy": [f"Envoy: raise the route's timeout (default 15 s) to {limit}s."],
    }.get(s.get("gateway", ""), [])


def tailor(case: Case, cause: RankedCause) -> RankedCause:
    """The cause with advice fitted to the case (unchanged when nothing is known).

    ``next_steps`` gains, first, which language and framework the fix is written for
    and why, then what the evidence names; the catalogue's steps follow. Evidence data
    can come from a saved case file, so it may hold any JSON: a shape this module does
    not expect leaves the catalogue's advice in place rather than failing the walk.
    """
    try:
        return _tailor(case, cause)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        return cause


def _tailor(case: Case, cause: RankedCause) -> RankedCause:
    base = cause.id.split("/", 1)[0]
    if base in ("healthy", "inconclusive"):
        return cause
    near = {ex.source for s in cause.supports for ex in s.examples}
    stack = detect_stack(case, near)
    facts = gather_facts(case, base, stack.language)
    steps: list[str] = []
    broken, fixed = cause.broken, cause.fixed

    if base == "oom":
        fix = _oom_fix(facts, stack.language)
        broken, fixed = fix.broken, fix.fixed
        if facts.slots.get("no_kube") and stack.language:
            steps.append(f"Fix written for {stack.label}, as the evidence shows: "
                         f"{stack.because()}.")
    elif base == "probe-kill":
        pass
    elif base not in NEUTRAL:
        if base == "version-mismatch":
            _pinned(facts)
        langs = [stack.language] if stack.language else [PYTHON, NODE]
        fixes = [(lang, _lookup(base, lang, stack.framework if stack.language else None))
                 for lang in langs]
        found = [(lang, f) for lang, f in fixes if f is not None]
        if len(found) == 1 and stack.language:
            f = found[0][1]
            broken = _for_server(_fill(f.broken, facts.slots), stack)
            fixed = _for_server(_fill(f.fixed, facts.slots), stack)
            steps.append(f"Fix written for {stack.label}, as the evidence shows: "
                         f"{stack.because()}.")
        elif found:
            why = ("the evidence shows both Python and Node.js (" + stack.because() + ")"
                   if stack.mixed else "the evidence does not show the service's language")
            steps.append(f"Fix given for Python and for Node.js: {why}.")
            broken = "\n\n".join(f"{_tag(lang)}\n{_fill(f.broken, facts.slots)}"
                                 for lang, f in found)
            fixed = "\n\n".join(f"{_tag(lang)}\n{_fill(f.fixed, facts.slots)}"
                                for lang, f in found)
        if facts.broken_code:
            broken = facts.broken_code
    if base == "platform-timeout":
        steps.extend(_platform_lines(facts))
    if facts.lines:
        steps.append("Seen here: " + " ".join(facts.lines))
    if not steps and (broken, fixed) == (cause.broken, cause.fixed):
        return cause
    return replace(cause, broken=broken, fixed=fixed,
                   next_steps=(*steps, *cause.next_steps))


FASTIFY_FORMS = (("(req, res) =>", "(req, reply) =>"),
                 ("res.status(202).json(", "reply.code(202).send("),
                 ("res.json(", "reply.send("))
"""express handler forms and their fastify equivalents (``reply.code``/``reply.send``)."""


def _for_server(code: str, stack: Stack) -> str:
    if stack.language == NODE and stack.server == "fastify":
        for a, b in FASTIFY_FORMS:
            code = code.replace(a, b)
    return code


def _tag(lang: str) -> str:
    return "# Python" if lang == PYTHON else "// Node.js / TypeScript"
