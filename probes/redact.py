"""Secret redaction for everything that leaves the machine: reports, bundles, excerpts.

Why a table of rules instead of one clever regex: each rule is a known shape of secret
(a bearer token, a JWT, a provider key prefix, a ``password=`` pair, a password inside a
URL), each is tested on its own with realistic inputs, and adding one is one line.

What is kept: the *name* of a secret (``api_key=***``), the user part of a URL
(``https://user:***@host``), and the first characters of a recognised token prefix
(``sk-***``), so an operator can still tell which credential was involved. What is lost:
the secret value itself. Redaction is idempotent: redacting twice gives the same text.

Limits: a secret with no recognisable shape and no secret-looking name next to it (a
bare random string in free text) is not found. That is the trade-off for not mangling
ids, hashes and digests that diagnosis needs (image digests, trace ids, pod uids).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

MASK = "***"
ENV_MASK = "***redacted***"

# Names whose values are secrets. Matched as a whole word part of a key or env name,
# case-insensitive: DB_PASSWORD, openaiApiKey, x-api-key, client_secret, AUTH_TOKEN.
# Session *ids* are not here: agent frameworks use them as conversation ids, which the
# analysis and its reports must show; web session secrets travel as cookies or tokens.
_SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|"
    r"private[-_]?key|credential|auth|session[-_]?(token|secret|key)|cookie|signature|dsn|"
    r"connection[-_]?string|conn[-_]?str)",
    re.IGNORECASE,
)
# Names that contain a secret word but hold no secret (sizes, paths, flags, kinds).
_NOT_SECRET_NAME = re.compile(
    r"([_-]?(path|file|dir|length|len|size|count|type|kind|enabled|expir\w*|ttl|"
    r"audience|endpoint|header|name|ref|mode|policy|seconds)$|^(author|authority)$|"
    r"tokens$|tokens?[_-]?(used|count|limit|total))",
    re.IGNORECASE,
)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _sub_keep_group1(pattern: str, flags: int = 0) -> _Rule:
    """A rule that keeps group 1 (the name or prefix) and masks the rest of the match."""
    return re.compile(pattern, flags), lambda m: m.group(1) + MASK


# Order matters: header and URL rules run before the generic token shapes so that
# "Authorization: Bearer eyJ..." becomes "Authorization: ***" once, not piecemeal.
_RULES: tuple[_Rule, ...] = (
    # Authorization / Proxy-Authorization headers, whatever the scheme.
    _sub_keep_group1(
        r"((?:proxy-)?authorization\s*[:=]\s*)(?!\*\*\*)[^\s,;\"'][^\r\n,;\"']*", re.I),
    # Cookie / Set-Cookie headers: every cookie of the header, not only the first
    # (session cookies have names like sid or JSESSIONID that do not look secret).
    _sub_keep_group1(r"\b((?:set-)?cookie\s*:\s*)(?!\*\*\*)[^\s\"'][^\r\n\"']*", re.I),
    # Bearer / Basic / Token credentials standing alone.
    _sub_keep_group1(r"\b((?:bearer|basic|token)\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]{8,}", re.I),
    # Passwords inside URLs: scheme://user:pass@host -> scheme://user:***@host
    _sub_keep_group1(r"([a-z][a-z0-9+.-]*://[^/\s:@]*:)(?!\*\*\*@)[^/\s@]+(?=@)", re.I),
    # JSON-like "key": "value" with a secret-looking key.
    (
        re.compile(
            r"(\"(?P<k>[A-Za-z0-9_.-]*)\"\s*:\s*\")(?P<v>(?:[^\"\\]|\\.)*)(\")"
        ),
        lambda m: (
            m.group(1) + MASK + m.group(4)
            if m.group("v") and not m.group("v").startswith(MASK) and is_secret_name(m.group("k"))
            else m.group(0)
        ),
    ),
    # The same with single quotes: Python dict reprs, {'password': 'hunter2'}, which
    # Python services log as often as JSON.
    (
        re.compile(r"('(?P<k>[A-Za-z0-9_.-]*)'\s*:\s*')(?P<v>(?:[^'\\]|\\.)*)(')"),
        lambda m: (
            m.group(1) + MASK + m.group(4)
            if m.group("v") and not m.group("v").startswith(MASK) and is_secret_name(m.group("k"))
            else m.group(0)
        ),
    ),
    # Kubernetes env entries serialised inside text (last-applied-configuration):
    # {"name":"DB_PASSWORD","value":"hunter2"}, the secret is in the *name* field.
    (
        re.compile(r"(\"name\"\s*:\s*\"(?P<k>[^\"]*)\"\s*,\s*\"value\"\s*:\s*\")"
                   r"(?P<v>(?:[^\"\\]|\\.)*)(\")"),
        lambda m: (
            m.group(1) + ENV_MASK + m.group(4)
            if m.group("v") and not m.group("v").startswith(MASK) and is_secret_name(m.group("k"))
            else m.group(0)
        ),
    ),
    # key=value / key: value pairs in text (env dumps, CLI args, logfmt, YAML); a quoted
    # value is masked whole, quotes kept.
    (
        re.compile(
            r"(?<![A-Za-z0-9_.])(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>\s*[=:]\s*)"
            r"(?P<v>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s\"',;&}]+)"
        ),
        lambda m: m.group(0) if not _masks_pair(m.group("k"), m.group("v")) else (
            m.group("k") + m.group("sep")
            + (m.group("v")[0] + MASK + m.group("v")[0] if m.group("v")[0] in "\"'" else MASK)
        ),
    ),
    # Secret-named command-line flags with a space: --password hunter2, --api-key X.
    _sub_keep_group1(
        r"(--[A-Za-z0-9-]*(?:password|passwd|token|secret|api-key|apikey)[A-Za-z0-9-]* +)"
        r"(?!\*\*\*)(?!-)\S+", re.I),
    # JWTs (three base64url parts, header starts with eyJ).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
     lambda m: "eyJ" + MASK),
    # Provider key prefixes: OpenAI/Anthropic sk-, GitHub, Slack, AWS, Google, Stripe, HF.
    _sub_keep_group1(r"\b(sk-(?:proj-|ant-(?:api\d\d-)?|live-|test-)?)[A-Za-z0-9_-]{16,}"),
    _sub_keep_group1(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}"),
    _sub_keep_group1(r"\b(github_pat_)[A-Za-z0-9_]{20,}"),
    _sub_keep_group1(r"\b(xox[abposr]-)[A-Za-z0-9-]{10,}"),
    _sub_keep_group1(r"\b((?:AKIA|ASIA))[A-Z0-9]{16}\b"),
    _sub_keep_group1(r"\b(AIza)[A-Za-z0-9_-]{35}\b"),
    _sub_keep_group1(r"\b((?:sk|rk|pk)_(?:live|test)_)[A-Za-z0-9]{16,}"),
    _sub_keep_group1(r"\b(hf_)[A-Za-z0-9]{30,}"),
    # PEM private key blocks.
    (re.compile(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?-----END \1-----", re.S),
     lambda m: f"-----BEGIN {m.group(1)}-----{MASK}-----END {m.group(1)}-----"),
)


def _masks_pair(name: str, value: str) -> bool:
    """Whether a name/value pair in text is a secret still to be masked."""
    bare = value.strip("\"'")
    return bool(bare) and not bare.startswith(MASK) and is_secret_name(name)


def is_secret_name(name: str) -> bool:
    """Whether a key / env / header name says its value is a secret."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def redact_text(text: str) -> str:
    """Mask every secret the rules recognise in free text; everything else is untouched."""
    if not text:
        return text
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text


def redact_env(name: str, value: str) -> str:
    """An environment value as it may be shown: masked when the name looks secret,
    otherwise with any embedded secret (a password in a DSN URL) masked."""
    if value and is_secret_name(name):
        return ENV_MASK
    return redact_text(value)


def redact_obj(obj: Any) -> Any:
    """A redacted deep copy of JSON-like data (dicts, lists, strings, scalars).

    Besides free text, it knows two structures: a mapping entry whose key looks secret
    (its string value is masked), and Kubernetes env lists ``[{"name": N, "value": V}]``
    (V masked when N looks secret). ``valueFrom`` references are kept: they name a
    Secret, they do not contain it.
    """
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, Mapping):
        name = obj.get("name")
        is_env_entry = isinstance(name, str) and "value" in obj and isinstance(obj["value"], str)
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            if is_env_entry and k == "value":
                out[k] = redact_env(str(name), v)
            elif isinstance(k, str) and isinstance(v, str) and v and is_secret_name(k):
                out[k] = ENV_MASK
            else:
                out[k] = redact_obj(v)
        return out
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj
