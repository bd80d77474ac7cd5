"""The bounds every parser keeps, in one place (the README's Safety section lists them).

Hostile or broken input must cost a bounded amount of work and memory, and every bound
that bites is reported as a skip with its reason, never a traceback and never silence:

* nesting: JSON (log lines, ``.json`` files, trace objects) and YAML deeper than
  ``MAX_DEPTH`` levels is refused before Python's recursion limit can be reached by the
  parser or by anything that walks the result later (redaction, ``json.dumps``);
* YAML aliases: a document whose aliases would expand past ``MAX_YAML_NODES`` nodes
  (the "billion laughs" shape) is refused at composition, before anything walks it;
* archives: see ``probes.kube.offline`` (members counted, sizes capped per member and in
  total, links and paths leaving the archive skipped by name).
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 100
"""Deepest JSON/YAML nesting read. Kubernetes objects and log lines stay under 20."""

MAX_YAML_NODES = 1_000_000
"""Nodes a YAML document may hold once its aliases are expanded."""

DEEP_REASON = f"JSON nested deeper than {MAX_DEPTH} levels"

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def text_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests brackets deeper than ``limit`` (strings are skipped).

    Cheap for ordinary lines: only text with more than ``limit`` opening brackets in
    all is scanned token by token, and the scan stops at the first level past it.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif tok in ("]", "}"):
            depth -= 1
    return False


def obj_too_deep(obj: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed value nests lists/dicts deeper than ``limit`` (iterative walk,
    so it never recurses itself)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
