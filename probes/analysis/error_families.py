"""The error taxonomy: ONE table mapping error text to a family and the signal it supports.

Why a table: the strings come from real frameworks and platforms (AutoGen's "The team is
already running", Node's "Maximum call stack size exceeded", OpenAI's "Rate limit
reached", Vercel's FUNCTION_INVOCATION_TIMEOUT...), they change over time, and a reviewer
should be able to check each one against its source in one place. Every pattern is tested
with a real string in ``tests/test_analysis_errors.py``.

An error line may belong to several families (a wrapped "ReadTimeout ... 504 Gateway
Timeout"); each family counts it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from probes.events import ERROR as ERROR_LEVEL
from probes.events import EventKind, LogEvent


@dataclass(frozen=True, slots=True)
class ErrorFamily:
    """A family of errors: its name, the signal key it supports, and its pattern."""

    name: str
    signal: str
    pattern: re.Pattern[str]


def _family(name: str, signal: str, *alternatives: str) -> ErrorFamily:
    return ErrorFamily(name, signal, re.compile("|".join(alternatives), re.IGNORECASE))


ERROR_FAMILIES: tuple[ErrorFamily, ...] = (
    _family(
        "already_running", "errors.already_running",
        r"already running",  # AutoGen team; asyncio "This event loop is already running"
        r"cannot run again until it is stopped",
        r"another task is active",  # "Cannot run while another task is active"
        r"event loop is running",
        r"run (?:is )?already in progress",
        # PyO3 (HF tokenizers, other Rust-backed objects): a second caller borrowed an object
        # another caller still holds: RuntimeError "Already borrowed"
        r"Already (?:mutably )?borrowed",
    ),
    _family(
        "max_call_stack", "errors.max_call_stack",
        r"Maximum call stack size exceeded",  # V8 RangeError
        r"RecursionError",
        r"maximum recursion depth exceeded",
        r"too much recursion",  # Firefox/SpiderMonkey wording
    ),
    _family(
        "rate_limit", "errors.rate_limit",
        r"(?<![\w.])429(?![\w.]|\s*ms)",  # status 429, not "429ms" nor "1.429"
        r"rate[ _-]?limit",  # "Rate limit reached", "rate_limit_exceeded", RateLimitError
        r"Too Many Requests",
        r"(?<![\w.])503(?![\w.]|\s*ms)",
        r"Service Unavailable",
        r"overloaded",  # Anthropic "overloaded_error", "The server is overloaded"
        r"insufficient_quota",
    ),
    _family(
        "timeout", "errors.timeout",
        r"ETIMEDOUT", r"ESOCKETTIMEDOUT",
        r"AbortError", r"operation was aborted",
        # not Lambda's "Task timed out after" nor nginx's "upstream timed out (110: Connection
        # timed out)": the platform or proxy gave up, that is the platform family
        r"(?<!Task )(?<!upstream )(?<!\(110: Connection )timed out",
        r"TimeoutError", r"ReadTimeout", r"ConnectTimeout", r"ConnectTimeoutError",
        r"deadline exceeded", r"DEADLINE_EXCEEDED",
    ),
    _family(
        "platform_timeout", "latency.ceiling",
        r"FUNCTION_INVOCATION_TIMEOUT",  # Vercel
        r"Task timed out after",  # AWS Lambda
        r"(?<![\w.])504(?![\w.]|\s*ms)", r"Gateway Time-?out",
        r"(?<![\w.])502(?![\w.]|\s*ms)", r"Bad Gateway",
        r"upstream request timeout",  # Envoy
        r"upstream timed out",  # nginx error log
    ),
    _family(
        "duplicate_write", "errors.duplicate_write",
        r"duplicate key", r"already exists", r"E11000",
        r"UniqueViolation", r"unique constraint", r"UNIQUE constraint failed",
        r"409 Conflict", r"(?<![\w.])409(?![\w.]|\s*ms)", r"ConditionalCheckFailed",
    ),
    _family(
        "serialization", "errors.serialization",
        r"Converting circular structure to JSON",
        r"is not JSON serializable",  # Python json: "Object of type X is not JSON serializable"
        r"cyclic object value",
        r"Do not know how to serialize a BigInt",
        r"circular reference detected",
    ),
    _family(
        "version_mismatch", "errors.version_mismatch",
        r"is not a function",
        r"not initialized",
        r"cannot import name",
        r"has no attribute",
        r"ERR_REQUIRE_ESM",
        # TypeScript: two copies of one package in node_modules (a partner package built on
        # another core version): a class is "not derived" from its own twin
        r"is protected but type '[^']{1,300}' is not a class derived from",
        r"Types have separate declarations of a private property",
        r"Cannot find module",
        r"No module named",
        # dependency resolvers refusing a set of versions (pip, npm, setuptools, poetry)
        r"ResolutionImpossible",  # pip: "ERROR: ResolutionImpossible: for help visit ..."
        # pip's post-install check: "X 0.1 requires Y<0.2,>=0.1.7, but you have Y 0.2.1
        # which is incompatible." (newer pips drop the last three words)
        r"requires \S+, but you have \S+ \S+",
        r"conflicting dependencies",  # pip: "these package versions have conflicting ..."
        r"ERESOLVE",  # npm: "npm error code ERESOLVE", "ERESOLVE could not resolve"
        r"Conflicting peer dependency",  # npm
        r"unable to resolve dependency tree",  # npm
        r"VersionConflict",  # pkg_resources.VersionConflict
        r"version solving failed",  # poetry / pub
        r"The conflict is caused by",  # pip, above "X 1.0 depends on Y<0.2"
        # pip: "crewai 0.11.2 depends on langchain<0.2.0 and >=0.1.0"
        r"\S+ [\w.!+*-]+ depends on \S+ ?[<>=~!]",
    ),
    _family(
        "conflict", "errors.conflict",
        # A write lost a race and the store said so. Bare "409" stays with duplicate_write
        # above (a REST 409 is as often "already exists"); a 409 *status* joins the text as
        # "write conflict" (see _STATUS_WORDS) and lands here.
        r"version[ _]conflict",  # Elasticsearch version_conflict_engine_exception
        r"concurrent ?modification",  # Java ConcurrentModificationException, Azure
        r"could not serialize access",  # PostgreSQL 40001 under REPEATABLE READ/SERIALIZABLE
        r"SerializationFailure",  # psycopg.errors.SerializationFailure
        r"WatchError", r"Watched variable changed",  # redis-py WATCH/MULTI/EXEC
        r"WATCH\b.{0,80}\baborted", r"transaction (?:was )?aborted",
        r"write ?conflict",  # MongoDB WriteConflict
        r"OptimisticLock", r"StaleObjectState", r"StaleDataError",  # ORMs' version checks
        r"Precondition Failed",  # HTTP 412 on If-Match
        r"the object has been modified",  # Kubernetes 409 Conflict on update
    ),
    _family(
        "session_missing", "state.session_missing",
        # a request for a session the serving process does not know: the session lives in
        # another worker's memory (MCP SSE "Could not find session", a REST 404 on it)
        r"session (?:id )?not found", r"could not find session", r"no such session",
        r"unknown session", r"invalid session id", r"session \S{1,80} (?:not found|does not "
        r"exist|is unknown)", r"404 on a session path",
    ),
    _family(
        "socket_exhaustion", "errors.socket_exhaustion",
        r"EMFILE", r"too many open files",
        r"ECONNRESET", r"socket hang up",
        r"EADDRNOTAVAIL", r"ENOBUFS",
        r"Cannot assign requested address",
    ),
)

FAMILY_BY_NAME: dict[str, ErrorFamily] = {f.name: f for f in ERROR_FAMILIES}

_STATUS_WORDS = {429: "429 Too Many Requests", 502: "502 Bad Gateway",
                 503: "503 Service Unavailable", 504: "504 Gateway Timeout",
                 409: "write conflict (HTTP status)"}
"""Statuses that name a family on their own, turned into text so the table decides."""


_CACHE_SIZE = 1 << 14
_CACHE_TEXT = 512
_cache: dict[str, tuple[ErrorFamily, ...]] = {}
"""text -> families. Error lines repeat ("Team is already running a task" on every failed
run), and nine searches per line are the cost of an error, so short texts are
remembered (bounded: at most ``_CACHE_SIZE`` entries of at most ``_CACHE_TEXT``
characters; longer or later texts are searched every time)."""


def classify(text: str) -> tuple[ErrorFamily, ...]:
    """The families whose pattern occurs in ``text`` (table order, each once)."""
    if not text:
        return ()
    found = _cache.get(text)
    if found is None:
        found = tuple(f for f in ERROR_FAMILIES if f.pattern.search(text))
        if len(text) <= _CACHE_TEXT and len(_cache) < _CACHE_SIZE:
            _cache[text] = found
    return found


def is_error_event(ev: LogEvent) -> bool:
    """Whether an event reports a failure: error text, an ERROR kind, level >= error,
    or an HTTP status >= 500 (or 429/409, which name a family of their own)."""
    if ev.error or ev.kind is EventKind.ERROR:
        return True
    if ev.level is not None and ev.level >= ERROR_LEVEL:
        return True
    return ev.status is not None and (ev.status >= 500 or ev.status in _STATUS_WORDS)


def error_text(ev: LogEvent) -> str:
    """The text to classify: the error, the message and a known status in words.

    Only these parts, not the whole raw line: durations and ids elsewhere on the line
    would make numeric patterns (429, 504) fire by accident. An access line (``fields``
    holds ``access``, kind REQUEST_END) is classified by its status alone; a proxy's error
    line ("upstream timed out") by its text.
    """
    if ev.kind is EventKind.REQUEST_END and ev.fields and "access" in ev.fields:
        # An access line's message is the request line and its status in words ("POST
        # /counter HTTP/1.1" 409 Conflict): the status decides, not the words around it.
        parts = [ev.error] if ev.error and ev.error != ev.message else []
    else:
        parts = [p for p in (ev.error, ev.message) if p]
    if ev.status in _STATUS_WORDS:
        parts.append(_STATUS_WORDS[ev.status])
    return " | ".join(parts)
