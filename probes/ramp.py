"""The concurrency ramp: send the same request at rising concurrency and watch what breaks.

Why: the signature of a shared-instance fault is that one request at a time passes and
ten at a time fail. Logs only show it if the incident happened to produce the overlap;
the ramp produces it on demand, against a local or staging copy of the service, and
each request carries ``x-request-id: scaledoc-<level>-<n>`` so every result joins the
service's own log lines.

Safe by default:

* only loopback targets (``127.0.0.0/8``, ``::1``, ``localhost``) unless the caller sets
  ``allow_remote=True`` (the CLI's ``--yes``); proxies from the environment are ignored
  (``trust_env=False``), so traffic goes where the URL says and nowhere else;
* hard caps on total requests and total seconds: when one is hit the ramp stops and
  reports what ran;
* a cancel event or Ctrl-C (``KeyboardInterrupt``) stops it at once, in-flight requests
  included, and what ran is still reported (``data["stopped"]`` says why it stopped);
* a target that cannot be reached at all stops the ramp after its first level and sets
  ``Evidence.error`` (the CLI maps it to ``ExitCode.UNREACHABLE``).

Signals: ``errors.rise_with_concurrency``, ``errors.already_running``,
``errors.rate_limit``, ``errors.timeout`` (timeout text in error bodies),
``latency.ceiling`` and ``requests.failed`` (the symptom itself, from the levels'
counts); every YES points at the request ids and levels behind it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from probes.evidence import (
    Evidence,
    Example,
    InputReport,
    Signal,
    example,
    failed,
    no,
    now_utc,
    unknown,
    yes,
)
from probes.redact import is_secret_name, redact_text

NAME = "ramp"
REQUEST_ID_HEADER = "x-request-id"
SIGNAL_KEYS = frozenset({"errors.rise_with_concurrency", "errors.already_running",
                         "errors.rate_limit", "errors.timeout", "latency.ceiling",
                         "requests.failed"})

# --- thresholds ---------------------------------------------------------------------------
BASELINE_MAX_ERROR_RATE = 0.05
"""The lowest level 'passes' when at most this share of its requests fail."""
RISE_MIN_ERROR_RATE = 0.10
"""A higher level 'fails' when at least this share fails (and at least two requests)."""
RISE_MIN_FAILURES = 2
CEILING_MIN_FAILURES = 3
CEILING_MIN_SECONDS = 0.5
"""Fast failures (an immediate 500) cluster near zero; that is no timeout ceiling."""
CEILING_BAND = 0.05
"""Failures within +/- this share of their median duration belong to the cluster."""
CEILING_SHARE = 0.7
"""...and the cluster must hold at least this share of the slow failures."""
BODY_EXCERPT_CHARS = 300
MAX_BODY_BYTES = 64 * 1024
"""Bytes of each response body kept for error text; the rest is read and dropped."""
MAX_FAILED_IDS_PER_LEVEL = 10
MAX_EXAMPLES = 5

ERROR_TEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("errors.already_running", re.compile(
        r"already running|another task is active|cannot run while|"
        r"event loop (?:is )?already running|run is already in progress", re.I)),
    ("errors.rate_limit", re.compile(
        r"rate[ _-]?limit|too many requests|RateLimitError|quota exceeded|"
        r"insufficient_quota|\b429\b", re.I)),
    ("errors.timeout", re.compile(
        r"ETIMEDOUT|ESOCKETTIMEDOUT|AbortError|timed? ?out|TimeoutError|"
        r"deadline exceeded|ReadTimeout|ConnectTimeout", re.I)),
)
"""Which error-body text answers which signal: (signal key, pattern) rules."""

RATE_LIMIT_STATUSES = frozenset({429, 503})
GATEWAY_TIMEOUT_STATUSES = frozenset({504})


@dataclass
class RampPlan:
    """One ramp: what to send, at which concurrency levels, within which caps."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    body: bytes | None = None
    """Raw body; used when ``json_body`` is None."""
    levels: tuple[int, ...] = (1, 10, 25, 50)
    """Concurrency levels, run in order; each keeps this many requests in flight."""
    per_level: int = 40
    """Requests sent at each level."""
    timeout_s: float = 10.0
    """Per-request timeout (client side)."""
    max_requests: int = 2000
    max_seconds: float = 120.0
    allow_remote: bool = False
    """Allow a target outside loopback. Off by default: a ramp is a small load test."""


