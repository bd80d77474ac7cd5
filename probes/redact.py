"""Secret redaction for everything that leaves the machine: reports, bundles, excerpts.

Why tables of rules instead of one clever regex: each rule is a known shape of secret
(a bearer token, a JWT, a provider key prefix, a ``password=`` pair, a password inside a
URL), each is tested on its own with realistic inputs, and adding one is one line.
Provider key shapes come from two tables:

* the shapes that detect-secrets' maintainers keep (its plugins' regexes, vendored as
  data in ``probes/vendor/detect_secrets/`` with their licence and source: Apache-2.0,
  detect-secrets 1.5.0), so that a new provider format is a data update, not our guess;
* ``_OWN_PREFIXES`` for what that table lacks: the keys of LLM and agent-tool providers
  (Anthropic, Groq, LangSmith, Tavily, ...), Sentry, Vault, DigitalOcean, Google OAuth.

Rules that need context stay our own: ``name=value`` pairs in every quoting a log line
can carry (bare, quoted, single-quoted, JSON-escaped inside a JSON string), headers,
URL credentials, PEM blocks (masked to the end of the text when their END line is
missing), and an AWS secret key next to its key id.

What is kept: the *name* of a secret (``api_key=***``), the user part of a URL
(``https://user:***@host``), and the first characters of a recognised token prefix
(``sk-***``), so an operator can still tell which credential was involved. What is lost:
the secret value itself. Redaction is idempotent: redacting twice gives the same text.

Speed: most text holds no secret. Every rule has a trigger: lowercase needles (a
secret word, a provider prefix, ``://``) that any match of the rule contains, or for the
few shapes without a fixed word (Twilio's AC/SK + 32 hex, Telegram, Discord) a pattern
that starts with a literal. ``_is_candidate`` lowers the text once and searches it with
one pattern: the needles as a trie (``a(?:uth|ws)|b(?:asic|earer)|...``, which ``re``
walks about twice as fast as a loop of ``in`` tests) and a key ``sig`` with its
separator (a SAS signature: the bare needle "sig" is in every "assigned", so every
pod's Scheduled event went through every rule); then the shapes, as one alternation.
Text with none is returned untouched. On the rest only the rules whose own trigger is
in the text run (``_redact_triggered``), in ``_redact_all``'s order; a rule that masks
something has the triggers looked for again in what it left. Why triggers and not one
union regex of the rules: Python's ``re`` tries every branch of an alternation at every
position, and the union of the rules' patterns took 6 s on 8,000 log lines where the
needles take 0.02 s. Tests check each rule's trigger against every corpus text the rule
changes, and that neither step changes any output (``tests/test_redact_triggers.py``).

Limits: a secret with no recognisable shape and no secret-looking name next to it (a
bare random string in free text) is not found. That is the trade-off for not mangling
ids, hashes and digests that diagnosis needs (image digests, trace ids, pod uids).
Text cut *before* it reaches here may hold the start of a secret too short to have its
shape any more: callers redact first and cut after (``probes.evidence.example`` does).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

MASK = "***"
ENV_MASK = "***redacted***"

# Names whose values are secrets. Matched as a whole word part of a key or env name,
# case-insensitive: DB_PASSWORD, openaiApiKey, x-api-key, client_secret, AUTH_TOKEN,
# Azure's AccountKey and SharedAccessKey, a SAS URL's sig.
# Session *ids* are not here: agent frameworks use them as conversation ids, which the
# analysis and its reports must show; web session secrets travel as cookies or tokens.
_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|"
    r"private[-_]?key|account[-_]?key|shared[-_]?access[-_]?(?:key|signature)|credential|"
    r"auth|session[-_]?(?:token|secret|key)|cookie|signature|dsn|"
    r"connection[-_]?string|conn[-_]?str"
)
_SECRET_NAME = re.compile(rf"({_SECRET_WORDS}|^sig$)", re.IGNORECASE)
# Names that contain a secret word but hold no secret (sizes, paths, flags, kinds).
_NOT_SECRET_NAME = re.compile(
    r"([_-]?(path|file|dir|length|len|size|count|type|kind|enabled|expir\w*|ttl|"
    r"audience|endpoint|header|name|ref|mode|policy|seconds)$|^(author|authority)$|"
    r"tokens$|tokens?[_-]?(used|count|limit|total))",
    re.IGNORECASE,
)


_Replace = Callable[[re.Match[str]], str]
_Trigger = tuple[tuple[str, ...], tuple[str, ...]]
_Rule = tuple[str, re.Pattern[str], _Replace, _Trigger]
"""(name, pattern, replacement, trigger); the trigger is (needles, shapes): lowercase
strings one of which is in any text the pattern matches, or literal-led patterns."""


def _keep1(m: re.Match[str]) -> str:
    return m.group(1) + MASK


def _rule(name: str, pattern: str, needles: tuple[str, ...], flags: int = 0,
          replace: _Replace = _keep1, shapes: tuple[str, ...] = ()) -> _Rule:
    """A rule; by default it keeps group 1 (the name or prefix) and masks the rest."""
    return name, re.compile(pattern, flags), replace, (needles, shapes)


# --------------------------------------------------------------------------- PEM blocks

_PEM = re.compile(
    r"(?P<begin>-{4,5} ?BEGIN (?P<label>(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?) ?-{4,5})"
    r".*?(?P<end>-{4,5} ?END (?P=label) ?-{4,5}|\Z)", re.S)


def _pem(m: re.Match[str]) -> str:
    """BEGIN marker, mask, END marker; with no END line (the text was cut, or the key
    was logged across lines) everything after BEGIN is masked."""
    return m.group("begin") + MASK + m.group("end")


# --------------------------------------------------------------------------- name=value

# A key and its separator. Matches do not take the value, so a harmless pair's value is
# searched too: in "env dump: OPENAI_API_KEY=..." the key "dump" is not secret, and the
# search goes on inside its value and finds OPENAI_API_KEY. The key may be quoted,
# JSON-escaped quotes included ({\"client_secret\": \"...\"} inside a JSON string).
_KEY = re.compile(
    r"(?<![A-Za-z0-9_.])(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)(?P<q>\\{0,3}[\"']?)"
    r"(?P<sep>[ \t]*(?::=|=>|[=:])[ \t]*)")
# The value after the separator: quoted with escaped quotes (\"...\"), quoted, single-
# quoted (an unterminated quote: masked to the end of the line, the text was cut), or
# bare up to a delimiter. A value that opens an object or a list is not a value: the
# search goes on inside it.
_VALUE = re.compile(
    r"(?P<open>\\{1,3}\")(?P<v1>(?:(?!(?P=open)).)*)(?P<c1>(?P=open)|(?=\n)|\Z)"
    r"|(?P<dq>\")(?P<v2>(?:[^\"\\\n]|\\.)*)(?P<c2>\"|(?=\n)|\Z)"
    r"|(?P<sq>')(?P<v3>(?:[^'\\\n]|\\.)*)(?P<c3>'|(?=\n)|\Z)"
    r"|(?P<v4>(?![{\[])[^\s\"',;&}\\]+)")


def _pairs(text: str) -> str:
    """Mask the value of every secret-named ``key=value`` / ``key: value`` pair."""
    out: list[str] = []
    pos = 0  # text[:pos] is decided
    for km in _KEY.finditer(text):
        if km.start() < pos or not is_secret_name(km.group("k")):
            continue
        vm = _VALUE.match(text, km.end())
        if vm is None:
            continue
        masked = _masked_value(vm)
        if masked is None:
            continue
        out.append(text[pos:vm.start()])
        out.append(masked)
        pos = vm.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_QUOTES = ((1, "open"), (2, "dq"), (3, "sq"))


def _masked_value(vm: re.Match[str]) -> str | None:
    """The masked form of a matched value (quotes kept), or None: empty, already masked."""
    for i, quote in _QUOTES:
        value = vm.group(f"v{i}")
        if value is not None:
            if not value or value.startswith(MASK):
                return None
            return vm.group(quote) + MASK + vm.group(f"c{i}")
    value = vm.group("v4")
    return None if not value or value.startswith(MASK) else MASK


def _env_entry(m: re.Match[str]) -> str:
    if m.group("v") and not m.group("v").startswith(MASK) and is_secret_name(m.group("k")):
        return m.group("head") + ENV_MASK + m.group("tail")
    return m.group(0)


def _aws_pair(m: re.Match[str]) -> str:
    return m.group(1)[:4] + MASK + m.group(2) + MASK


_AWS = ("akia", "asia", "abia", "acca")
_GITLAB = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-", "glptt-",
           "glagent-", "gloas-", "glffct-", "glfeed-", "gldct-")
_TWILIO = (r"AC[0-9a-f]{32}", r"SK[0-9a-f]{32}")

# Token prefixes that the vendored table lacks, each with the shape after the prefix.
# Sources: the issuers' documentation of their key formats (and gitleaks' rule table,
# MIT, for the same shapes).
_OWN_PREFIXES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (name, prefix regex (kept), body regex (masked), needles)
    ("openai/anthropic/openrouter", r"sk-(?:proj-|ant-(?:api\d\d-|admin\d\d-)?|live-|test-|"
     r"or-v1-|svcacct-)?", r"[A-Za-z0-9_-]{16,}", ("sk-",)),
    ("github", r"gh[pousr]_", r"[A-Za-z0-9]{20,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    ("github fine-grained", r"github_pat_", r"[A-Za-z0-9_]{20,}", ("github_pat_",)),
    ("slack", r"xox[abposre]-", r"[A-Za-z0-9-]{10,}", ("xox",)),
    ("slack app", r"xapp-", r"[A-Za-z0-9-]{10,}", ("xapp-",)),
    ("google api", r"AIza", r"[A-Za-z0-9_-]{35}", ("aiza",)),
    ("google oauth secret", r"GOCSPX-", r"[A-Za-z0-9_-]{20,}", ("gocspx-",)),
    ("google oauth token", r"ya29\.", r"[A-Za-z0-9_-]{20,}", ("ya29.",)),
    ("stripe", r"(?:sk|rk|pk|whsec)_(?:live|test)_", r"[A-Za-z0-9]{16,}", ("_live_", "_test_")),
    ("stripe webhook", r"whsec_", r"[A-Za-z0-9]{24,}", ("whsec_",)),
    ("hugging face", r"hf_", r"[A-Za-z0-9]{30,}", ("hf_",)),
    ("gitlab", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas|ffct|feed|dct)-",
     r"[A-Za-z0-9_-]{20,}", _GITLAB),
    ("sendgrid", r"SG\.", r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", ("sg.",)),
    ("twilio", r"(?:SK|AC)", r"[0-9a-f]{32}", ()),
    ("sentry", r"sntry[su]_", r"[A-Za-z0-9+/=_]{30,}", ("sntry",)),
    ("groq", r"gsk_", r"[A-Za-z0-9]{40,}", ("gsk_",)),
    ("langsmith", r"lsv2_(?:pt|sk)_", r"[0-9a-f]{32}(?:_[0-9a-f]{10})?", ("lsv2_",)),
    ("tavily", r"tvly-(?:dev-|prod-)?", r"[A-Za-z0-9]{24,}", ("tvly-",)),
    ("pinecone", r"pcsk_", r"[A-Za-z0-9_-]{40,}", ("pcsk_",)),
    ("replicate", r"r8_", r"[A-Za-z0-9]{30,}", ("r8_",)),
    ("digitalocean", r"do[opr]_v1_", r"[0-9a-f]{64}", ("_v1_",)),
    ("databricks", r"dapi", r"[0-9a-f]{32}(?:-\d)?", ("dapi",)),
    ("vault", r"hv[sbr]\.", r"[A-Za-z0-9_-]{24,}", ("hvs.", "hvb.", "hvr.")),
    ("shopify", r"shp(?:at|ss|ca|pa)_", r"[0-9a-fA-F]{32}",
     ("shpat_", "shpss_", "shpca_", "shppa_")),
    ("npm", r"npm_", r"[A-Za-z0-9]{36}", ("npm_",)),
    ("pypi", r"pypi-", r"AgE[A-Za-z0-9_-]{50,}", ("pypi-",)),
    ("aws key id", r"(?:AKIA|ASIA|ABIA|ACCA)", r"[A-Z0-9]{16}", _AWS),
)

# Order matters: header, URL and pair rules run before the generic token shapes so that
# "Authorization: Bearer eyJ..." becomes "Authorization: ***" once, not piecemeal; PEM
# blocks run first, so a key inside a JSON value is masked even when the value is cut.
_RULES: tuple[_Rule, ...] = (
    ("pem", _PEM, _pem, (("begin ",), ())),
    # PuTTY key files: the Private-Lines block, up to its MAC.
    _rule("putty", r"(Private-Lines: *\d+)(?!\*\*\*).*?(?=Private-(?:MAC|Hash):|\Z)",
          ("private-lines",), re.S),
    # Authorization / Proxy-Authorization headers, whatever the scheme.
    _rule("authorization",
          r"((?:proxy-)?authorization\\{0,3}[\"']?\s*[:=]\s*)(?!\*\*\*)[^\s,;\"'\\]"
          r"[^\r\n,;\"'\\]*", ("authorization",), re.I),
    # Cookie / Set-Cookie headers: every cookie of the header, not only the first
    # (session cookies have names like sid or JSESSIONID that do not look secret).
    _rule("cookie", r"\b((?:set-)?cookie\s*:\s*)(?!\*\*\*)[^\s\"'][^\r\n\"'\\]*",
          ("cookie",), re.I),
    # Bearer / Basic / Token credentials standing alone.
    _rule("bearer", r"\b((?:bearer|basic|token)\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]{8,}",
          ("bearer", "basic", "token"), re.I),
    # Passwords inside URLs: scheme://user:pass@host -> scheme://user:***@host
    # The scheme starts where no scheme character precedes: else every position inside
    # a long run of letters starts a scan to its end (quadratic on a 1 MB line).
    _rule("url password", r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^/\s:@]*:)(?!\*\*\*@)"
          r"[^/\s@]+(?=@)",
          ("://",), re.I),
    # A URL whose user part alone is a key: Sentry DSNs (https://KEY@o1.ingest.sentry.io),
    # tokens in git remotes (https://ghp_...@github.com).
    _rule("url token", r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)(?!\*\*\*@)"
          r"[A-Za-z0-9_.~%-]{16,}(?=@)",
          ("://",), re.I),
    # Kubernetes env entries serialised inside text (last-applied-configuration), also
    # JSON-escaped: {"name":"DB_PASSWORD","value":"hunter2"}; the secret is in *name*.
    ("env entry", re.compile(
        r"(?P<head>(?P<e>\\{0,3})\"name(?P=e)\"\s*:\s*(?P=e)\"(?P<k>[^\"\\]*)(?P=e)\"\s*,"
        r"\s*(?P=e)\"value(?P=e)\"\s*:\s*(?P=e)\")(?P<v>(?:(?!(?P=e)\").)*)"
        r"(?P<tail>(?P=e)\")"), _env_entry, (('"value',), ())),
    # AWS: a secret access key standing next to its key id (a credentials dump).
    _rule("aws pair",
          r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b([^\r\n]{0,40}?)(?<![A-Za-z0-9/+=])"
          r"(?!\*\*\*)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", _AWS,
          replace=_aws_pair),
    # Secret-named command-line flags with a space: --password hunter2, --api-key X.
    _rule("flag",
          r"(--[A-Za-z0-9-]*(?:password|passwd|token|secret|api-key|apikey)[A-Za-z0-9-]* +)"
          r"(?!\*\*\*)(?!-)\S+", ("pass", "token", "secret", "api-key", "apikey"), re.I),
    # JWTs (three base64url parts, header starts with eyJ).
    _rule("jwt", r"\b(eyJ)[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}", ("eyj",)),
    *(_rule(name, rf"(?<![A-Za-z0-9])({prefix})(?!\*\*\*){body}(?![A-Za-z0-9])",
            needles, shapes=() if needles else _TWILIO)
      for name, prefix, body, needles in _OWN_PREFIXES),
)

# Pairs run after the env entries and before the shapes. Their needles: every spelling
# of the secret words of ``_SECRET_WORDS`` (a key holds one of them); a key that is
# exactly ``sig`` (a SAS URL's signature) by its shape, a key then its separator as
# ``_KEY`` takes them: the needle "sig" alone is in every "assigned" (each pod's
# Scheduled event), and it sent them all through every rule.
_PAIR_NEEDLES = ("pass", "pwd", "secret", "token", "apikey", "api_key", "api-key",
                 "accesskey", "access_key", "access-key", "privatekey", "private_key",
                 "private-key", "accountkey", "account_key", "account-key", "sharedaccess",
                 "shared_access", "shared-access", "credential", "auth", "sessionkey",
                 "session_key", "session-key", "cookie", "signature", "dsn", "connectionstring",
                 "connection_string", "connection-string", "connstr", "conn_str", "conn-str")
# Searched in the lowered text: the key's letters and everything after them are ASCII,
# so lowering keeps them (and the character before the key, which lowering may change,
# is not looked at: a superset of _KEY's matches).
_PAIR_SIG = r"sig\\{0,3}[\"']?[ \t]*[:=]"


# --------------------------------------------------------------------------- vendored

_VENDOR = Path(__file__).with_name("vendor") / "detect_secrets" / "shapes.json"
# Plugins of the vendored table not used, and why.
_VENDOR_SKIP = {
    "ip_public": "an IP address is not a secret, and diagnosis needs it",
    "private_key": "its rules match the BEGIN marker only; the PEM rule masks the block",
}
# Triggers of the vendored plugins (see _Trigger). A plugin not listed here (a later
# table) is triggered by its own patterns: correct, only slower.
_KEYWORDS = ("key", "pwd", "pw", "pass", "token")
_VENDOR_TRIGGERS: dict[str, _Trigger] = {
    "artifactory": ((), (r"AKC[a-zA-Z0-9]{10}", r"AP[\dABCDEF][a-zA-Z0-9]{8}")),
    "aws": ((*_AWS, "a3t", "aws"), ()),
    "azure_storage_key": (("accountkey=",), ()),
    "basic_auth": (("://",), ()),
    "cloudant": ((*_KEYWORDS, "cloudant"), ()),
    "discord": ((), (r"\.[a-zA-Z\d_-]{6}\.",)),
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), ()),
    "gitlab_token": ((*_GITLAB, "gr1348941"), ()),
    "ibm_cloud_iam": (_KEYWORDS, ()),
    "ibm_cos_hmac": (("secret",), ()),
    "jwt": (("eyj",), ()),
    "mailchimp": (("-us",), ()),
    "npm": (("_authtoken",), ()),
    "openai": (("t3blbkfj",), ()),
    "pypi_token": (("pypi-",), ()),
    "sendgrid": (("sg.",), ()),
    "slack": (("xox", "hooks.slack.com"), ()),
    "softlayer": ((*_KEYWORDS, "softlayer"), ()),
    "square_oauth": (("sq0csp-",), ()),
    "stripe": (("k_live_",), ()),
    "telegram_token": ((), (r":[0-9A-Za-z_-]{35}",)),
    "twilio": ((), _TWILIO),
}
# Rewrites of vendored patterns that backtrack without bound on hostile text (the
# table was written for lines of source files, we run it on megabyte log lines): the
# keyword rules' separator " *(=|:| +|...) *" split n spaces O(n^2) ways (a line of
# "password" and 50,000 spaces ran for minutes), and npm's "//.+/:_authToken" scanned
# to the end of the line from every "//". Same matches on real text (the corpus tests
# them); ``tests/test_secrets_corpus.py`` times both shapes.
_VENDOR_REWRITES = (
    (r"(?: *)(?:=|:|:=|=>| +|::)(?: *)", r"(?> *(?:=|:|:=|=>| +|::) *)"),
    (r"\/\/.+\/:_authToken=", r"(?<![^\s\"'=])\/\/\S+?\/:_authToken="),
    # openai's unanchored "sk-[...]*" rescanned the line from every "sk-" inside it.
    (r"sk-[A-Za-z0-9-_]*", r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9-_]*"),
)
# Where a vendored match starts or ends with a delimiter it needed, that is kept.
_EDGE = " \t=:\"'"


def _literal_prefix(pattern: str) -> str:
    """The literal text a pattern starts with (``SG\\.`` -> ``SG.``): what a masked
    match keeps, as the own rules keep ``sk-``. Never a drawn character of the secret."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "./-_:=":
            out.append(pattern[i + 1])
            i += 2
        elif ch.isalnum() or ch in "-_=/:@":
            out.append(ch)
            i += 1
        else:
            break
    # A quantifier after the last literal makes it optional or repeated: drop it.
    if i < len(pattern) and pattern[i] in "?*{" and out:
        out.pop()
    return "".join(out)


