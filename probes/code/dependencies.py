"""Dependency probe: packages of one framework family at versions that do not fit.

Reads ``package.json``, ``package-lock.json``, ``pnpm-lock.yaml``, ``yarn.lock``,
``requirements*.txt``, ``pyproject.toml``, ``poetry.lock`` and ``uv.lock`` line by
line (every package is reported with its file:line, which a data loader would lose).
Four checks:

* lockstep families (``FAMILIES``: packages released together, like ``@autogen/*`` or
  ``autogen-agentchat``/``autogen-core``/``autogen-ext``) whose entries in one file
  allow no common major.minor series. In 0.x a minor series is a breaking line
  (autogen-agentchat 0.4 and autogen-core 0.5 do not work together); ranges that
  overlap on one series (``>=0.4`` and ``>=0.5``) are not a conflict, pins and locks
  at two series are;
* one framework package locked at two different versions in one lockfile (nested
  copies: two builds of the same classes, ``instanceof`` and registries break);
* a manifest range that the lockfile's resolved version does not satisfy (the lock
  and the manifest disagree, so installs resolve differently per machine);
* an installed partner package whose ``peerDependencies`` range does not hold the
  installed version of the framework package it needs (``@langchain/openai`` 1.x
  beside ``@langchain/core`` 0.3): read from ``package-lock.json`` entries, or from
  ``node_modules/*/package.json`` when there is no lock. Partners have their own
  version trains, so this, not a family rule, is how they are checked.

Ranges are evaluated with maintained libraries where installed: ``semantic_version``'s
``NpmSpec`` for npm ranges (``^``, ``~``, ``x``, hyphen ranges, ``||``) and
``packaging`` for PEP 440 specifiers; without them the small evaluator ``satisfies``
answers what it understands and None (unknown, never a finding) for the rest.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .findings import Finding, make_finding

try:  # npm range semantics (||, ^, ~, x, hyphen); optional until pyproject lists it
    from semantic_version import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        NpmSpec as _NpmSpec,
    )
    from semantic_version import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
        Version as _NpmVersion,
    )
except ImportError:  # pragma: no cover - exercised only without the library
    _NpmSpec = None
    _NpmVersion = None
try:  # PEP 440
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion
    from packaging.version import Version as _PyVersion
except ImportError:  # pragma: no cover
    SpecifierSet = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class Family:
    """Packages released in lockstep: one major.minor across all of them."""

    name: str
    ecosystem: str  # "npm" | "pypi"
    prefixes: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    lines: tuple[tuple[str, tuple[int, int], tuple[int, int] | None], ...] = ()
    """Release lines a member numbers differently: (member, its major.minor, the
    family's line; None = from before the member joined the lockstep)."""

    def line_of(self, package: str, version: tuple[int, int]) -> tuple[int, int] | None:
        p = norm(package)
        for member, own, line in self.lines:
            if member == p and own == version:
                return line
        return version

    def own_lines(self, package: str, line: tuple[int, int]) -> list[tuple[int, int]]:
        """The member's own major.minor series that belong to the family's ``line``."""
        p = norm(package)
        mapped = [own for member, own, target in self.lines if member == p and target == line]
        if not any(member == p and own == line for member, own, _ in self.lines):
            mapped.insert(0, line)
        return mapped

    def has(self, package: str) -> bool:
        p = package.lower().replace("_", "-")
        return p in self.members or any(p.startswith(x) for x in self.prefixes)


FAMILIES: tuple[Family, ...] = (
    Family("AutoGen (npm)", "npm", prefixes=("@autogen/",)),
    Family("AutoGen", "pypi", members=("autogen-agentchat", "autogen-core", "autogen-ext")),
    Family("CrewAI (npm)", "npm", prefixes=("@crewai/",), members=("crewai",)),
    # In the 0.1 line, community and text-splitters were numbered 0.0.x (langchain 0.1.20
    # requires langchain-community>=0.0.38,<0.1); langchain 0.0.x predates core.
    Family("LangChain (npm)", "npm", members=("langchain", "@langchain/core",
                                              "@langchain/community"),
           lines=(("@langchain/community", (0, 0), (0, 1)), ("langchain", (0, 0), None))),
    Family("LangChain", "pypi", members=("langchain", "langchain-core", "langchain-community",
                                         "langchain-text-splitters"),
           lines=(("langchain-community", (0, 0), (0, 1)),
                  ("langchain-text-splitters", (0, 0), (0, 1)), ("langchain", (0, 0), None))),
)
"""Families whose members must share a major.minor. Partner packages
(``langchain-openai``, ``crewai-tools``, ``@langchain/textsplitters``, the
``@langchain/langgraph*`` packages) have their own version trains (textsplitters 0.1
runs on core 0.2 and 0.3; langgraph-checkpoint 0.0 beside langgraph 0.2) and are
checked through the core range they declare as a peer dependency instead."""

WATCHED = re.compile(r"^(@autogen/|autogen|pyautogen|ag2|crewai|@crewai/|langchain|"
                     r"@langchain/|langgraph|openai|@azure/openai|anthropic|"
                     r"@anthropic-ai/)", re.I)
"""Framework packages checked for duplicate copies and lock/manifest disagreement."""

VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


@dataclass(frozen=True)
class Dep:
    """One package mention: a range in a manifest or a resolved version in a lock."""

    name: str
    spec: str  # the range or version as written
    path: str
    line: int
    excerpt: str
    locked: bool  # True for lockfiles: spec is an exact resolved version
    ecosystem: str
    key: str = ""  # where it is installed: "node_modules/a/node_modules/b" (npm)
    peers: tuple[tuple[str, str, bool], ...] = ()  # (name, range, optional) it declares
    root: str = ""  # the folder whose install tree ``key`` is relative to


def norm(name: str) -> str:
    return name.lower().replace("_", "-")


def base_version(spec: str) -> tuple[int, int, int] | None:
    """The lowest version a spec names: '^0.4.0' -> (0, 4, 0); '*' -> None."""
    m = VERSION.search(spec)
    if m is None or spec.strip().startswith(("git", "http", "file:", "link:", "workspace:")):
        return None
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


def satisfies(version: tuple[int, int, int], spec: str, ecosystem: str) -> bool | None:
    """Whether a resolved version fits a range; None when the range is not understood."""
    spec = spec.strip()
    if ecosystem == "npm":
        if spec.startswith("npm:"):
            spec = spec.rsplit("@", 1)[-1]
        if "||" in spec or " - " in spec or spec in ("", "*", "latest", "x"):
            return None
        ok = True
        for part in spec.split():
            v = base_version(part)
            if v is None:
                return None
            if part.startswith("^"):
                if v[0] > 0:
                    upper = (v[0] + 1, 0, 0)
                elif v[1] > 0:
                    upper = (0, v[1] + 1, 0)
                else:
                    upper = (0, 0, v[2] + 1)
                ok &= v <= version < upper
            elif part.startswith("~"):
                ok &= v <= version < (v[0], v[1] + 1, 0)
            elif part.startswith(">="):
                ok &= version >= v
            elif part.startswith(">"):
                ok &= version > v
            elif part.startswith("<="):
                ok &= version <= v
            elif part.startswith("<"):
                ok &= version < v
            elif part.lstrip("=v")[:1].isdigit():
                fixed = len([p for p in part.lstrip("=v").split(".") if p.isdigit()])
                ok &= version[:fixed] == v[:fixed]  # "0.4.x" and "0.4" fix two parts
            else:
                return None
        return ok
    ok = True
    for part in spec.split(","):
        part = part.strip()
        v = base_version(part)
        if v is None:
            return None
        op = part[: len(part) - len(part.lstrip("<>=!~^"))]
        if op in ("==", "==="):
            if "*" in part:
                ok &= version[:2] == v[:2]
            else:
                ok &= version == v
        elif op == ">=":
            ok &= version >= v
        elif op == ">":
            ok &= version > v
        elif op == "<=":
            ok &= version <= v
        elif op == "<":
            ok &= version < v
        elif op == "!=":
            ok &= version != v
        elif op == "~=":
            digits = part.lstrip("<>=!~^ ").count(".")
            upper = (v[0] + 1, 0, 0) if digits <= 1 else (v[0], v[1] + 1, 0)
            ok &= v <= version < upper
        elif op == "^":  # poetry caret
            upper = (v[0] + 1, 0, 0) if v[0] else (0, v[1] + 1, 0)
            ok &= v <= version < upper
        else:
            return None
    return ok


def range_allows(version: str, spec: str, ecosystem: str) -> bool | None:
    """Whether an exact version lies in a range, with the ecosystem's own rules; None
    when either cannot be read (git URLs, tags, workspace links). npm ranges go to
    ``semantic_version.NpmSpec`` (``||`` unions included) and PEP 440 specifiers to
    ``packaging``; without those libraries, ``satisfies`` on the numeric parts."""
    spec = spec.strip()
    if ecosystem == "npm":
        if spec.startswith("npm:"):
            spec = spec.rsplit("@", 1)[-1]
        if spec in ("", "latest") or spec.startswith(_NOT_A_RANGE):
            return None
        if _NpmSpec is not None:
            try:
                return _NpmVersion(version.lstrip("v=")) in _NpmSpec(spec)
            except ValueError:
                return None
    elif SpecifierSet is not None:
        if spec in ("", "*"):
            return True
        try:
            return _PyVersion(version) in SpecifierSet(_poetry_to_pep440(spec),
                                                       prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            pass
    v = base_version(version)
    if v is None:
        return None
    if ecosystem == "npm" and "||" in spec:  # a union: any alternative may hold it
        answers = [satisfies(v, alt.strip(), ecosystem) for alt in spec.split("||")]
        return True if True in answers else None if None in answers else False
    return satisfies(v, spec, ecosystem)


_NOT_A_RANGE = ("git", "http", "file:", "link:", "workspace:", "github:", "catalog:")


def _poetry_to_pep440(spec: str) -> str:
    """Poetry's caret and tilde ("^0.4.2", "~0.4") as PEP 440 (">=0.4.2,<0.5.0")."""
    out = []
    for part in spec.split(","):
        part = part.strip()
        v = base_version(part)
        if part.startswith("^") and v is not None:
            upper = (v[0] + 1, 0, 0) if v[0] else (0, v[1] + 1, 0) if v[1] else (0, 0, v[2] + 1)
            out.append(f">={part[1:]},<{'.'.join(map(str, upper))}")
        elif part.startswith("~") and not part.startswith("~=") and v is not None:
            out.append(f">={part[1:]},<{v[0]}.{v[1] + 1}.0")
        elif part and part[0].isdigit():
            out.append(f"=={part}")
        else:
            out.append(part)
    return ",".join(out)


def series(version: tuple[int, int, int]) -> tuple[int, int]:
    """The release line a version belongs to for a lockstep family: major.minor (in
    0.x the minor is the breaking line; lockstep families share major.minor anyway)."""
    return version[0], version[1]


def allows_series(d: Dep, line: tuple[int, int], fam: Family | None = None) -> bool | None:
    """Whether an entry allows some version of the family's release ``line`` (tested at
    each own series' start, the entry's own base if it is in one, and a late patch)."""
    owns = fam.own_lines(d.name, line) if fam is not None else [line]
    base = base_version(d.spec)
    if d.locked:
        return None if base is None else series(base) in owns
    probes = [f"{a}.{b}.{p}" for a, b in owns for p in (0, 999)]
    if base is not None and series(base) in owns:
        probes.insert(0, ".".join(map(str, base)))
    answers = [range_allows(p, d.spec, d.ecosystem) for p in probes]
    if any(a is True for a in answers):
        return True
    return None if all(a is None for a in answers) else False


# ---------------------------------------------------------------- readers
def line_index(lines: list[str], pattern: re.Pattern[str]) -> dict[str, int]:
    """First 1-based line of each key captured by group 1 of pattern."""
    out: dict[str, int] = {}
    for i, line in enumerate(lines, 1):
        m = pattern.search(line)
        if m is not None:
            out.setdefault(m.group(1), i)
    return out


def read_package_json(path: str, text: str) -> list[Dep]:
    doc = json.loads(text)
    lines = text.splitlines()
    out: list[Dep] = []
    for section in ("dependencies", "devDependencies", "peerDependencies",
                    "optionalDependencies"):
        deps = doc.get(section)
        if not isinstance(deps, dict):
            continue
        start = next((i for i, ln in enumerate(lines) if f'"{section}"' in ln), 0)
        for name, spec in deps.items():
            if not isinstance(spec, str):
                continue
            line = next((i + 1 for i in range(start, len(lines))
                         if f'"{name}"' in lines[i]), start + 1)
            out.append(Dep(name, spec, path, line, lines[line - 1].strip(), False, "npm"))
    return out


def read_package_lock(path: str, text: str) -> list[Dep]:
    doc = json.loads(text)
    lines = text.splitlines()
    out: list[Dep] = []
    keys = line_index(lines, re.compile(r'^\s*"((?:[^"]*/)?node_modules/[^"]+)"\s*:'))
    packages = doc.get("packages")
    root = path.rsplit("/", 1)[0] if "/" in path else ""
    if isinstance(packages, dict):
        for key, meta in packages.items():
            if "node_modules/" not in key or not isinstance(meta, dict):
                continue
            name = key.rsplit("node_modules/", 1)[1]
            version = meta.get("version")
            peers = peer_list(meta)
            if isinstance(version, str) and (WATCHED.match(name) or peers):
                line = keys.get(key, 1)
                out.append(Dep(name, version, path, line, f"{key}: {version}", True, "npm",
                               key=key, peers=peers, root=root))
        return out

    def walk(deps: object, trail: str) -> None:  # lockfile v1: nested "dependencies"
        if not isinstance(deps, dict):
            return
        for name, meta in deps.items():
            if not isinstance(meta, dict):
                continue
            version = meta.get("version")
            if isinstance(version, str) and WATCHED.match(name):
                line = next((i for i, ln in enumerate(lines, 1)
                             if f'"{name}": {{' in ln), 1)
                out.append(Dep(name, version, path, line, f"{trail}{name}: {version}",
                               True, "npm"))
            walk(meta.get("dependencies"), f"{trail}{name} > ")
    walk(doc.get("dependencies"), "")
    return out


def peer_list(meta: dict[str, Any]) -> tuple[tuple[str, str, bool], ...]:
    """The framework packages a package declares as peers: (name, range, optional).
    Only watched names: a partner's peer on its framework's core is what breaks."""
    peers = meta.get("peerDependencies")
    if not isinstance(peers, dict):
        return ()
    optional = meta.get("peerDependenciesMeta")
    optional = optional if isinstance(optional, dict) else {}

    def is_optional(name: str) -> bool:
        entry = optional.get(name)
        return isinstance(entry, dict) and entry.get("optional") is True

    return tuple((name, rng, is_optional(name)) for name, rng in peers.items()
                 if isinstance(name, str) and isinstance(rng, str) and WATCHED.match(name))


MAX_INSTALLED = 3000
"""node_modules/*/package.json files read per folder, at most (each one small)."""


def read_node_modules(folder: Path, rel: str) -> list[Dep]:
    """Installed framework packages and partners from ``node_modules/*/package.json``
    (top level and ``@scope/name``), for a folder with no lockfile. ``rel`` is how the
    folder is shown. Bounded by ``MAX_INSTALLED``; unreadable files are skipped."""
    nm = folder / "node_modules"
    out: list[Dep] = []
    try:
        entries = sorted(nm.iterdir())
    except OSError:
        return out
    dirs: list[Path] = []
    for e in entries:
        if e.name.startswith("@") and e.is_dir():
            try:
                dirs.extend(sorted(e.iterdir()))
            except OSError:
                continue
        elif not e.name.startswith("."):
            dirs.append(e)
    for d in dirs[:MAX_INSTALLED]:
        manifest = d / "package.json"
        try:
            if manifest.stat().st_size > 1_000_000:
                continue
            text = manifest.read_text(encoding="utf-8", errors="replace")
            meta = json.loads(text)
        except (OSError, ValueError):
            continue
        if not isinstance(meta, dict):
            continue
        name, version = meta.get("name"), meta.get("version")
        peers = peer_list(meta)
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        if not (WATCHED.match(name) or peers):
            continue
        shown = f"{rel}/node_modules/{name}/package.json" if rel else \
            f"node_modules/{name}/package.json"
        line = next((i for i, ln in enumerate(text.splitlines(), 1)
                     if re.match(r'\s*"version"\s*:', ln)), 1)
        out.append(Dep(name, version, shown, line, f'"{name}" version {version}', True, "npm",
                       key=f"node_modules/{name}", peers=peers, root=rel))
    return out


PNPM_KEY = re.compile(r"^\s{2}'?/?((?:@[^/@\s]+/)?[^/@\s(']+)[@/](\d[^(:'\s_]*)")


def read_pnpm_lock(path: str, text: str) -> list[Dep]:
    out: list[Dep] = []
    in_packages = False
    for i, line in enumerate(text.splitlines(), 1):
        if line and not line[0].isspace():
            in_packages = line.startswith(("packages:", "snapshots:"))
            continue
        if not in_packages or not line.rstrip().endswith(":") or line.startswith("    "):
            continue
        m = PNPM_KEY.match(line)
        if m is not None and WATCHED.match(m.group(1)):
            out.append(Dep(m.group(1), m.group(2), path, i, line.strip(), True, "npm"))
    return out + pnpm_links(path, text)


def _pnpm_key_parts(key: str) -> tuple[str, str, list[tuple[str, str]]]:
    """'/@a/b@1.0.0(@c/d@2.0.0(e@1.0.0))(f@3.0.0)' → ("@a/b", "1.0.0", [("@c/d", "2.0.0"),
    ("f", "3.0.0")]): the package, its version and the peers it was linked with (the
    top-level parenthesised groups; nested groups are those peers' own peers)."""
    key = key.strip().strip("'\"").lstrip("/")
    cut = key.find("(")
    head, tail = (key, "") if cut == -1 else (key[:cut], key[cut:])
    at = head.rfind("@")
    name, version = (head[:at], head[at + 1:]) if at > 0 else (head, "")
    peers: list[tuple[str, str]] = []
    depth, start = 0, 0
    for i, ch in enumerate(tail):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                group = tail[start:i]
                inner = group.split("(", 1)[0]
                pat = inner.rfind("@")
                if pat > 0:
                    peers.append((inner[:pat], inner[pat + 1:]))
    return name, version, peers


def pnpm_links(path: str, text: str) -> list[Dep]:
    """pnpm records which version of each peer a package was linked with in its key
    (``@langchain/openai@1.6.0(@langchain/core@0.3.80)``) and the declared ranges under
    ``peerDependencies`` (in ``packages:``; v6 keeps both in one entry). Each linked
    package becomes a Dep with those peers, and each linked peer a Dep "installed" under
    it, so ``peer_conflicts`` checks pnpm trees the way it checks npm trees."""
    declared: dict[str, dict[str, str]] = {}
    linked: list[tuple[int, str, str, str, list[tuple[str, str]]]] = []
    key: str | None = None
    in_peers = False
    for i, line in enumerate(text.splitlines()[:MAX_LOCK_LINES], 1):
        if line and not line[0].isspace():
            key, in_peers = None, False
            continue
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if indent == 2 and stripped.endswith(":"):
            key = stripped[:-1]
            name, version, peers = _pnpm_key_parts(key)
            if peers:
                linked.append((i, stripped, name, version, peers))
            in_peers = False
        elif indent == 4 and key is not None:
            in_peers = stripped == "peerDependencies:"
        elif indent == 6 and in_peers and key is not None and ":" in stripped:
            pname, _, rng = stripped.partition(": ")
            name, version, _ = _pnpm_key_parts(key)
            declared.setdefault(f"{name}@{version}", {})[pname.strip("'\"")] = \
                rng.strip().strip("'\"")
    root = path.rsplit("/", 1)[0] if "/" in path else ""
    out: list[Dep] = []
    for line_no, excerpt, name, version, peers in linked:
        ranges = declared.get(f"{name}@{version}", {})
        wanted = tuple((peer, ranges[peer], False) for peer, _ in peers
                       if peer in ranges and WATCHED.match(peer))
        if not wanted:
            continue
        key = f"pnpm:{line_no}/node_modules/{name}"
        out.append(Dep(name, version, path, line_no, excerpt, True, "npm", key=key,
                       peers=wanted, root=root))
        for peer, peer_version in peers:
            out.append(Dep(peer, peer_version, path, line_no,
                           f"{excerpt} (linked {peer} {peer_version})", True, "npm",
                           key=f"{key}/node_modules/{peer}", root=root))
    return out


MAX_LOCK_LINES = 500_000
"""pnpm-lock.yaml lines read for peer links, at most."""


def read_yarn_lock(path: str, text: str) -> list[Dep]:
    out: list[Dep] = []
    names: list[tuple[str, int, str]] = []
    for i, line in enumerate(text.splitlines(), 1):
        if line and not line[0].isspace() and line.rstrip().endswith(":") \
                and not line.startswith("#"):
            names = []
            for entry in line.rstrip()[:-1].split(","):
                entry = entry.strip().strip('"')
                at = entry.rfind("@")
                if at > 0:
                    names.append((entry[:at], i, line.strip()))
            continue
        stripped = line.strip()
        if names and stripped.startswith("version"):
            version = stripped.split(None, 1)[1].strip(':"\' ') if " " in stripped else ""
            seen: set[str] = set()
            for name, header, excerpt in names:
                if name in seen or not WATCHED.match(name):
                    continue
                seen.add(name)
                out.append(Dep(name, version, path, header, f"{excerpt} version {version}",
                               True, "npm"))
            names = []
    return out


REQ_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")


def pep508(spec: str) -> tuple[str, str] | None:
    m = REQ_LINE.match(spec)
    if m is None:
        return None
    return m.group(1), m.group(3).strip()


def read_requirements(path: str, text: str) -> list[Dep]:
    out: list[Dep] = []
    for i, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if not s or s.startswith("-"):
            continue
        parsed = pep508(s)
        if parsed is not None:
            out.append(Dep(parsed[0], parsed[1], path, i, line.strip(), False, "pypi"))
    return out


def read_pyproject(path: str, text: str) -> list[Dep]:
    doc = tomllib.loads(text)
    lines = text.splitlines()
    specs: list[str] = []
    project = doc.get("project", {})
    specs.extend(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        specs.extend(group)
    for group in doc.get("dependency-groups", {}).values():
        specs.extend(s for s in group if isinstance(s, str))
    out: list[Dep] = []
    for spec in specs:
        parsed = pep508(spec)
        if parsed is None:
            continue
        line = next((i for i, ln in enumerate(lines, 1) if spec in ln), 1)
        out.append(Dep(parsed[0], parsed[1], path, line, lines[line - 1].strip(), False, "pypi"))
    poetry = doc.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {})]
    tables.extend(g.get("dependencies", {}) for g in poetry.get("group", {}).values())
    for table in tables:
        for name, value in table.items():
            version = value if isinstance(value, str) else (
                value.get("version", "") if isinstance(value, dict) else "")
            if name == "python" or not version:
                continue
            line = next((i for i, ln in enumerate(lines, 1)
                         if re.match(rf'\s*"?{re.escape(name)}"?\s*=', ln)), 1)
            out.append(Dep(name, version, path, line, lines[line - 1].strip(), False, "pypi"))
    return out


def read_toml_lock(path: str, text: str) -> list[Dep]:
    doc = tomllib.loads(text)
    lines = text.splitlines()
    name_lines: dict[str, list[int]] = {}
    for i, ln in enumerate(lines, 1):
        m = re.match(r'\s*name\s*=\s*"([^"]+)"', ln)
        if m is not None:
            name_lines.setdefault(norm(m.group(1)), []).append(i)
    out: list[Dep] = []
    root = path.rsplit("/", 1)[0] if "/" in path else ""
    for pkg in doc.get("package", []):
        name, version = pkg.get("name"), pkg.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        at = name_lines.get(norm(name), [1])
        line = at.pop(0) if len(at) > 1 else at[0]
        out.append(Dep(name, version, path, line, f'{name} = "{version}"', True, "pypi",
                       key=norm(name), peers=_poetry_requires(pkg.get("dependencies")),
                       root=root))
    return out


def _poetry_requires(deps: object) -> tuple[tuple[str, str, bool], ...]:
    """A poetry.lock package's requirements on watched packages: (name, range, optional).
    poetry writes them as ``name = ">=0.1.52,<0.2.0"`` or ``{version = ..., optional =
    true}`` (uv.lock keeps only names, so it gives none)."""
    if not isinstance(deps, dict):
        return ()
    out = []
    for name, value in deps.items():
        if not isinstance(name, str) or not WATCHED.match(name):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                out.append((name, item, False))
            elif isinstance(item, dict) and isinstance(item.get("version"), str):
                out.append((name, item["version"], bool(item.get("optional"))))
    return tuple(out)


READERS: dict[str, Callable[[str, str], list[Dep]]] = {
    "package.json": read_package_json,
    "package-lock.json": read_package_lock,
    "npm-shrinkwrap.json": read_package_lock,
    "pnpm-lock.yaml": read_pnpm_lock,
    "yarn.lock": read_yarn_lock,
    "pyproject.toml": read_pyproject,
    "poetry.lock": read_toml_lock,
    "uv.lock": read_toml_lock,
}


def reader_for(path: Path) -> Callable[[str, str], list[Dep]] | None:
    name = path.name
    if name in READERS:
        return READERS[name]
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return read_requirements
    return None


def is_manifest(path: Path) -> bool:
    return reader_for(path) is not None


def read_manifest(path: Path, rel: str, text: str) -> list[Dep]:
    """The package mentions of one manifest/lock. Raises ValueError on bad syntax."""
    reader = reader_for(path)
    if reader is None:
        return []
    try:
        deps = reader(rel, text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError) as e:
        raise ValueError(f"cannot read {rel}: {e}") from e
    folder = path.parent
    if (path.name == "package.json" and (folder / "node_modules").is_dir()
            and not any((folder / lock).exists() for lock in
                        ("package-lock.json", "npm-shrinkwrap.json"))):
        deps.extend(read_node_modules(folder, rel.rsplit("/", 1)[0] if "/" in rel else ""))
    return deps


# ---------------------------------------------------------------- checks
def mismatches(deps: Iterable[Dep]) -> list[Finding]:
    """All four checks (module doc). Peer conflicts come first: where one line has
    several findings, the report keeps the first, and a named peer range is the most
    precise reason."""
    deps = list(deps)
    out: list[Finding] = peer_conflicts(deps)
    by_file: dict[str, list[Dep]] = {}
    for d in deps:
        if d.key.startswith("pnpm:"):
            continue  # pnpm link records, read by peer_conflicts only
        by_file.setdefault(d.path, []).append(d)
    for path, items in by_file.items():
        for fam in FAMILIES:
            members = [d for d in items if d.ecosystem == fam.ecosystem and fam.has(d.name)]
            conflict = family_conflict(members, fam)
            if conflict:
                listing = ", ".join(f"{d.name} {d.spec} (line {d.line})" for d in conflict)
                lines = sorted({f"{a}.{b}" for d in conflict
                                if (v := base_version(d.spec)) is not None
                                for a, b in [series(v)]})
                for d in conflict:
                    out.append(make_finding(
                        "code.version_mismatch", path, d.line, 1, d.excerpt,
                        f"{fam.name} packages are released together, but no one release "
                        f"line ({' / '.join(lines)}) fits them all here: {listing}"
                        + ("; in 0.x each minor series is a breaking line"
                           if any(x.startswith("0.") for x in lines) else "")))
        locked: dict[str, dict[str, Dep]] = {}
        for d in items:
            if d.locked:
                locked.setdefault(norm(d.name), {}).setdefault(d.spec, d)
        for name, versions in locked.items():
            if len(versions) > 1 and WATCHED.match(name):
                listing = ", ".join(f"{v} (line {d.line})" for v, d in versions.items())
                for d in versions.values():
                    out.append(make_finding(
                        "code.version_mismatch", path, d.line, 1, d.excerpt,
                        f"{name} is installed at {len(versions)} versions: {listing}; two "
                        f"copies of one framework break instanceof checks and shared "
                        f"registries"))
    # manifest ranges against lockfiles in the same folder: one locked copy must fit
    for d in deps:
        if d.locked or not WATCHED.match(d.name):
            continue
        folder = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        copies = [lock for lock in deps if lock.locked and lock.ecosystem == d.ecosystem
                  and not lock.key.startswith("pnpm:")
                  and norm(lock.name) == norm(d.name)
                  and (lock.path.rsplit("/", 1)[0] if "/" in lock.path else "") == folder]
        verdicts = [range_allows(lock.spec, d.spec, d.ecosystem) for lock in copies]
        if copies and all(v is False for v in verdicts):
            lock = copies[0]
            out.append(make_finding(
                "code.version_mismatch", d.path, d.line, 1, d.excerpt,
                f"{d.name} asks for {d.spec} but {lock.path}:{lock.line} locks "
                f"{lock.spec}: the lock and the manifest disagree, so installs "
                f"resolve differently"))
    return out


def family_conflict(members: list[Dep], fam: Family) -> list[Dep]:
    """The entries of one lockstep family when no release line fits them all (each
    entry's own line is a candidate); [] when one does or it is unknown."""
    lines: dict[Dep, tuple[int, int]] = {}
    for d in members:
        v = base_version(d.spec)
        line = fam.line_of(d.name, series(v)) if v is not None else None
        if line is not None:
            lines[d] = line
    known = list(lines)
    if len(set(lines.values())) < 2:
        return []
    for line in sorted(set(lines.values())):
        if all(allows_series(d, line, fam) is not False for d in known):
            return []
    return known


def _resolve_installed(index: dict[tuple[str, str], Dep], root: str, key: str,
                       name: str) -> Dep | None:
    """The copy of ``name`` that the package installed at ``key`` gets, the way Node
    resolves it: its own node_modules, then each parent's, then the top level."""
    base = key
    while True:
        found = index.get((root, f"{base}/node_modules/{name}"))
        if found is not None:
            return found
        if "/node_modules/" not in base:
            return index.get((root, f"node_modules/{name}"))
        base = base.rsplit("/node_modules/", 1)[0]


def peer_conflicts(deps: list[Dep]) -> list[Finding]:
    """Installed partners whose peer range does not hold the installed framework
    package (see the module doc). A missing required peer is reported too: the
    partner's import of it fails at start."""
    index = {(d.root, d.key): d for d in deps if d.locked and d.key and d.ecosystem == "npm"}
    py_index = {(d.root, d.path, d.key): d for d in deps
                if d.locked and d.key and d.ecosystem == "pypi"}
    out: list[Finding] = []
    for d in [*index.values(), *py_index.values()]:
        for peer, rng, optional in d.peers:
            if d.ecosystem == "npm":
                got = _resolve_installed(index, d.root, d.key, peer)
            else:
                got = py_index.get((d.root, d.path, norm(peer)))
            if got is None:
                if not optional and d.ecosystem == "npm":
                    out.append(make_finding(
                        "code.version_mismatch", d.path, d.line, 1, d.excerpt,
                        f"{d.name} {d.spec} needs {peer}@\"{rng}\" as a peer dependency, "
                        f"but no {peer} is installed where it can be found"))
                continue
            ok = range_allows(got.spec, rng, d.ecosystem)
            if ok is not False:
                continue
            kind = "peer range" if d.ecosystem == "npm" else "requirement"
            fails = ("'is not a function', failed instanceof checks" if d.ecosystem == "npm"
                     else "'cannot import name', missing attributes")
            why = (f"{d.name} {d.spec} declares the {kind} {peer}@\"{rng}\", but "
                   f"{peer} {got.spec} is installed ({got.path}:{got.line}): it was built "
                   f"for another {peer} release line, so calls between them fail ({fails})")
            out.append(make_finding("code.version_mismatch", d.path, d.line, 1, d.excerpt, why))
            out.append(make_finding("code.version_mismatch", got.path, got.line, 1, got.excerpt,
                                    why))
    return out
