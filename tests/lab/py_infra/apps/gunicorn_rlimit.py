"""gunicorn config: cap each worker's address space, as a container memory limit would.

The limit is set after fork, in the worker (RLIMIT_AS = its current size plus
WORKER_HEADROOM_MB), so allocations past it raise MemoryError inside the worker.
"""

import os
import resource


def post_fork(server, worker):
    with open(f"/proc/{os.getpid()}/statm") as f:
        pages = int(f.read().split()[0])
    size = pages * os.sysconf("SC_PAGE_SIZE")
    limit = size + int(os.environ.get("WORKER_HEADROOM_MB", "96")) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    server.log.info("worker %s: address space limited to %d MB", worker.pid, limit >> 20)