def _vendor_replace(group: int, keep: str) -> _Replace:
    def replace(m: re.Match[str]) -> str:
        start, end = m.span(group)
        if start < 0:
            return m.group(0)
        secret = m.string[start:end]
        lead = len(secret) - len(secret.lstrip(_EDGE))
        trail = len(secret) - len(secret.rstrip(_EDGE))
        core = secret[lead:len(secret) - trail]
        if not core or MASK in core:
            return m.group(0)
        masked = (keep if keep and group == 0 and core.startswith(keep) else "") + MASK
        out = m.group(0)
        a, b = start - m.start() + lead, end - m.start() - trail
        return out[:a] + masked + out[b:]
    return replace


def _load_vendored() -> tuple[tuple[_Rule, ...], str]:
    """The vendored rules, and where they came from; a missing or broken table leaves
    the own rules in force and says so in ``VENDORED_SOURCE`` (never an exception)."""
    try:
        doc = json.loads(_VENDOR.read_text(encoding="utf-8"))
        rules = []
        for r in doc["rules"]:
            if r["plugin"] in _VENDOR_SKIP:
                continue
            flags = (re.I if r["ignorecase"] else 0) | (re.X if r["verbose"] else 0)
            source = r["pattern"]
            for old, new in _VENDOR_REWRITES:
                source = source.replace(old, new)
            pattern = re.compile(source, flags)
            scoped = ("i" if r["ignorecase"] else "") + ("x" if r["verbose"] else "")
            own = f"(?{scoped}:{source})" if scoped else source  # its flags kept
            trigger = _VENDOR_TRIGGERS.get(r["plugin"], ((), (own,)))
            rules.append((f"detect-secrets {r['plugin']}", pattern,
                          _vendor_replace(int(r["secret_group"]), _literal_prefix(r["pattern"])),
                          trigger))
        return tuple(rules), str(doc["source"])
    except (OSError, ValueError, KeyError, TypeError, re.error) as exc:
        return (), f"not loaded: {type(exc).__name__}: {exc}"


