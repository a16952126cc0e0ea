"""Prometheus metrics at ``/metrics`` (``prometheus-client``).

Most figures are read from the database when Prometheus scrapes, so every API process reports the same
values whatever process did the work (the queue and the jobs live in the database, not in one process's
memory): jobs by state and the queue's depth, the age of the oldest queued job, job latency (queued to
finished, over the last hour), webhook deliveries by state, and which analyzers the worker could not load.
Counters of work done in this process (match look-ups) come from the process itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from civicshield.service.domain.states import DeliveryState, JobState
from civicshield.service.domain.tables import Delivery, Job, as_utc, utcnow
from civicshield.service.infra.runtime import Runtime, lineup_file

__all__ = ["Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _FromDatabase(Collector):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Any]:
        states = GaugeMetricFamily("civicshield_jobs", "Analysis jobs by state.", labels=["state"])
        queue = GaugeMetricFamily("civicshield_queue_depth", "Analysis jobs waiting for a worker.")
        oldest = GaugeMetricFamily("civicshield_queue_oldest_seconds", "Age of the oldest queued job.")
        latency = SummaryMetricFamily(
            "civicshield_job_latency_seconds", "Queued to finished, jobs finished in the last hour."
        )
        deliveries = GaugeMetricFamily(
            "civicshield_webhook_deliveries", "Webhook deliveries by state.", labels=["state"]
        )
        now = utcnow()
        with self.rt.db.reading() as s:
            counts = dict(s.execute(select(Job.state, func.count()).group_by(Job.state)).all())
            first = s.scalar(select(func.min(Job.created_at)).where(Job.state == "queued"))
            recent = s.execute(
                select(Job.created_at, Job.updated_at).where(
                    Job.state.in_(("done", "failed")), Job.updated_at >= now - dt.timedelta(hours=1)
                )
            ).all()
            sent = dict(s.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        for state in JobState:
            states.add_metric([state.value], float(counts.get(state, 0)))
        queue.add_metric([], float(counts.get(JobState.QUEUED, 0)))
        oldest.add_metric([], (now - as_utc(first)).total_seconds() if first else 0.0)
        seconds = [max(0.0, (as_utc(done) - as_utc(made)).total_seconds()) for made, done in recent]
        latency.add_metric([], count_value=len(seconds), sum_value=sum(seconds))
        for d_state in DeliveryState:
            deliveries.add_metric([d_state.value], float(sent.get(d_state, 0)))
        yield from (states, queue, oldest, latency, deliveries, self._analyzers())

    def _analyzers(self) -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(
            "civicshield_analyzer_unavailable",
            "1 for each analyzer the worker could not load (a missing line of evidence).",
            labels=["analyzer"],
        )
        try:
            record = json.loads(lineup_file(self.rt.settings).read_text())
        except (OSError, ValueError):
            return gauge
        for missing in record.get("unavailable", []):
            gauge.add_metric([str(missing.get("analyzer", "?"))], 1.0)
        return gauge


class Metrics:
    """One registry per app: the database collector and this process's counters."""

    def __init__(self, rt: Runtime) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_FromDatabase(rt))
        self.match_lookups = Counter(
            "civicshield_match_lookups",
            "Match API look-ups answered by this process.",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
