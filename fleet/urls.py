"""URL map. Each app adds its own `urls.py`; keep paths stable: operators and scripts use them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from fleet import health

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("", include("codes.urls")),
    path("", include("dashboards.urls")),
    path("", include("fleet.triage_urls")),
    path("", include("fleet.ingest.urls")),
]
