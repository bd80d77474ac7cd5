"""Reproduce the bundled demo incident in ``probes/demo/`` by running a real faulty service.

What it does, all on 127.0.0.1:

1. starts ``tests/services/agent_app.py`` (the shared-team bug) as TWO uvicorn replicas,
   each with a pod-like ``HOSTNAME`` (``agent-7d9f8b6c4-x2k9p``, ``agent-7d9f8b6c4-q8wzm``);
   replica x2k9p logs to a file, replica q8wzm logs to stdout, which this script reads
   line by line and stamps with its receive time the way the kubelet does, giving the
   ``kubectl logs --timestamps`` shape (RFC3339Nano, 9 digits, Z);
2. drives both with the scaledoc ramp at once (one ramp, levels 1,4,8,16, through a
   round-robin transport that plays the Kubernetes Service), so request ids
   (``scaledoc-<level>-<n>``) are unique across replicas and join logs, traces and
   ramp results;
3. looks at the two replicas with the process probe while they run;
4. stops the replicas and writes into the output folder: both logs, ``traces.jsonl``
   (the spans both replicas exported, merged in start order, OTLP JSON lines) and a
   ``README.md`` with how it was made and what this run measured.

Run from the repository root: ``python3 tests/make_demo_incident.py`` (about 15 s).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
from services.launch import running  # noqa: E402

from probes.evidence import Evidence  # noqa: E402
from probes.process import ProcessTarget  # noqa: E402
from probes.process import collect as collect_processes  # noqa: E402
from probes.ramp import RampPlan, run_ramp  # noqa: E402

REPLICAS = ("agent-7d9f8b6c4-x2k9p", "agent-7d9f8b6c4-q8wzm")
WRAPPED = REPLICAS[1]
"""The replica whose lines are read from stdout and wrapped in the kubectl prefix."""
MODEL_DELAY_S = "0.12"


def rfc3339_nano(time_ns: int) -> str:
    """Kubelet's RFC3339NanoFixed: always 9 fractional digits, Z for UTC."""
    secs, frac = divmod(time_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


class RoundRobin(httpx.AsyncBaseTransport):
    """A client-side Service: each request goes to the next replica's port, in turn."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=next(self._ports))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _stamp_stdout(stream: IO[bytes], out: list[str]) -> None:
    """Read a replica's stdout and prefix each line with its receive time (kubelet style)."""
    for raw in iter(stream.readline, b""):
        out.append(f"{rfc3339_nano(time.time_ns())} {raw.decode('utf-8').rstrip()}")


def _merge_traces(paths: list[Path]) -> list[str]:
    """All replicas' TracesData lines, ordered by their earliest span start."""
    lines = [line for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line]

    def first_start(line: str) -> int:
        doc = json.loads(line)
        return min(int(span["startTimeUnixNano"]) for rs in doc["resourceSpans"]
                   for ss in rs["scopeSpans"] for span in ss["spans"])

    return sorted(lines, key=first_start)


def _ramp_table(ev: Evidence) -> str:
    rows = ["| concurrency | sent | ok | failed | error rate | p50 ms | p95 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for lv in ev.data["levels"]:
        lat = lv["latency_ms"]
        rows.append(f"| {lv['level']} | {lv['sent']} | {lv['ok']} | {lv['failed']} | "
                    f"{lv['error_rate']:.0%} | {lat['p50']} | {lat['p95']} |")
    return "\n".join(rows)


def _signal_lines(ev: Evidence) -> str:
    return "\n".join(f"- `{s.key}`: **{s.answer.value}**: {s.detail}" for s in ev.signals)


def make(out_dir: Path, levels: tuple[int, ...], per_level: int) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="scaledoc-demo-"))
    plain_log = work / f"{REPLICAS[0]}.log"
    traces = [work / f"traces-{name}.jsonl" for name in REPLICAS]
    wrapped_lines: list[str] = []
    common = {"AGENT_MODEL_DELAY": MODEL_DELAY_S}
    with running(mode="buggy", env={**common, "HOSTNAME": REPLICAS[0],
                                    "AGENT_LOG_FILE": str(plain_log),
                                    "AGENT_TRACE_FILE": str(traces[0])}) as a, \
            running(mode="buggy", stdout=subprocess.PIPE,
                    env={**common, "HOSTNAME": REPLICAS[1], "AGENT_LOG_FILE": "-",
                         "AGENT_TRACE_FILE": str(traces[1])}) as b:
        assert b.proc.stdout is not None
        reader = threading.Thread(target=_stamp_stdout, args=(b.proc.stdout, wrapped_lines),
                                  daemon=True)
        reader.start()
        ps = collect_processes(ProcessTarget(
            pattern=rf"uvicorn .*--port ({a.port}|{b.port})\b", sample_seconds=1.0))
        ramp = run_ramp(RampPlan(url=f"http://127.0.0.1:{a.port}/chat",
                                 json_body={"message": "Summarise yesterday's incident"},
                                 levels=levels, per_level=per_level, timeout_s=10,
                                 max_seconds=90),
                        transport=RoundRobin([a.port, b.port]))
    reader.join(10)
    if ramp.error:
        raise SystemExit(f"ramp failed: {ramp.error}")
    written = {
        f"{REPLICAS[0]}.log": plain_log.read_text(encoding="utf-8").splitlines(),
        f"{WRAPPED}.log": wrapped_lines,
        "traces.jsonl": _merge_traces(traces),
    }
    for name, lines in written.items():
        (out_dir / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(_readme(ramp, ps, written), encoding="utf-8")
    return {name: len(lines) for name, lines in written.items()}


def _readme(ramp: Evidence, ps: Evidence, written: dict[str, list[str]]) -> str:
    counts = "\n".join(f"| `{name}` | {len(lines)} |" for name, lines in written.items())
    workers = next((s for s in ps.signals if s.key == "process.multiple_workers"), None)
    pods = ", ".join(f"`{p.get('pod')}` (pid {p.get('pid')})" for p in ps.data.get("processes", ()))
    return f"""# The bundled demo incident

A real run of a faulty agent service, recorded by `tests/make_demo_incident.py`. Nothing
here is hand-written or edited: every line was produced by the service or, for the
kubectl prefix, by the script reading the service's stdout as it arrived.

## The service

`tests/services/agent_app.py`: an ASGI "agent API" (`POST /chat`) that keeps ONE
module-level team object per process and shares it across all requests (the
`shared-instance` fault). A request that arrives while another run is active gets the
real AutoGen error as a 500:

    The team is already running, it cannot run again until it is stopped.

It ran as two replicas (two uvicorn processes on 127.0.0.1), each with a pod-like
`HOSTNAME`: `{REPLICAS[0]}` and `{REPLICAS[1]}`. The model call is simulated by a
{MODEL_DELAY_S} s `asyncio.sleep`.

## The files

| file | lines |
|---|---:|
{counts}

- `{REPLICAS[0]}.log`: the replica's own JSON log lines (pino shape with an ISO `time`:
  `time`, `level` 30/50, `hostname`, `pid`, `msg`, and `instanceId`, `sessionId`,
  `requestId` = the `x-request-id` header, `runId`, `err`, `statusCode`,
  `responseTime`). Messages: `incoming request`, `agent created` (once per process: the
  shared instance), `run started`, `run finished`, `run failed`, `request completed`.
- `{WRAPPED}.log`: the same kind of lines, written to stdout and wrapped in the
  `kubectl logs --timestamps` prefix (RFC3339Nano receive time, 9 digits, `Z`), so the
  reader has to unwrap them.
- `traces.jsonl`: OTLP JSON lines (`resourceSpans`, hex ids, string int64 times)
  exported by both replicas: per request a SERVER span `POST /chat` with
  `http.response.status_code`, and its INTERNAL child `agent.run` with
  `agent.instance.id`, `session.id`, `agent.run.id`, `request.id`; status code 2 and
  the error message on failure. Resource: `service.name`, `service.instance.id`,
  `host.name` (the replica), `process.pid`.

## How it was driven

One scaledoc ramp (`probes.ramp.run_ramp`), levels {list(ramp.data['plan']['levels'])},
{ramp.data['plan']['per_level']} requests per level, through a round-robin transport that plays
the Kubernetes Service (request n goes to replica n mod 2), so request ids
`scaledoc-<level>-<n>` are unique and join the ramp, the logs and the traces.

{_ramp_table(ramp)}

Ramp signals from this run:

{_signal_lines(ramp)}

The process probe, run on both replicas during the ramp, found {pods}:
`process.multiple_workers` **{workers.answer.value if workers else 'not run'}**.

## Reproduce

From the repository root (needs the test extras for uvicorn; traffic stays on
127.0.0.1):

    python3 tests/make_demo_incident.py

It overwrites the files in `probes/demo/`. Times, pids, ids and exact error counts
change from run to run; the shape (no failures one at a time, most requests failing
with "already running" from concurrency 4 up, one `agent created` per replica) does not.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "probes" / "demo")
    parser.add_argument("--levels", default="1,4,8,16")
    parser.add_argument("--per-level", type=int, default=40)
    args = parser.parse_args(argv)
    levels = tuple(int(x) for x in args.levels.split(","))
    counts = make(args.out, levels, args.per_level)
    for name, n in counts.items():
        print(f"{args.out / name}: {n} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