@dataclass
class _Result:
    """What happened to one request."""

    level: int
    n: int
    request_id: str
    latency_s: float
    status: int | None = None
    failure: str | None = None  # "timeout" | "connect_error" | "read_error" | "aborted" | ...
    message: str | None = None  # error text from the body or the exception (redacted)

    @property
    def aborted(self) -> bool:
        return self.failure == "aborted"

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def label(self) -> str:
        return str(self.status) if self.status is not None else str(self.failure)


@dataclass
class _Run:
    """Results gathered so far; lives outside the event loop so Ctrl-C keeps them."""

    results: list[_Result] = field(default_factory=list)
    levels_started: list[int] = field(default_factory=list)
    stopped: str | None = None
    started: float = field(default_factory=time.monotonic)
    progress_errors: int = 0


def loopback_host(url: httpx.URL) -> bool:
    """Whether the URL's host is a loopback address (or ``localhost``)."""
    host = url.host.strip("[]").lower()
    if host == "localhost":  # not "*.localhost": a resolver may send those anywhere
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plan(plan: RampPlan) -> tuple[httpx.URL | None, str | None]:
    """The plan's URL, or None and why the plan cannot run (bad URL, remote, bad caps)."""
    try:
        url = httpx.URL(plan.url)
    except (httpx.InvalidURL, TypeError) as exc:
        return None, f"bad URL {plan.url!r}: {exc}"
    if url.scheme not in ("http", "https") or not url.host:
        return None, f"bad URL {plan.url!r}: need http:// or https:// and a host"
    if not plan.allow_remote and not loopback_host(url):
        return None, (f"refused: {url.host} is not a loopback address; a ramp sends load, so "
                      "a target outside loopback needs --yes (allow_remote=True)")
    if not plan.levels or any(level < 1 for level in plan.levels):
        return None, "levels must be one or more positive integers"
    if plan.per_level < 1 or plan.max_requests < 1:
        return None, "per_level and max_requests must be at least 1"
    if plan.timeout_s <= 0 or plan.max_seconds <= 0:
        return None, "timeout and max_seconds must be positive"
    return url, None


def safe_url(url: httpx.URL) -> str:
    """The URL as it may be shown: no password, secret-looking query values masked."""
    return redact_text(str(url.copy_with(password=None) if url.password else url))


def run_ramp(plan: RampPlan, cancel: threading.Event | None = None,
             progress: Callable[[int, int], None] | None = None,
             transport: httpx.AsyncBaseTransport | None = None) -> Evidence:
    """Run the ramp and return its Evidence; never raises for expected failures.

    Blocking: it runs its own event loop (in a helper thread when the caller's thread
    already has one). ``progress(done, total)`` is called after every request.
    ``transport`` replaces the network (tests pass ``httpx.MockTransport``).
    """
    url, problem = check_plan(plan)
    if url is None:
        return failed(NAME, plan.url, problem or "bad plan")
    run = _Run()
    total = min(len(set(plan.levels)) * plan.per_level, plan.max_requests)
    coro_factory = lambda: _ramp(plan, run, cancel, progress, total, transport)  # noqa: E731
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            asyncio.run(coro_factory())
        except KeyboardInterrupt:
            run.stopped = "interrupted"
    else:  # called from async code: keep its loop free, run ours in a thread
        worker = threading.Thread(target=lambda: asyncio.run(coro_factory()), daemon=True)
        worker.start()
        worker.join()
    return _evidence(plan, url, run)


async def _ramp(plan: RampPlan, run: _Run, cancel: threading.Event | None,
                progress: Callable[[int, int], None] | None, total: int,
                transport: httpx.AsyncBaseTransport | None) -> None:
    deadline = run.started + plan.max_seconds
    headers = {k: v for k, v in plan.headers.items() if k.lower() != REQUEST_ID_HEADER}
    limits = httpx.Limits(max_connections=max(plan.levels),
                          max_keepalive_connections=max(plan.levels))
    async with httpx.AsyncClient(transport=transport, limits=limits, trust_env=False,
                                 follow_redirects=False, headers=headers) as client:
        for level in dict.fromkeys(plan.levels):  # a repeated level would repeat request ids
            if run.stopped:
                break
            run.levels_started.append(level)
            await _level(client, plan, run, level, cancel, progress, total, deadline)
            if run.results and all(r.failure == "connect_error" for r in run.results):
                run.stopped = run.stopped or "unreachable"


