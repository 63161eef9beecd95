"""The dashboards an import's rows show on: links filtered to its tenant and its date span.

The dashboards' custom range is whole UTC days (`?range=custom&from=…&to=…`, at most
DASHBOARD_MAX_DAYS of them), so the link covers the days of the first and last occurrence.
The URLs are reversed by name: nothing under fleet/ imports from dashboards/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from fleet.ingest.models import ImportRecord

# dashboards.filters.MAX_CUSTOM_DAYS (a test keeps the two equal).
DASHBOARD_MAX_DAYS = 400


@dataclass(frozen=True)
class SpanLinks:
    first_day: date
    last_day: date
    shortened: bool  # the span is longer than a dashboard range: the links show its last days
    overview: str
    tenant: str


def dashboard_links(record: ImportRecord) -> SpanLinks | None:
    """Links to the overview and tenant dashboards over the import's span; None without one."""
    if record.first_occurred_at is None or record.last_occurred_at is None:
        return None
    first = record.first_occurred_at.astimezone(UTC).date()
    last = record.last_occurred_at.astimezone(UTC).date()
    shown_first = max(first, last - timedelta(days=DASHBOARD_MAX_DAYS - 1))
    window = [("range", "custom"), ("from", shown_first.isoformat()), ("to", last.isoformat())]
    slug = record.tenant.slug
    return SpanLinks(
        first_day=first,
        last_day=last,
        shortened=shown_first != first,
        overview=f"{reverse('dashboards:overview')}?{urlencode([('tenant', slug), *window])}",
        tenant=f"{reverse('dashboards:tenant', args=[slug])}?{urlencode(window)}",
    )
