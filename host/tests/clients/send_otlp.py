"""Sends traces, metrics and logs to an OTLP endpoint with the OpenTelemetry
Python SDK, configured only by the standard OTEL_EXPORTER_OTLP_* variables
(endpoint, protocol, certificate, client certificate and key).

Each item carries `seq` (0..count-1) and the resource carries `run.id`, so a
test can check that every item arrived. Prints one JSON line with what the
exporters reported and exits non-zero if any export failed.
"""

import argparse
import json
import logging
import os
import sys

from opentelemetry.sdk.resources import Resource

PROTOCOL = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")


def exporters():
    if PROTOCOL == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    elif PROTOCOL == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        sys.exit(f"unsupported OTEL_EXPORTER_OTLP_PROTOCOL={PROTOCOL}")
    return OTLPSpanExporter, OTLPMetricExporter, OTLPLogExporter


def send_traces(resource, count, span_exporter_cls):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExportResult

    provider = TracerProvider(resource=resource)
    tracer = provider.get_tracer("weir.e2e")
    spans = []
    for i in range(count):
        with tracer.start_as_current_span(f"span-{i}", attributes={"seq": i}) as span:
            spans.append(span)
    result = span_exporter_cls().export(spans)
    return result == SpanExportResult.SUCCESS


def send_metrics(resource, count, metric_exporter_cls):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult

    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    counter = provider.get_meter("weir.e2e").create_counter("weir.e2e.requests", unit="1")
    for i in range(count):
        counter.add(i + 1, {"seq": i})
    data = reader.get_metrics_data()
    result = metric_exporter_cls().export(data)
    return result == MetricExportResult.SUCCESS


def send_logs(resource, count, log_exporter_cls):
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import LogExporter, SimpleLogRecordProcessor

    real = log_exporter_cls()
    results = []

    class Recording(LogExporter):
        def export(self, batch):
            result = real.export(batch)
            # The result enum was renamed across SDK versions; its member was not.
            results.append(getattr(result, "name", "") == "SUCCESS")
            return result

        def shutdown(self):
            real.shutdown()

        def force_flush(self, timeout_millis=30000):
            return True

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(SimpleLogRecordProcessor(Recording()))
    logger = logging.getLogger("weir.e2e")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
    for i in range(count):
        logger.info("log line %d", i, extra={"seq": i})
    provider.shutdown()
    return len(results) == count and all(results)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signals", default="traces,metrics,logs")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--run-id", default="run")
    parser.add_argument("--service", default="weir-e2e")
    args = parser.parse_args()

    resource = Resource.create({"service.name": args.service, "run.id": args.run_id})
    span_cls, metric_cls, log_cls = exporters()
    report = {}
    for signal in args.signals.split(","):
        if signal == "traces":
            report[signal] = send_traces(resource, args.count, span_cls)
        elif signal == "metrics":
            report[signal] = send_metrics(resource, args.count, metric_cls)
        elif signal == "logs":
            report[signal] = send_logs(resource, args.count, log_cls)
        else:
            sys.exit(f"unknown signal {signal}")
    print(json.dumps({"protocol": PROTOCOL, "ok": report}))
    sys.exit(0 if all(report.values()) else 1)


if __name__ == "__main__":
    main()
