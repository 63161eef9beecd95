"""URL map. Each app adds its own `urls.py`; keep paths stable: operators and scripts use them."""

from django.contrib import admin
from django.urls import include, path

from fleet import health, metrics, openapi

urlpatterns = [
    # Login, logout and the admin's login (throttled: fleet/accounts/), ahead of the admin.
    path("", include("fleet.accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/openapi.json", openapi.openapi_json, name="openapi"),
    path("", include("codes.urls")),
    path("", include("dashboards.urls")),
    path("", include("fleet.triage.urls")),
    path("", include("fleet.alerts.urls")),
    path("", include("fleet.ingest.urls")),
    path("", include("fleet.connectors.urls")),
    path("", include("fleet.devices.urls")),
    path("", include("fleet.reports.urls")),
]

# A pool timeout raised by a middleware (before any view) is answered 503, not 500.
handler500 = "fleet.database_pool.server_error"
