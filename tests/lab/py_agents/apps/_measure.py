"""The lab's ground-truth record, written beside (never into) the service's own logs.

Each worker process appends JSON lines to ``$LAB_MEASURE_DIR/measure-<pid>.jsonl``; the
rebuild script sums them into ``measured``. Nothing here is part of the capture that
scaledoc reads: an on-call engineer would not have these files.
"""

from __future__ import annotations

import json
import os
import threading

_lock = threading.Lock()


def record(kind: str, **data: object) -> None:
    d = os.environ.get("LAB_MEASURE_DIR")
    if not d:
        return
    line = json.dumps({"kind": kind, "pid": os.getpid(), **data}, default=str)
    with _lock, open(os.path.join(d, f"measure-{os.getpid()}.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