VENDORED_RULES, VENDORED_SOURCE = _load_vendored()

_PAIRS_AFTER = next(i for i, r in enumerate(_RULES) if r[0] == "env entry")


def _steps() -> tuple[tuple[str, Callable[[str], str], _Trigger], ...]:
    """Every rule in the order ``_redact_all`` applies them, the pairs step included:
    (name, apply, trigger)."""
    out: list[tuple[str, Callable[[str], str], _Trigger]] = []
    for i, (name, pattern, replace, trigger) in enumerate(_RULES):
        out.append((name, partial(pattern.sub, replace), trigger))
        if i == _PAIRS_AFTER:
            out.append(("pairs", _pairs, (_PAIR_NEEDLES, ())))
    out.extend((name, partial(pattern.sub, replace), trigger)
               for name, pattern, replace, trigger in VENDORED_RULES)
    return tuple(out)


_STEPS = _steps()
_PAIRS_STEP = next(i for i, step in enumerate(_STEPS) if step[0] == "pairs")


def _index(part: int) -> dict[str, list[int]]:
    """needle (``part`` 0) or shape (1) -> the steps it triggers."""
    out: dict[str, list[int]] = {}
    for i, step in enumerate(_STEPS):
        for key in step[2][part]:
            out.setdefault(key, []).append(i)
    return out


