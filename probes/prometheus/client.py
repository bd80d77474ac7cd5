"""The Prometheus HTTP API, read-only, with every failure returned as data.

Why its own client: the probe asks a handful of queries of a server that may be far away,
slow, behind an auth proxy, or one of the API's other speakers (Thanos, Mimir, Cortex,
VictoriaMetrics). Each call must come back within the probe's deadline with either a
result or the reason there is none, in words an on-call engineer can act on ("401: the
token was refused", "the server timed out the query"), never an exception into the UI.

* GET only, on the read endpoints the probe needs (``query``, ``query_range``,
  ``labels`` and ``label/<name>/values``); redirects are not followed (a login
  page is reported, not parsed). Metadata calls send ``limit`` (Prometheus 2.49+ caps
  the answer with it; older servers ignore it, and the byte cap below still holds).
* Retries with exponential backoff and jitter (tenacity) on 429 and on 502/503/504 that
  are not the server's own query timeout, honouring ``Retry-After``; a refused connection
  is not retried: an unreachable server is said at once, within the timeout.
* Every response is read as a stream and cut at ``max_bytes``: a result too large is
  reported as such, never loaded whole. Bodies are decoded by msgspec into typed structs
  (depth and shape fixed by the types), and sample values keep Prometheus's own spelling
  of NaN and infinities as floats.
* Credentials (bearer token, basic auth) go in headers only. ``PromAuth``'s repr hides
  them, URLs are shown without their userinfo, and error text from the server is
  redacted before it is kept.
"""

from __future__ import annotations

import math
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from probes.redact import redact_text

MAX_BYTES = 32 << 20
"""A response larger than this is cut and reported as too large."""
MAX_SERIES = 5_000
"""Series kept from one result; the rest are counted, not kept."""
ATTEMPTS = 3
"""Tries of one call that the server answered 429 or a transient 5xx."""
_BACKOFF = wait_random_exponential(multiplier=0.25, max=4.0)
"""Exponential backoff with full jitter (0.25 s, 0.5 s, ... up to 4 s), so replicas of a
busy server's clients do not retry in step; a Retry-After from the server wins when it is
longer."""


class Failure(msgspec.Struct, frozen=True):
    """Why a call has no result: ``kind`` is one of the constants below."""

    kind: str
    message: str
    status: int | None = None


UNREACHABLE = "unreachable"
FORBIDDEN = "forbidden"
TIMEOUT = "timeout"
TOO_LARGE = "too large"
BAD_QUERY = "bad query"
SERVER_ERROR = "server error"
BAD_RESPONSE = "not the Prometheus API"
CANCELLED = "cancelled"
OUT_OF_TIME = "out of time"


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a result: its labels and its samples as (unix seconds, value)."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def last(self) -> float:
        return self.points[-1][1] if self.points else math.nan


@dataclass(frozen=True, slots=True)
class Result:
    """What one query gave: series, or the failure; ``dropped`` counts series over the
    cap (the result is then partial and says so)."""

    promql: str
    series: tuple[Series, ...] = ()
    failure: Failure | None = None
    dropped: int = 0
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class PromAuth:
    """How to authenticate: a bearer token, or basic auth, and a CA bundle for TLS."""

    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None

    def __repr__(self) -> str:  # never the secrets themselves
        parts = []
        if self.bearer_token:
            parts.append("bearer_token=<hidden>")
        if self.username:
            parts.append(f"username={self.username!r}, password=<hidden>")
        if self.ca_file:
            parts.append(f"ca_file={self.ca_file!r}")
        return f"PromAuth({', '.join(parts)})"

    @property
    def kind(self) -> str:
        return "bearer token" if self.bearer_token else (
            "basic auth" if self.username else "no credentials")


def display_url(url: str) -> str:
    """The URL as it may be shown: without user, password, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unparsable URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be a Prometheus base URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not parts.hostname:
        return "the URL has no host"
    if parts.query or parts.fragment:
        return "the URL must be the server's base URL, without ?query or #fragment"
    return None


class _Envelope(msgspec.Struct):
    status: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")  # a Raw cannot sit in a union
    errorType: str | None = None  # noqa: N815 - the API's own key
    error: str | None = None
    warnings: list[str] = []


class _Sample(msgspec.Struct, array_like=True):
    t: float
    v: str


class _Series(msgspec.Struct):
    metric: dict[str, str] = {}
    value: _Sample | None = None
    values: list[_Sample] | None = None


class _Matrix(msgspec.Struct):
    resultType: str  # noqa: N815
    result: msgspec.Raw


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_MATRIX = msgspec.json.Decoder(_Matrix)
_SERIES_LIST = msgspec.json.Decoder(list[_Series])
_SCALAR = msgspec.json.Decoder(_Sample)
_STRINGS = msgspec.json.Decoder(list[str])


class _Retry(Exception):
    """A transient answer (429, or 502/503/504 that is not a query timeout)."""

    def __init__(self, failure: Failure, wait_s: float | None) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.wait_s = wait_s


class _Stop(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _value(text: str) -> float:
    """A sample value as Prometheus writes it ("1.5", "NaN", "+Inf", "-Inf")."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _retry_after(headers: httpx.Headers) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, min(float(raw), 30.0))
    except ValueError:
        return None  # an HTTP date: the backoff decides


class PromClient:
    """Calls to one Prometheus-compatible server, each bounded by the client's deadline."""

    def __init__(self, url: str, auth: PromAuth | None = None, *, timeout_s: float = 10.0,
                 deadline_s: float = 60.0, max_bytes: int = MAX_BYTES,
                 max_series: int = MAX_SERIES, cancel: threading.Event | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.shown = display_url(self.url)
        self.auth = auth or PromAuth()
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + deadline_s
        self.max_bytes = max_bytes
        self.max_series = max_series
        self.cancel = cancel or threading.Event()
        self.calls = 0
        headers = {"Accept": "application/json", "User-Agent": "scaledoc"}
        if self.auth.bearer_token:
            headers["Authorization"] = f"Bearer {self.auth.bearer_token}"
        verify: ssl.SSLContext | bool = True
        if self.auth.ca_file:
            verify = ssl.create_default_context(cafile=self.auth.ca_file)
        basic = (httpx.BasicAuth(self.auth.username, self.auth.password or "")
                 if self.auth.username else None)
        self._http = httpx.Client(headers=headers, auth=basic, verify=verify,
                                  follow_redirects=False, trust_env=False,
                                  transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PromClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ endpoints

    def query(self, promql: str, at: float) -> Result:
        """``/api/v1/query``: an instant vector (or scalar) at unix time ``at``."""
        return self._result(promql, "/api/v1/query", {"query": promql, "time": _ts(at)})

    def query_range(self, promql: str, start: float, end: float, step: float) -> Result:
        """``/api/v1/query_range``: a matrix from ``start`` to ``end`` every ``step`` s."""
        return self._result(promql, "/api/v1/query_range",
                            {"query": promql, "start": _ts(start), "end": _ts(end),
                             "step": f"{step:g}"})

    def label_values(self, name: str, match: Sequence[str], start: float, end: float
                     ) -> list[str] | Failure:
        """``/api/v1/label/<name>/values``, restricted to series ``match`` selects."""
        return self._names(f"/api/v1/label/{name}/values", match, start, end)

    def labels(self, match: Sequence[str], start: float, end: float) -> list[str] | Failure:
        """``/api/v1/labels``: the label names of the series ``match`` selects."""
        return self._names("/api/v1/labels", match, start, end)

    def _names(self, path: str, match: Sequence[str], start: float, end: float
               ) -> list[str] | Failure:
        got = self._call(path, {"match[]": list(match), "start": _ts(start), "end": _ts(end),
                                "limit": self.max_series})
        if isinstance(got, Failure):
            return got
        try:
            return _STRINGS.decode(got[0])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return Failure(BAD_RESPONSE, f"unexpected answer: {exc}")

    # ------------------------------------------------------------------ plumbing

    def _result(self, promql: str, path: str, params: dict[str, Any]) -> Result:
        t0 = time.monotonic()
        got = self._call(path, params)
        took = time.monotonic() - t0
        if isinstance(got, Failure):
            return Result(promql, failure=got, seconds=took)
        data, warnings = got
        try:
            doc = _MATRIX.decode(data)
            if doc.resultType in ("scalar", "string"):  # [t, "v"]
                series: list[_Series] = [_Series(value=_SCALAR.decode(doc.result))]
            else:
                series = _SERIES_LIST.decode(doc.result)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return Result(promql, failure=Failure(BAD_RESPONSE, f"unexpected result: {exc}"),
                          seconds=took)
        kept = series[: self.max_series]
        out = tuple(
            Series(s.metric, tuple((p.t, _value(p.v)) for p in s.values) if s.values is not None
                   else ((s.value.t, _value(s.value.v)),) if s.value is not None else ())
            for s in kept)
        return Result(promql, out, dropped=len(series) - len(kept),
                      warnings=tuple(redact_text(w) for w in warnings), seconds=took)

    def _call(self, path: str, params: dict[str, Any]
              ) -> tuple[msgspec.Raw, list[str]] | Failure:
        """One GET with its retries; the envelope's data, or the failure."""
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = _BACKOFF(state)
            if isinstance(exc, _Retry) and exc.wait_s is not None:
                backoff = max(backoff, exc.wait_s)
            return min(backoff, max(0.0, self.deadline - time.monotonic()))

        retrying = Retrying(stop=stop_after_attempt(ATTEMPTS), wait=wait,
                            retry=retry_if_exception_type(_Retry), reraise=True,
                            sleep=self._sleep)
        try:
            return retrying(self._once, path, params)
        except _Retry as exc:
            return exc.failure
        except _Stop as exc:
            return exc.failure

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise _Stop(Failure(CANCELLED, "cancelled"))

    def _once(self, path: str, params: dict[str, Any]) -> tuple[msgspec.Raw, list[str]]:
        if self.cancel.is_set():
            raise _Stop(Failure(CANCELLED, "cancelled"))
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise _Stop(Failure(OUT_OF_TIME, "the probe's deadline passed before this query"))
        timeout = min(self.timeout_s, left)
        self.calls += 1
        try:
            with self._http.stream("GET", self.url + path, params=params,
                                   timeout=httpx.Timeout(timeout)) as resp:
                body = self._read(resp)
                status, headers = resp.status_code, resp.headers
        except httpx.ConnectTimeout:
            raise _Stop(Failure(UNREACHABLE, f"no answer within {timeout:g} s (connect "
                                             "timeout)")) from None
        except httpx.ConnectError as exc:
            raise _Stop(Failure(UNREACHABLE, f"cannot connect: {_reason(exc)}")) from None
        except httpx.TimeoutException:
            raise _Stop(Failure(TIMEOUT, f"no answer within {timeout:g} s (read timeout)"))\
                from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retry(Failure(SERVER_ERROR, f"connection broken: {_reason(exc)}"),
                         None) from None
        except httpx.HTTPError as exc:
            raise _Stop(Failure(UNREACHABLE, _reason(exc))) from None
        return self._answer(status, headers, body)

    def _read(self, resp: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _Stop(Failure(TOO_LARGE, f"the answer is larger than "
                                               f"{self.max_bytes >> 20} MiB: narrow the "
                                               "selector or the window", resp.status_code))
            chunks.append(chunk)
            if self.cancel.is_set():
                raise _Stop(Failure(CANCELLED, "cancelled"))
        return b"".join(chunks)

    def _answer(self, status: int, headers: httpx.Headers, body: bytes
                ) -> tuple[msgspec.Raw, list[str]]:
        env: _Envelope | None
        try:
            env = _ENVELOPE.decode(body) if body.lstrip()[:1] == b"{" else None
        except (msgspec.DecodeError, msgspec.ValidationError):
            env = None
        said = redact_text((env.error or "")[:300]) if env is not None else ""
        if status in (301, 302, 303, 307, 308):
            where = display_url(headers.get("location", ""))
            raise _Stop(Failure(FORBIDDEN, f"redirected to {where}: a login page or auth "
                                           "proxy in front of the API?", status))
        if status == 401:
            raise _Stop(Failure(FORBIDDEN, f"401 Unauthorized: the server wants credentials "
                                           f"(sent: {self.auth.kind})", status))
        if status == 403:
            raise _Stop(Failure(FORBIDDEN, "403 Forbidden: the credentials sent "
                                           f"({self.auth.kind}) may not read this API"
                                           + (f": {said}" if said else ""), status))
        if env is not None and env.errorType in ("timeout", "canceled"):
            raise _Stop(Failure(TIMEOUT, f"the server timed out the query ({status}"
                                         + (f": {said}" if said else "") + ")", status))
        if status == 429 or status in (502, 503, 504):
            raise _Retry(Failure(SERVER_ERROR, f"{status} from the server after {ATTEMPTS} "
                                               "tries" + (f": {said}" if said else ""), status),
                         _retry_after(headers))
        if env is None:
            hint = (": is this the server's base URL (like http://prometheus:9090, without "
                    "/graph or /api)?" if status == 404 else "")
            raise _Stop(Failure(BAD_RESPONSE, f"HTTP {status}, and the body is not the "
                                              f"Prometheus API's JSON{hint}", status))
        if env.status != "success" or bytes(env.data) == b"null":
            kind = BAD_QUERY if env.errorType == "bad_data" or status == 400 else SERVER_ERROR
            raise _Stop(Failure(kind, f"{env.errorType or 'error'} ({status})"
                                      + (f": {said}" if said else ""), status))
        return env.data, env.warnings


def _ts(t: float) -> str:
    return f"{t:.3f}"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return redact_text(text[:200])


__all__ = ["Failure", "PromAuth", "PromClient", "Result", "Series", "check_url",
           "display_url"]