async def _level(client: httpx.AsyncClient, plan: RampPlan, run: _Run, level: int,
                 cancel: threading.Event | None, progress: Callable[[int, int], None] | None,
                 total: int, deadline: float) -> None:
    """Send ``per_level`` requests keeping ``level`` in flight; stop on any cap or cancel."""
    launched = 0
    in_flight: dict[asyncio.Task[None], tuple[int, float]] = {}

    def may_send() -> bool:
        if cancel is not None and cancel.is_set():
            run.stopped = run.stopped or "cancelled"
        elif len(run.results) + len(in_flight) >= plan.max_requests:
            run.stopped = run.stopped or "max_requests"
        elif time.monotonic() >= deadline:
            run.stopped = run.stopped or "max_seconds"
        return run.stopped is None

    async def one(n: int) -> None:
        request_id = f"scaledoc-{level}-{n}"
        started = time.monotonic()
        timeout = max(0.001, min(plan.timeout_s, deadline - started))
        result = await _send(client, plan, level, n, request_id, timeout)
        run.results.append(result)
        if progress is not None:
            try:
                progress(len(run.results), total)
            except Exception:  # a display callback must not break the ramp
                run.progress_errors += 1

    def launch() -> bool:
        nonlocal launched
        if launched >= plan.per_level or not may_send():
            return False
        launched += 1
        task = asyncio.create_task(one(launched))
        in_flight[task] = (launched, time.monotonic())
        return True

    while len(in_flight) < level and launch():
        pass
    try:
        while in_flight:
            done, _ = await asyncio.wait(in_flight, timeout=0.05,
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                in_flight.pop(task)
            stop_now = (cancel is not None and cancel.is_set()) or time.monotonic() >= deadline
            if stop_now:
                may_send()
                break
            while len(in_flight) < level and launch():
                pass
    finally:  # cancel, a cap, or Ctrl-C: abort what is still in flight and record it
        for task, (n, started) in in_flight.items():
            task.cancel()
            run.results.append(_Result(level, n, f"scaledoc-{level}-{n}",
                                       time.monotonic() - started, failure="aborted"))
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)


async def _send(client: httpx.AsyncClient, plan: RampPlan, level: int, n: int,
                request_id: str, limit_s: float) -> _Result:
    started = time.monotonic()
    kwargs: dict[str, Any] = {"headers": {REQUEST_ID_HEADER: request_id}, "timeout": limit_s}
    if plan.json_body is not None:
        kwargs["json"] = plan.json_body
    elif plan.body is not None:
        kwargs["content"] = plan.body
    try:
        async with client.stream(plan.method, plan.url, **kwargs) as response:
            body = await _read_capped(response)
    except httpx.TimeoutException as exc:
        return _Result(level, n, request_id, time.monotonic() - started, failure="timeout",
                       message=f"{type(exc).__name__} after {limit_s:g} s")
    except httpx.ConnectError as exc:
        return _Result(level, n, request_id, time.monotonic() - started,
                       failure="connect_error", message=redact_text(str(exc) or "connect error"))
    except httpx.RemoteProtocolError as exc:
        return _Result(level, n, request_id, time.monotonic() - started,
                       failure="protocol_error", message=redact_text(str(exc)))
    except httpx.TransportError as exc:
        return _Result(level, n, request_id, time.monotonic() - started,
                       failure="transport_error",
                       message=redact_text(f"{type(exc).__name__}: {exc}"))
    latency = time.monotonic() - started
    message = None
    if response.status_code >= 400:
        message = error_message(body.decode(response.encoding or "utf-8", errors="replace"))
    return _Result(level, n, request_id, latency, status=response.status_code, message=message)