# A step with no trigger at all (none today) would always run.
_BY_NEEDLE = _index(0)
_BY_SHAPE = _index(1)
_ALWAYS = frozenset(i for i, (_, _, (n, s)) in enumerate(_STEPS) if not n and not s)
_NEEDLE_STEPS = tuple((n, frozenset(ix)) for n, ix in _BY_NEEDLE.items())
_SHAPE_STEPS = tuple((re.compile(s), frozenset(ix)) for s, ix in _BY_SHAPE.items())
_SIG_KEY = re.compile(_PAIR_SIG)
# The shapes (case-sensitive, each led by a literal or a class) in one pass.
_SHAPES = re.compile("|".join(f"(?:{s})" for s in _BY_SHAPE)) if _BY_SHAPE else None


def _alternation(words: list[str]) -> str:
    """A regex matching any of ``words``, as a trie ("a(?:uth|ws)|b(?:asic|earer)"):
    ``re`` tries an alternation's branches one by one at each position, so sharing
    prefixes is what makes one pattern beat a loop of ``in`` tests."""
    if "" in words:
        return ""  # a shorter word ends here: finding it is enough
    first: dict[str, list[str]] = {}
    for word in words:
        first.setdefault(word[0], []).append(word[1:])
    parts = [re.escape(ch) + _alternation(rest) for ch, rest in sorted(first.items())]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


