"""URL map. Each app adds its own `urls.py`; keep paths stable: operators and scripts use them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboards.login_throttle import (
    ThrottledAdminAuthenticationForm,
    ThrottledAuthenticationForm,
    refused_as_429,
)
from fleet import health, openapi

# Both login pages refuse for a while after repeated failures (dashboards/login_throttle.py).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path(
        "login/",
        refused_as_429(
            auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm)
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Ahead of admin.site.urls, so the admin's own login answers 429 when refused too.
    path("admin/login/", refused_as_429(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/openapi.json", openapi.openapi_json, name="openapi"),
    path("", include("codes.urls")),
    path("", include("dashboards.urls")),
    path("", include("fleet.triage.urls")),
    path("", include("fleet.ingest.urls")),
]