async def _read_capped(response: httpx.Response) -> bytes:
    """The body up to ``MAX_BODY_BYTES``; the rest is drained unread (so latency counts
    the whole response) without holding a huge body in memory."""
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        if len(kept) < MAX_BODY_BYTES:
            kept.extend(chunk[: MAX_BODY_BYTES - len(kept)])
    return bytes(kept)


def error_message(body: str) -> str:
    """The error text of a response body: a JSON error field, else its first line."""
    text = body.strip()
    try:
        doc = json.loads(text) if text.startswith(("{", "[")) else None
    except (ValueError, RecursionError):  # a hostile body nested past the stack
        doc = None
    if isinstance(doc, dict):
        for key in ("error", "message", "detail", "err", "title"):
            value = doc.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("type") or json.dumps(value)
            if isinstance(value, list | tuple) and value:
                value = json.dumps(value[0]) if not isinstance(value[0], str) else value[0]
            if isinstance(value, str) and value:
                text = value
                break
    text = redact_text(text)  # redact first, cut after: a secret is seen whole
    first = text.splitlines()[0] if text else ""
    if len(first) > BODY_EXCERPT_CHARS:
        first = first[: BODY_EXCERPT_CHARS - 1] + "…"
    return first


# --- summaries and signals ------------------------------------------------------------------


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a real request)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 1)


def summarise_level(level: int, results: list[_Result]) -> dict[str, Any]:
    """The per-level row the front ends show (plain JSON values)."""
    counted = [r for r in results if not r.aborted]
    failed_ = [r for r in counted if not r.ok]
    latencies = sorted(r.latency_s for r in counted)
    messages: dict[str, dict[str, Any]] = {}
    for r in sorted(failed_, key=lambda r: r.n):
        if r.status is not None and r.status >= 500 and r.message:
            entry = messages.setdefault(r.message, {"message": r.message, "count": 0,
                                                    "status": r.status,
                                                    "first_request_id": r.request_id})
            entry["count"] += 1
    return {
        "level": level,
        "sent": len(results),
        "completed": len(counted),
        "aborted": len(results) - len(counted),
        "ok": len(counted) - len(failed_),
        "failed": len(failed_),
        "error_rate": round(len(failed_) / len(counted), 4) if counted else None,
        "statuses": dict(sorted(Counter(r.label for r in counted).items())),
        "latency_ms": {"p50": _ms(_percentile(latencies, 0.50)),
                       "p95": _ms(_percentile(latencies, 0.95)),
                       "max": _ms(latencies[-1] if latencies else math.nan)},
        "errors_5xx": sorted(messages.values(), key=lambda e: -int(e["count"])),
        "failed_request_ids": [r.request_id for r in sorted(failed_, key=lambda r: r.n)
                               ][:MAX_FAILED_IDS_PER_LEVEL],
    }


def _example(source: str, r: _Result, note: str = "") -> Example:
    what = f"HTTP {r.status}" if r.status is not None else str(r.failure)
    text = f"{what}: {r.message}" if r.message else what
    where = f"{REQUEST_ID_HEADER} {r.request_id}, concurrency {r.level}, {r.latency_s:.3f} s"
    return example(source, text=text, note=f"{where}; {note}" if note else where)


def ramp_signals(source: str, results: list[_Result], timeout_s: float) -> tuple[Signal, ...]:
    """Turn request results into the ramp's signals (pure: results in, signals out)."""
    counted = [r for r in results if not r.aborted]
    if not any(r.status is not None for r in counted):
        reason = ("no request got an HTTP response" if counted
                  else "no request completed before the ramp stopped")
        return tuple(unknown(k, NAME, reason) for k in sorted(SIGNAL_KEYS))
    return (
        _rise_with_concurrency(source, counted),
        *_text_signals(source, counted),
        _latency_ceiling(source, counted, timeout_s),
        _requests_failed(source, counted),
    )


FAILED_MIN = 3
FAILED_SHARE = 0.01
"""requests.failed: at least this many failed requests and this share of those sent (the
same rule as the log analysis)."""
ALONE_STRENGTH = 0.3
"""'Already running' at the lowest level, one request at a time: a bug that fails alone,
not requests colliding on a shared instance (weak, and not a symptom on its own: the
failures are, through requests.failed)."""