# The pre-check, one pass over the lowered text: every needle, and a key "sig".
_CANDIDATE = re.compile(_alternation(list(_BY_NEEDLE)) + "|" + _PAIR_SIG)


def _is_candidate(text: str) -> bool:
    """Whether any rule could match: a needle or a key "sig" in the lowered text, or
    a shape in the text."""
    if _ALWAYS or _CANDIDATE.search(text.lower()):
        return True
    return _SHAPES is not None and _SHAPES.search(text) is not None


def _triggered(text: str) -> set[int]:
    """The steps whose trigger is in ``text``: the only ones that can change it."""
    low = text.lower()
    todo = set(_ALWAYS)
    for needle, steps in _NEEDLE_STEPS:
        if needle in low:
            todo |= steps
    for shape, steps in _SHAPE_STEPS:
        if shape.search(text):
            todo |= steps
    if _SIG_KEY.search(low):
        todo.add(_PAIRS_STEP)
    return todo


def _masks_pair(name: str, value: str) -> bool:
    """Whether a name/value pair in text is a secret still to be masked."""
    bare = value.strip("\"'")
    return bool(bare) and not bare.startswith(MASK) and is_secret_name(name)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a key / env / header name says its value is a secret (cached: the same
    keys come back in every pod and every log line)."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.search(name)


