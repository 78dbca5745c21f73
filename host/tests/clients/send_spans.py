"""Sends spans of known names, kinds, statuses and durations with the
OpenTelemetry Python SDK (OTLP/HTTP, configured by OTEL_EXPORTER_OTLP_*).

    send_spans.py --service checkout 'GET /cart:server:unset:3' 'POST /pay:server:error:900:http.method=POST'

Each argument is `name:kind:status:milliseconds[:key=value,...]`. The spans
are exported in one request; exits non-zero if the export failed.
"""

import argparse
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

KINDS = {
    "internal": SpanKind.INTERNAL,
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
}
STATUSES = {"unset": StatusCode.UNSET, "ok": StatusCode.OK, "error": StatusCode.ERROR}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True)
    parser.add_argument("spans", nargs="+")
    args = parser.parse_args()

    provider = TracerProvider(resource=Resource.create({"service.name": args.service}))
    tracer = provider.get_tracer("weir.e2e.spanmetrics")
    start = time.time_ns()
    spans = []
    for spec in args.spans:
        parts = spec.split(":")
        name, kind, status, ms = parts[0], parts[1], parts[2], int(parts[3])
        attributes = {}
        if len(parts) > 4 and parts[4]:
            for pair in parts[4].split(","):
                key, value = pair.split("=", 1)
                attributes[key] = value
        span = tracer.start_span(name, kind=KINDS[kind], start_time=start, attributes=attributes)
        if STATUSES[status] != StatusCode.UNSET:
            span.set_status(Status(STATUSES[status]))
        span.end(end_time=start + ms * 1_000_000)
        spans.append(span)
    result = OTLPSpanExporter().export(spans)
    if result != SpanExportResult.SUCCESS:
        sys.exit(f"export failed: {result}")
    print(f"sent {len(spans)} spans")


if __name__ == "__main__":
    main()