def _requests_failed(source: str, results: list[_Result]) -> Signal:
    key = "requests.failed"
    failed_ = [r for r in results if not r.ok]
    total = len(results)
    share = len(failed_) / total if total else 0.0
    by_level: dict[int, list[int]] = {}
    for r in results:
        row = by_level.setdefault(r.level, [0, 0])
        row[0] += 1
        row[1] += int(not r.ok)
    shape = ", ".join(f"{f}/{n} at {lv}" for lv, (n, f) in sorted(by_level.items()))
    data = {"failed": len(failed_), "total": total, "share": round(share, 4)}
    if len(failed_) >= FAILED_MIN and share >= FAILED_SHARE:
        exs = [_example(source, r) for r in sorted(failed_, key=lambda r: (r.level, r.n))
               [:MAX_EXAMPLES]]
        return yes(key, NAME, f"{len(failed_)} of {total} requests failed ({share:.1%}: "
                              f"{shape})", exs, value=len(failed_), data=data)
    return no(key, NAME, f"{len(failed_)} of {total} requests failed ({shape}): at most noise",
              value=len(failed_), data=data)


def _rise_with_concurrency(source: str, results: list[_Result]) -> Signal:
    key = "errors.rise_with_concurrency"
    by_level: dict[int, list[_Result]] = {}
    for r in results:
        by_level.setdefault(r.level, []).append(r)
    if len(by_level) < 2:
        return unknown(key, NAME, "only one concurrency level ran")
    rates = {lv: sum(not r.ok for r in rs) / len(rs) for lv, rs in sorted(by_level.items())}
    base_level = min(rates)
    base_rate = rates[base_level]
    peak_level = max((lv for lv in rates if lv != base_level), key=lambda lv: (rates[lv], -lv))
    peak_rate = rates[peak_level]
    peak_failed = [r for r in by_level[peak_level] if not r.ok]
    shape = ", ".join(f"{rate:.0%} at {lv}" for lv, rate in rates.items())
    data = {"error_rate_by_level": {str(lv): round(rate, 4) for lv, rate in rates.items()}}
    if base_rate > BASELINE_MAX_ERROR_RATE:
        return no(key, NAME, f"requests fail even at concurrency {base_level} ({shape}): "
                             "a fault that does not need concurrency", value=base_rate, data=data)
    if (peak_rate >= RISE_MIN_ERROR_RATE and len(peak_failed) >= RISE_MIN_FAILURES
            and peak_rate - base_rate >= RISE_MIN_ERROR_RATE):
        examples = [_example(source, r, f"{peak_rate:.0%} failed at concurrency {peak_level}, "
                                        f"{base_rate:.0%} at {base_level}")
                    for r in sorted(peak_failed, key=lambda r: r.n)[:MAX_EXAMPLES]]
        passing = next((r for r in by_level[base_level] if r.ok), None)
        if passing is not None:
            examples.append(_example(source, passing, "passes one at a time"))
        return yes(key, NAME, f"error rate rises with concurrency: {shape}", examples,
                   value=round(peak_rate, 4), data=data)
    return no(key, NAME, f"error rate stays flat across concurrency: {shape}",
              value=round(peak_rate, 4), data=data)


def _text_signals(source: str, results: list[_Result]) -> list[Signal]:
    """``errors.already_running`` / ``rate_limit`` / ``timeout`` from failed responses."""
    failed_responses = [r for r in results if r.status is not None and not r.ok]
    out = []
    for key, rule in ERROR_TEXT_RULES:
        hits = [r for r in failed_responses if r.message and rule.search(r.message)]
        if key == "errors.rate_limit":
            hits += [r for r in failed_responses
                     if r.status in RATE_LIMIT_STATUSES and r not in hits]
        if hits:
            hits.sort(key=lambda r: (r.level, r.n))
            levels = sorted({r.level for r in hits})
            detail = (f"{len(hits)} failed response(s) at concurrency "
                      f"{', '.join(map(str, levels))}")
            strength = 1.0
            single = [r for r in results if r.level == 1]
            alone = [r for r in hits if r.level == 1]
            if (key == "errors.already_running" and single
                    and len(alone) > BASELINE_MAX_ERROR_RATE * len(single)):
                # Collisions between requests need two in flight; at concurrency 1 the
                # run was started inside a running one by the request itself.
                strength = ALONE_STRENGTH
                detail += (f"; {len(alone)} of them at concurrency 1, one request at a time: "
                           "not requests colliding on a shared instance but a run started "
                           "inside a running one (a nested run_until_complete, a re-used "
                           "event loop)")
            out.append(yes(key, NAME, detail,
                           [_example(source, r) for r in hits[:MAX_EXAMPLES]], value=len(hits),
                           strength=strength))
        else:
            out.append(no(key, NAME, f"not in {len(failed_responses)} failed response(s)",
                          value=0))
    return out


