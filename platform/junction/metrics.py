"""Prometheus metrics. Each process keeps its own registry on its runtime (no globals).

The API serves `/metrics`: its intake counters, and gauges read from the database at
scrape time (events by state, which is the queue's depth; events in flight per tenant),
so they hold across every process. Workers count what they process and serve their own
registry on `JUNCTION_WORKER_METRICS_PORT` when it is set.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PROCESSING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class DatabaseSnapshot(Collector):
    """Gauges from the last database reading; the route refreshes it before each scrape."""

    def __init__(self) -> None:
        self.by_status: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "junction_events",
            "Events by state (received and retrying are the queue)",
            labels=["status"],
        )
        for status, count in sorted(self.by_status.items()):
            events.add_metric([status], count)
        yield events
        in_flight = GaugeMetricFamily(
            "junction_tenant_events_in_flight",
            "Events being processed, per tenant",
            labels=["tenant"],
        )
        for tenant, count in sorted(self.in_flight.items()):
            in_flight.add_metric([tenant], count)
        yield in_flight


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_received = Counter(
            "junction_events_received",
            "Deliveries taken in, by what became of them",
            ["outcome"],
            registry=self.registry,
        )
        self.events_processed = Counter(
            "junction_events_processed",
            "Attempts finished, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "junction_event_processing_seconds",
            "Time a plugin took on one attempt",
            buckets=PROCESSING_BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "junction_event_retries",
            "Attempts that failed and were scheduled again",
            registry=self.registry,
        )
        self.snapshot = DatabaseSnapshot()
        self.registry.register(self.snapshot)
