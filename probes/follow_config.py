"""How following behaves (``scaledoc -f``): the window and the polling.

Kept apart from ``probes.follow`` so that the CLI can state the defaults in ``--help``
without importing the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FollowConfig:
    """How following behaves; the defaults are what ``--help`` and the README state."""

    poll_s: float = 0.5
    """How often an idle source is looked at again (and the window re-analysed at most)."""
    interval_s: float = 2.0
    """Re-rank at most this often while evidence arrives."""
    window_s: float = 15 * 60
    """Keep events of the last this many seconds of the logs' clock."""
    max_events: int = 50_000
    """...and never more than this many events, whatever their times."""
    max_per_poll: int = 20_000
    """Events taken from the readers per poll; the rest wait on the bounded queue."""
    queue_max: int = 10_000
    """Events read ahead of the analysis, per follower."""
    rescan_s: float = 1.0
    """How often a followed directory is looked at again for files created in it."""
    max_files: int = 200
    """Files followed at most (one thread and one descriptor each). Files named on the
    command line are always followed; a directory's files beyond the cap are counted in
    the directory's report, not followed."""
