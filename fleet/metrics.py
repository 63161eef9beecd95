"""`/metrics`: the service's figures in Prometheus's text format, for the MSP's own monitoring.

Every figure is read from the database (and the broker's queue lengths from Redis) when the
scrape comes, by one collector: nothing is counted in process memory, so the numbers are the
same whichever web worker answers and survive restarts. Each scrape costs a handful of small
queries (the pending rows through their partial index, the imports and deliveries tables).
Behind a bearer token (`METRICS_TOKEN`); with none set the endpoint is off (404).
What to alert on: docs/operations.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db.models import Count, F, Min, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.backoff import NoBackoff
from redis.retry import Retry

from fleet.alerts.models import AlertDelivery
from fleet.health import BROKER_TIMEOUT_SECONDS
from fleet.ingest.models import ApiIngestDay, ImportRecord
from fleet.models import PendingBatch
from fleet.pending import pending_rows
from fleet.reports.models import ReportDelivery

QUEUES = ("ingest", "aggregate", "alerts")
Q_RETRYING = Q(state=AlertDelivery.State.PENDING, attempts__gt=0)


class FleetCollector(Collector):
    """The figures of docs/operations.md, read fresh at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        now = timezone.now()
        yield from self._aggregation(now)
        yield from self._ingest()
        yield from self._imports()
        yield from self._deliveries()
        yield from self._reports()
        yield from self._queues()

    def _aggregation(self, now) -> Iterator[GaugeMetricFamily]:
        # The ledger alone answers both, whatever the size of the raw table.
        oldest = PendingBatch.objects.filter(rows__gt=0).aggregate(at=Min("created_at"))["at"]
        lag = GaugeMetricFamily(
            "fleet_aggregation_lag_seconds",
            "Age of the oldest occurrence not yet aggregated (0 when none is pending).",
        )
        lag.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield lag
        waiting = GaugeMetricFamily(
            "fleet_occurrences_pending", "Occurrences stored but not yet aggregated."
        )
        waiting.add_metric([], pending_rows())
        yield waiting

    def _ingest(self) -> Iterator[CounterMetricFamily]:
        api = ApiIngestDay.objects.aggregate(
            accepted=Sum("accepted"), duplicates=Sum("duplicates"), rejected=Sum("rejected")
        )
        imported = ImportRecord.objects.values("format").annotate(
            created=Sum("created"), duplicates=Sum("duplicates"), rejected=Sum("rejected_count")
        )
        stored = CounterMetricFamily(
            "fleet_occurrences_ingested",
            "Occurrences stored, by source (api, or the import format).",
            labels=["source"],
        )
        skipped = CounterMetricFamily(
            "fleet_occurrences_duplicate",
            "Occurrences received again and skipped by the dedupe key, by source.",
            labels=["source"],
        )
        refused = CounterMetricFamily(
            "fleet_occurrences_rejected",
            "Items or rows refused as invalid (the answer or import names each), by source.",
            labels=["source"],
        )
        stored.add_metric(["api"], api["accepted"] or 0)
        skipped.add_metric(["api"], api["duplicates"] or 0)
        refused.add_metric(["api"], api["rejected"] or 0)
        for row in imported.order_by("format"):
            source = row["format"] or "unknown"
            stored.add_metric([source], row["created"] or 0)
            skipped.add_metric([source], row["duplicates"] or 0)
            refused.add_metric([source], row["rejected"] or 0)
        yield from (stored, skipped, refused)

    def _imports(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        by_status = GaugeMetricFamily(
            "fleet_imports", "Import records by status.", labels=["status"]
        )
        counts = dict(
            ImportRecord.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
        )
        for status in ImportRecord.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        finished = ImportRecord.objects.filter(
            status=ImportRecord.Status.DONE, started_at__isnull=False, finished_at__isnull=False
        )
        seconds = sum(
            (done - started).total_seconds()
            for started, done in finished.values_list("started_at", "finished_at").iterator()
        )
        duration = CounterMetricFamily(
            "fleet_import_duration_seconds",
            "Time imports took from start to done: _sum over _count is the mean.",
        )
        duration.add_metric([], seconds)
        yield duration
        total = CounterMetricFamily("fleet_imports_finished", "Imports that finished (done).")
        total.add_metric([], finished.count())
        yield total

    def _deliveries(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "fleet_alert_deliveries",
            "Alert notifications by channel and state; pending with attempts > 0 are retrying.",
            labels=["channel", "state", "retrying"],
        )
        rows = (
            AlertDelivery.objects.annotate(kind=F("channel__kind"))
            .values("kind", "state")
            .annotate(n=Count("id"), retrying=Count("id", filter=Q_RETRYING))
            .order_by("kind", "state")
        )
        for row in rows:
            channel = row["kind"] or "email"
            family.add_metric([channel, row["state"], "false"], row["n"] - row["retrying"])
            if row["retrying"]:
                family.add_metric([channel, row["state"], "true"], row["retrying"])
        yield family

    def _reports(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "fleet_report_deliveries",
            "Scheduled tenant report emails by state; pending with attempts > 0 are retrying.",
            labels=["state", "retrying"],
        )
        retrying = Q(state=ReportDelivery.State.PENDING, attempts__gt=0)
        rows = (
            ReportDelivery.objects.values("state")
            .annotate(n=Count("id"), retrying=Count("id", filter=retrying))
            .order_by("state")
        )
        for row in rows:
            family.add_metric([row["state"], "false"], row["n"] - row["retrying"])
            if row["retrying"]:
                family.add_metric([row["state"], "true"], row["retrying"])
        yield family

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("fleet_broker_up", "1 when the Celery broker answered.")
        depth = GaugeMetricFamily(
            "fleet_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        url = settings.CELERY_BROKER_URL
        lengths: dict[str, int] | None = None
        if url.startswith("redis"):
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            try:
                lengths = {queue: client.llen(queue) for queue in QUEUES}
            except (redis.RedisError, OSError):
                lengths = None
            finally:
                client.close()
        up.add_metric([], 1 if lengths is not None else 0)
        yield up
        for queue, length in (lengths or {}).items():
            depth.add_metric([queue], length)
        yield depth


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return registry


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """401 without a bearer token, 403 with a wrong one, 404 when no token is configured."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("metrics are off: set METRICS_TOKEN\n", status=404,
                            content_type="text/plain")  # fmt: skip
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = HttpResponse("send Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                                content_type="text/plain")  # fmt: skip
        response["WWW-Authenticate"] = 'Bearer realm="fleet-metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return HttpResponse("wrong metrics token\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
