"""The code probe: risky places in a service's source and manifests, with file:line.

Reads Python with ``ast`` and TypeScript/JavaScript with tree-sitter (no regexes over
source text), and package manifests/lockfiles line by line. Emits the ``code.*``
signals of ``probes.signals`` at strength 0.4: a pattern in code is a risk, weaker
evidence than the fault seen at run time. Public API: ``is_code_dir``, ``scan``,
``Finding``; the rule tables are in ``probes.code.tables``.
"""

from .findings import Finding
from .scan import is_code_dir, scan

__all__ = ["Finding", "is_code_dir", "scan"]