def redact_text(text: str) -> str:
    """Mask every secret the rules recognise in free text; everything else is untouched."""
    if not text:
        return text
    if len(text) <= _SHORT:
        return _redact_short(text)
    return _redact_triggered(text) if _is_candidate(text) else text


_SHORT = 256


@lru_cache(maxsize=16384)
def _redact_short(text: str) -> str:
    """Short strings repeat (image names, env names, reasons in 10,000 pods): cached."""
    return _redact_triggered(text) if _is_candidate(text) else text


def _redact_triggered(text: str) -> str:
    """The rules whose trigger is in the text, in ``_redact_all``'s order; the others
    cannot match it. A rule that changes the text (a mask) has the triggers looked for
    again in what it left, for the rules after it."""
    todo = sorted(_triggered(text))
    while todo:
        step = todo.pop(0)
        new = _STEPS[step][1](text)
        if new != text:
            text = new
            todo = sorted(i for i in _triggered(text) if i > step)
    return text


def _redact_all(text: str) -> str:
    """Every rule, without the pre-check (the tests compare it with ``redact_text``)."""
    for _, apply, _ in _STEPS:
        text = apply(text)
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


NON_FINITE_NOTE = "json_note"
"""Top-level key added to a JSON document in which NaN or Infinity became null."""


