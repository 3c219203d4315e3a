"""Prometheus metrics: the HTTP traffic counted per process, the desk's figures read from the
database at scrape time.

Two kinds, chosen so that any API process answers a scrape with the whole deployment's view:

- **HTTP requests** (count and latency by method, route template and status) are counted in
  the process that served them. Under ``critdesk serve --workers N`` (gunicorn) every process
  writes them to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode;
  the serve command creates and empties that folder), and a scrape adds up all the files.
  Separate *hosts* are separate scrape targets, as usual.
- **The desk's figures** (open cases, SLA breaches, job lag, outbox backlog, dead letters) are
  queries run by ``DatabaseCollector`` when scraped, so every process on every host gives the
  same answer.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from critdesk import __version__
from critdesk.db import Database
from critdesk.observability import service

log = logging.getLogger(__name__)

# prometheus_client's own switch for multiprocess mode (set by ``critdesk serve --workers N``).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "unmatched"
__all__ = ["CONTENT_TYPE_LATEST", "DatabaseCollector", "HttpMetrics", "multiprocess_dir"]


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class HttpMetrics:
    """This app's request metrics and the registry a scrape renders."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.multiprocess = multiprocess_dir() is not None
        if self.multiprocess:
            # prometheus_client picks its value store when first imported; the serve command
            # may have imported it before it set the folder, so pick again.
            values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        # A registry of this app's own: several apps in one process (the tests) never clash.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "critdesk_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "critdesk_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.shed = Counter(
            "critdesk_http_connections_shed",
            "Keep-alive connections closed after a response because their worker held more "
            "than its share of the server's connections (critdesk.balance).",
            registry=self.registry,
        )
        started = Gauge(
            "critdesk_web_worker_start_time_seconds",
            "When each live API process started (one series per process under gunicorn).",
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        started.set(time.time())
        self.database = DatabaseCollector(database, clock)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        """The text exposition: every process's HTTP metrics, then the database's figures."""
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = self.registry
        return generate_latest(registry) + generate_latest(_Only(self.database))


class _Only(CollectorRegistry):
    """A throwaway registry holding one collector (the database's figures)."""

    def __init__(self, collector: Collector) -> None:
        super().__init__(auto_describe=False)
        self.register(collector)


class DatabaseCollector(Collector):
    """The desk's figures, queried when scraped (a few indexed queries)."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # unknown until the database answers; registering needs no description

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily("critdesk_info", "The running version.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        up = GaugeMetricFamily("critdesk_database_up", "1 when the figures below could be read.")
        try:
            with self.database.session(read_only=True) as db:
                found = service.figures(db=db, now=self.clock())
        except Exception:
            log.warning("metrics: the database figures could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _figures(found)


def _figures(found: service.Figures) -> Iterable[Metric]:
    open_cases = GaugeMetricFamily(
        "critdesk_open_cases",
        "Queue depth: open cases by severity and queue group (waiting for an engineer, active).",
        labels=["severity", "queue_group"],
    )
    for (severity, group), count in sorted(found.open_cases.items()):
        open_cases.add_metric([severity, group], count)
    yield open_cases
    yield CounterMetricFamily(
        "critdesk_sla_breaches", "Cases whose SLA clock breached, ever.", value=found.sla_breaches
    )
    yield GaugeMetricFamily(
        "critdesk_sla_breached_waiting_cases",
        "Cases past their SLA target that still wait for an engineer to start.",
        value=found.breached_waiting,
    )
    lag = GaugeMetricFamily(
        "critdesk_job_lag_seconds",
        "Age of the oldest due but unprocessed item per kind of background work (0: none).",
        labels=["job"],
    )
    for job, seconds in sorted(found.job_lag_seconds.items()):
        lag.add_metric([job], seconds)
    yield lag
    backlog = GaugeMetricFamily(
        "critdesk_outbox_backlog",
        "Notifications not yet delivered, by state (dead: given up, an admin may retry).",
        labels=["state"],
    )
    for state, count in sorted(found.outbox_backlog.items()):
        backlog.add_metric([state], count)
    yield backlog
    yield GaugeMetricFamily(
        "critdesk_outbox_dead_letters",
        "Notifications given up on (the admins' dead-letter list).",
        value=found.dead_letters,
    )


def token_matches(sent: str | None, expected: str) -> bool:
    """Constant-time comparison of a bearer token."""
    if not sent:
        return False
    scheme, _, token = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)
