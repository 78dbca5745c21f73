"""Sends one counter, one gauge and one histogram with known values through
the OpenTelemetry Python SDK's OTLP/HTTP exporter (configured by the usual
OTEL_EXPORTER_OTLP_* variables), with cumulative temporality:

- counter `shop.orders` (unit 1): 5 for region=eu, 7 for region=us
- gauge `queue.depth` (unit {item}): 42 for queue=a
- histogram `http.server.duration` (unit ms): 5, 50 and 500 for route=/buy

With --delta the counter and histogram use delta temporality instead.
With --rounds N the same values are recorded and exported N times (the
gauge stays 42): cumulative totals end at N times the values above.
Exits non-zero if an export failed.
"""

import argparse
import sys

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", default="weir-e2e")
    parser.add_argument("--run-id", default="run")
    parser.add_argument("--delta", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    resource = Resource.create({"service.name": args.service, "run.id": args.run_id})
    if args.delta:
        from opentelemetry.sdk.metrics import Counter, Histogram
        from opentelemetry.sdk.metrics.export import AggregationTemporality

        reader = InMemoryMetricReader(
            preferred_temporality={
                Counter: AggregationTemporality.DELTA,
                Histogram: AggregationTemporality.DELTA,
            }
        )
    else:
        reader = InMemoryMetricReader()
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = provider.get_meter("weir.e2e")
    orders = meter.create_counter("shop.orders", unit="1", description="orders taken")
    meter.create_observable_gauge(
        "queue.depth", unit="{item}", callbacks=[lambda options: [Observation(42, {"queue": "a"})]]
    )
    duration = meter.create_histogram("http.server.duration", unit="ms")
    exporter = OTLPMetricExporter()
    ok = True
    for _ in range(args.rounds):
        orders.add(5, {"region": "eu"})
        orders.add(7, {"region": "us"})
        for value in (5, 50, 500):
            duration.record(value, {"route": "/buy"})
        result = exporter.export(reader.get_metrics_data())
        ok = ok and result == MetricExportResult.SUCCESS
    print("exported" if ok else "failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
