"""OTel spans to a file, the way a small service without a collector does it.

Uses opentelemetry-sdk's own ConsoleSpanExporter pointed at a file (one JSON object per
span, its default pretty-printed ``to_json``, or one per line with
OTEL_SPANS_FORMAT=console-compact) or OTLP/JSON lines (OTEL_SPANS_FORMAT=otlp-json),
installed as the global tracer provider so AutoGen's own spans (create_agent, invoke_agent,
execute_tool) and FastAPI's are exported too.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from typing import TextIO

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)


class OtlpJsonFileExporter(SpanExporter):
    """OTLP/JSON lines, as the collector's ``file`` exporter writes them.

    The SDK's own OTLP encoder builds the protobuf ExportTraceServiceRequest; it is written
    in the OTLP/JSON encoding (camelCase keys, integer enums, trace/span ids as hex), one
    ``TracesData`` object per line per batch.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from google.protobuf import json_format
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        doc = json_format.MessageToDict(encode_spans(spans), use_integers_for_enums=True)
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in sp:
                            sp[key] = base64.b64decode(sp[key]).hex()
                    for link in sp.get("links", []):
                        for key in ("traceId", "spanId"):
                            if key in link:
                                link[key] = base64.b64decode(link[key]).hex()
        self.out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self.out.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.out.flush()


def setup(service: str) -> trace.Tracer:
    # One file per worker process: the exporter writes multi-line objects, which two
    # processes appending to one file could interleave.
    path = os.environ.get("OTEL_SPANS_FILE", "").replace("{pid}", str(os.getpid()))
    provider = TracerProvider(resource=Resource.create({"service.name": service,
                                                         "service.instance.id": str(os.getpid())}))
    if path:
        out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives with the process)
        fmt = os.environ.get("OTEL_SPANS_FORMAT", "console")
        if fmt == "otlp-json":
            provider.add_span_processor(BatchSpanProcessor(OtlpJsonFileExporter(out),
                                                           schedule_delay_millis=1000))
        elif fmt == "console-compact":  # one span per line (JSON lines)
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
                out=out, formatter=lambda span: span.to_json(indent=None) + "\n")))
        else:
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)
