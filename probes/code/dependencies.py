"""Dependency probe: packages of one framework family at versions that do not fit.

Reads ``package.json``, ``package-lock.json``, ``pnpm-lock.yaml``, ``yarn.lock``,
``requirements*.txt``, ``pyproject.toml``, ``poetry.lock`` and ``uv.lock`` line by
line (every package is reported with its file:line, which a data loader would lose).
Three checks:

* lockstep families (``FAMILIES``: packages released together, like ``@autogen/*`` or
  ``autogen-agentchat``/``autogen-core``/``autogen-ext``) at different major.minor
  versions in one file;
* one framework package locked at two different versions in one lockfile (nested
  copies: two builds of the same classes, ``instanceof`` and registries break);
* a manifest range that the lockfile's resolved version does not satisfy (the lock
  and the manifest disagree, so installs resolve differently per machine).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding, make_finding


@dataclass(frozen=True)
class Family:
    """Packages released in lockstep: one major.minor across all of them."""

    name: str
    ecosystem: str  # "npm" | "pypi"
    prefixes: tuple[str, ...] = ()
    members: tuple[str, ...] = ()

    def has(self, package: str) -> bool:
        p = package.lower().replace("_", "-")
        return p in self.members or any(p.startswith(x) for x in self.prefixes)


FAMILIES: tuple[Family, ...] = (
    Family("AutoGen (npm)", "npm", prefixes=("@autogen/",)),
    Family("AutoGen", "pypi", members=("autogen-agentchat", "autogen-core", "autogen-ext")),
    Family("CrewAI (npm)", "npm", prefixes=("@crewai/",), members=("crewai",)),
    Family("LangChain (npm)", "npm", members=("langchain", "@langchain/core",
                                              "@langchain/community",
                                              "@langchain/textsplitters")),
    Family("LangChain", "pypi", members=("langchain", "langchain-core", "langchain-community",
                                         "langchain-text-splitters")),
    Family("LangGraph (npm)", "npm", prefixes=("@langchain/langgraph",)),
)
"""Families whose members must share a major.minor. Partner packages
(``langchain-openai``, ``crewai-tools``) have their own version trains and are left out."""

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
    if isinstance(packages, dict):
        for key, meta in packages.items():
            if "node_modules/" not in key or not isinstance(meta, dict):
                continue
            name = key.rsplit("node_modules/", 1)[1]
            version = meta.get("version")
            if isinstance(version, str) and WATCHED.match(name):
                line = keys.get(key, 1)
                out.append(Dep(name, version, path, line, f"{key}: {version}", True, "npm"))
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
    return out


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
    for pkg in doc.get("package", []):
        name, version = pkg.get("name"), pkg.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        at = name_lines.get(norm(name), [1])
        line = at.pop(0) if len(at) > 1 else at[0]
        out.append(Dep(name, version, path, line, f'{name} = "{version}"', True, "pypi"))
    return out


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
        return reader(rel, text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError) as e:
        raise ValueError(f"cannot read {rel}: {e}") from e


# ---------------------------------------------------------------- checks
def mismatches(deps: Iterable[Dep]) -> list[Finding]:
    deps = list(deps)
    out: list[Finding] = []
    by_file: dict[str, list[Dep]] = {}
    for d in deps:
        by_file.setdefault(d.path, []).append(d)
    for path, items in by_file.items():
        for fam in FAMILIES:
            members = [d for d in items if d.ecosystem == fam.ecosystem and fam.has(d.name)]
            minors: dict[tuple[int, int], list[Dep]] = {}
            for d in members:
                v = base_version(d.spec)
                if v is not None:
                    minors.setdefault(v[:2], []).append(d)
            if len(minors) > 1:
                listing = ", ".join(f"{d.name} {d.spec} (line {d.line})"
                                    for group in minors.values() for d in group)
                for group in minors.values():
                    for d in group:
                        out.append(make_finding(
                            "code.version_mismatch", path, d.line, 1, d.excerpt,
                            f"{fam.name} packages are released together but sit at "
                            f"different minor versions here: {listing}"))
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
                  and norm(lock.name) == norm(d.name)
                  and (lock.path.rsplit("/", 1)[0] if "/" in lock.path else "") == folder]
        verdicts = []
        for lock in copies:
            v = base_version(lock.spec)
            verdicts.append(satisfies(v, d.spec, d.ecosystem) if v is not None else None)
        if copies and all(v is False for v in verdicts):
            lock = copies[0]
            out.append(make_finding(
                "code.version_mismatch", d.path, d.line, 1, d.excerpt,
                f"{d.name} asks for {d.spec} but {lock.path}:{lock.line} locks "
                f"{lock.spec}: the lock and the manifest disagree, so installs "
                f"resolve differently"))
    return out
