"""The columnar path: events as typed columns instead of one Python object per line.

Why (issue "Speed: a columnar hot path"): ``scaledoc analyze`` spent about 15 µs of Python
per log line across reading, ``assemble``, the ``LogEvent`` and six trackers; no tuning
of those layers closes the gap to a decoder. Here an input set becomes one
``EventColumns`` (numpy arrays, ids dictionary-encoded once), built by a batch decoder for
the JSON-lines formats that matter most, and the analysis state is built from the columns
by grouping and sorting instead of an event at a time.

The contract that keeps verdicts identical: ``columns_from_events`` and
``events_from_columns`` are exact inverses (tested on every case), so any columnar stage
can be checked against the per-event path it replaces on the same events.
"""

from probes.columnar.columns import (
    KINDS,
    NO_CODE,
    NO_INT,
    EventColumns,
    ListTexts,
    columns_from_events,
    events_from_columns,
)

__all__ = ["KINDS", "NO_CODE", "NO_INT", "EventColumns", "ListTexts", "columns_from_events",
           "events_from_columns"]
