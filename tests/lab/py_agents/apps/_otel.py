"""OTel spans to a file, the way a small service without a collector does it.

Uses opentelemetry-sdk's own ConsoleSpanExporter pointed at a file (one JSON object per
span, its default pretty-printed ``to_json``, or one per line with OTEL_SPANS_COMPACT=1),
installed as the global tracer provider so AutoGen's own spans (create_agent, invoke_agent,
execute_tool) and FastAPI's are exported too.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor


def setup(service: str) -> trace.Tracer:
    # One file per worker process: the exporter writes multi-line objects, which two
    # processes appending to one file could interleave.
    path = os.environ.get("OTEL_SPANS_FILE", "").replace("{pid}", str(os.getpid()))
    provider = TracerProvider(resource=Resource.create({"service.name": service,
                                                         "service.instance.id": str(os.getpid())}))
    if path:
        out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives with the process)
        exporter = ConsoleSpanExporter(out=out)
        if os.environ.get("OTEL_SPANS_COMPACT") == "1":  # one span per line (JSON lines)
            exporter = ConsoleSpanExporter(
                out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)
