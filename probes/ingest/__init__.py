"""Streaming ingestion of logs and traces into normalised ``LogEvent``s.

Pieces, in the order data flows through them:

* ``sources``: ``InputFile`` / ``discover`` (paths to inputs), gzip and stdin
  streams, line reading with a length cap.
* ``sniff``: what an input is (log, trace, kube, bundle, code, binary, empty) from a
  64 KiB head sample.
* ``wrappers``: container prefixes (CRI, kubectl --timestamps/--prefix, Docker
  json-file, stern) peeled off before parsing.
* ``lineformats``: JSON (typed msgspec decode), logfmt and text lines into events;
  ``roles`` holds THE alias table (which key means time, instance, session...) and
  ``kinds`` THE message pattern table (run start, request completed...).
* ``textshapes``: fixed layouts of servers and runtimes (nginx/Apache/uvicorn/gunicorn/
  Envoy access and error lines, PostgreSQL, V8 GC) and the phrases that make a plain
  line an error with a tag (heap OOM, kernel OOM, worker deaths, resolver conflicts).
* ``blocks``: multi-line records folded into one event (Python tracebacks, Node
  stacks, V8 fatals), attached to the error line they follow.
* ``traces``: OTLP JSON lines and ConsoleSpanExporter spans into events.
* ``reader``: ``LogReader`` ties these together per input; ``merge``: time-ordered
  merge of many inputs.

Typical use::

    config = IngestConfig.load(args.config, args.field)
    readers = [LogReader(inp, config, stdin=sys.stdin.buffer) for inp in discover(paths)]
    for ev in merge_by_time([r.events() for r in readers]):
        ...
    reports = [r.report() for r in readers]
"""

from probes.ingest.config import IngestConfig
from probes.ingest.merge import merge_by_time
from probes.ingest.reader import LogReader, read_all
from probes.ingest.sniff import Sniffed, sniff
from probes.ingest.sources import InputFile, discover

__all__ = [
    "IngestConfig",
    "InputFile",
    "LogReader",
    "Sniffed",
    "discover",
    "merge_by_time",
    "read_all",
    "sniff",
]