def _latency_ceiling(source: str, results: list[_Result], timeout_s: float) -> Signal:
    key = "latency.ceiling"
    gateway = [r for r in results if r.status in GATEWAY_TIMEOUT_STATUSES]
    slow_failures = sorted((r for r in results if not r.ok and r.latency_s >= CEILING_MIN_SECONDS),
                           key=lambda r: r.latency_s)
    if len(slow_failures) >= CEILING_MIN_FAILURES:
        median = statistics.median(r.latency_s for r in slow_failures)
        band = [r for r in slow_failures if abs(r.latency_s - median) <= CEILING_BAND * median]
        if len(band) / len(slow_failures) >= CEILING_SHARE:
            ours = all(r.failure == "timeout" for r in band)
            note = (f"the client's own {timeout_s:g} s timeout: the service did not answer"
                    if ours else "a server or gateway limit")
            return yes(key, NAME, f"{len(band)} failing requests end at about {median:.2f} s "
                                  f"({note})",
                       [_example(source, r) for r in band[:MAX_EXAMPLES]],
                       value=round(median, 3), strength=0.7 if ours else 1.0)
    if gateway:
        return yes(key, NAME, f"{len(gateway)} gateway timeout response(s) (504)",
                   [_example(source, r) for r in gateway[:MAX_EXAMPLES]], value=len(gateway))
    return no(key, NAME, f"no cluster among {len(slow_failures)} slow failure(s), no 504s",
              value=len(slow_failures))


def _evidence(plan: RampPlan, url: httpx.URL, run: _Run) -> Evidence:
    shown = safe_url(url)
    by_level: dict[int, list[_Result]] = {lv: [] for lv in run.levels_started}
    for r in run.results:
        by_level.setdefault(r.level, []).append(r)
    levels = [summarise_level(lv, rs) for lv, rs in by_level.items()]
    elapsed = round(time.monotonic() - run.started, 3)
    error = None
    if run.stopped == "unreachable" or (
            run.results and all(r.failure == "connect_error" for r in run.results)):
        first = next((r.message for r in run.results if r.message), "connection refused")
        error = f"cannot reach {shown}: {first}"
    signals = () if error else ramp_signals(shown, run.results, plan.timeout_s)
    notes = [f"stopped: {run.stopped}"] if run.stopped else []
    if run.progress_errors:
        notes.append(f"the progress callback raised {run.progress_errors} time(s)")
    report = InputReport(name=shown, kind="ramp", format="http", events=len(run.results),
                         error=error or (f"stopped early: {run.stopped}" if run.stopped else None),
                         notes=tuple(notes))
    data = {
        "url": shown,
        "method": plan.method,
        "request_id_header": REQUEST_ID_HEADER,
        "request_id_format": "scaledoc-<level>-<n>",
        "headers": sorted(k if not is_secret_name(k) else f"{k} (redacted)"
                          for k in plan.headers),
        "plan": {"levels": list(plan.levels), "per_level": plan.per_level,
                 "timeout_s": plan.timeout_s, "max_requests": plan.max_requests,
                 "max_seconds": plan.max_seconds, "allow_remote": plan.allow_remote},
        "levels": levels,
        "sent": len(run.results),
        "elapsed_s": elapsed,
        "stopped": run.stopped,
    }
    return Evidence(probe=NAME, target=shown, signals=signals, inputs=(report,), error=error,
                    collected_at=now_utc(), data=data)
