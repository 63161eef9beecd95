"""The tenant filter and time range of a dashboard page, read from the URL.

Everything a page shows is scoped by one `Scope`: the tenants the user may see narrowed to the
ones picked in the filter, and a half-open UTC window [start, end). Both live in the query string
(`?tenant=acme&range=30d`, `?range=custom&from=2026-10-01&to=2026-10-31`) so a view can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fleet.access import picked_tenants
from fleet.grains import Grain, grain_for
from fleet.models import Tenant

RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
RANGE_LABELS = {
    "24h": gettext_lazy("24 h"),
    "7d": gettext_lazy("7 d"),
    "30d": gettext_lazy("30 d"),
    "90d": gettext_lazy("90 d"),
    "custom": gettext_lazy("Custom"),
}
DEFAULT_RANGE = "7d"
# Custom ranges are capped so an hourly aggregate query stays bounded by the range, not the URL.
MAX_CUSTOM_DAYS = 400
# The window ends at midnight after the last day, which must still be a date Python can hold.
LAST_CUSTOM_DAY = date.max - timedelta(days=1)
# Database ids are 64-bit; a larger number in a URL names nothing.
MAX_ID = 2**63 - 1


@dataclass
class Scope:
    """What a page is about: which tenants and which window."""

    tenants: list[Tenant]  # the tenants shown (visible ∩ picked)
    visible: list[Tenant]  # every tenant the user may pick
    selected_slugs: list[str]
    range_key: str
    start: datetime
    end: datetime
    custom_from: date | None = None
    custom_to: date | None = None
    errors: list[str] = field(default_factory=list)
    # True only for a superuser who picked no tenant: every tenant there is, so a query may
    # leave the tenant filter out (and use an index that does not start with the tenant).
    every_tenant: bool = False

    @property
    def tenant_ids(self) -> list[int]:
        return [t.pk for t in self.tenants]

    @property
    def hourly(self) -> bool:
        """The 24 h window is charted per hour; the others are whole days, charted per day."""
        return self.range_key == "24h"

    @property
    def grain(self) -> Grain:
        """The aggregates the window reads, and so the buckets it is charted in."""
        return grain_for(self.start, self.end, per_hour=self.hourly)

    @property
    def days(self) -> list[date]:
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @property
    def hours(self) -> list[datetime]:
        count = int((self.end - self.start).total_seconds() // 3600)
        return [self.start + timedelta(hours=n) for n in range(count)]

    def params(self) -> list[tuple[str, str]]:
        pairs = [("tenant", slug) for slug in self.selected_slugs]
        pairs.append(("range", self.range_key))
        if self.range_key == "custom" and self.custom_from and self.custom_to:
            pairs += [("from", self.custom_from.isoformat()), ("to", self.custom_to.isoformat())]
        return pairs

    @property
    def querystring(self) -> str:
        """The filter as a query string (without `?`), to keep it on every link."""
        return urlencode(self.params())

    @property
    def tenant_querystring(self) -> str:
        """Only the tenant part of the filter, for pages with no time window (devices, triage)."""
        return urlencode([("tenant", slug) for slug in self.selected_slugs])

    @property
    def range_choices(self) -> list[tuple[str, str]]:
        return list(RANGE_LABELS.items())

    def pinned_to(self, slug: str) -> Scope | None:
        """This scope narrowed to one visible tenant (the tenant page), or None if not visible."""
        tenant = next((t for t in self.visible if t.slug == slug), None)
        if tenant is None:
            return None
        return replace(self, tenants=[tenant], selected_slugs=[slug], every_tenant=False)

    def describe(self) -> str:
        if self.range_key == "custom":
            return _("%(first)s to %(last)s") % {
                "first": f"{self.custom_from:%Y-%m-%d}",
                "last": f"{self.custom_to:%Y-%m-%d}",
            }
        return _("last %(range)s") % {"range": RANGE_LABELS[self.range_key]}


def _parse_day(text: str, name: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(
            _("%(field)s: %(text)s is not a date (use YYYY-MM-DD)")
            % {"field": name, "text": repr(text[:40])}
        )
        return None


def _window(params, now: datetime, errors: list[str]):
    """(range_key, start, end, from, to) for the request; bad input falls back to the default."""
    key = params.get("range", DEFAULT_RANGE)
    if key == "custom":
        first = _parse_day(params.get("from", ""), "from", errors)
        last = _parse_day(params.get("to", ""), "to", errors)
        if first and last:
            if last > LAST_CUSTOM_DAY:
                errors.append(
                    _("to: the last day can be %(day)s at the latest")
                    % {"day": f"{LAST_CUSTOM_DAY:%Y-%m-%d}"}
                )
            elif last < first:
                errors.append(_("to: the end date is before the start date"))
            elif (last - first).days + 1 > MAX_CUSTOM_DAYS:
                errors.append(
                    _("from/to: a custom range may span at most %(days)s days")
                    % {"days": MAX_CUSTOM_DAYS}
                )
            else:
                start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
                stop = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
                return key, start, stop, first, last
        key = DEFAULT_RANGE
    elif key not in RANGES:
        errors.append(
            _("range: %(key)s is not one of 24h, 7d, 30d, 90d, custom") % {"key": repr(key[:20])}
        )
        key = DEFAULT_RANGE
    if key == "24h":
        # Rolling hours, ending after the current hour so its bucket is included.
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        # Whole UTC days including today, so day buckets (and the daily aggregate) line up.
        end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return key, end - RANGES[key], end, None, None


def id_param(params, name: str) -> int | None:
    """The database id in `params[name]`, or None when it is missing or not one.

    ASCII digits only: `str.isdigit()` also accepts "²", which `int()` refuses."""
    raw = params.get(name, "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def scope_from_request(request: HttpRequest, *, now: datetime | None = None) -> Scope:
    """Read the tenant filter and time range from the URL. One query: the visible tenants."""
    errors: list[str] = []
    key, start, end, first, last = _window(request.GET, now or timezone.now(), errors)
    picked = [slug for slug in request.GET.getlist("tenant") if slug]
    visible, tenants = picked_tenants(request.user, picked)
    return Scope(
        tenants=tenants,
        visible=visible,
        selected_slugs=picked,
        range_key=key,
        start=start,
        end=end,
        custom_from=first,
        custom_to=last,
        errors=errors,
        # The test visible_tenants() makes for "all of them", so the two never disagree.
        every_tenant=bool(
            visible and request.user.is_active and request.user.is_superuser and not picked
        ),
    )