def finite(obj: Any) -> tuple[Any, int]:
    """A copy of JSON-like data with NaN and ±Infinity as None, and how many there were
    (JSON has no such numbers: ``json.dumps`` would write ``NaN``, which no parser
    reads)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None, 1
    if isinstance(obj, Mapping):
        total = 0
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            out[k], n = finite(v)
            total += n
        return out, total
    if isinstance(obj, list | tuple):
        items = [finite(v) for v in obj]
        return [v for v, _ in items], sum(n for _, n in items)
    return obj, 0


def json_out(obj: Any, *, indent: int | None = 2, ensure_ascii: bool = True) -> str:
    """THE way a JSON document leaves scaledoc (stdout, a file, a bundle member):
    redacted (``redact_obj``) and strict (``strict_json``)."""
    return strict_json(redact_obj(obj), indent=indent, ensure_ascii=ensure_ascii)


def strict_json(obj: Any, *, indent: int | None = 2, ensure_ascii: bool = True,
                compact: bool = False) -> str:
    """JSON with ``allow_nan=False``: non-finite numbers become null, and a top-level
    ``json_note`` says how many, so a reader is never handed ``NaN`` nor silently a
    different number. For documents already redacted (the report's ``to_json``);
    ``compact`` gives one NDJSON line."""
    doc, bad = finite(obj)
    if bad and isinstance(doc, dict):
        doc[NON_FINITE_NOTE] = (f"{bad} non-finite number(s) (NaN/Infinity) written as "
                                "null: JSON has no such numbers")
    if compact:
        return json.dumps(doc, ensure_ascii=ensure_ascii, separators=(",", ":"),
                          allow_nan=False)
    return json.dumps(doc, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
