from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("tenants/<slug:slug>/", views.tenant, name="tenant"),
    path("devices/<int:pk>/", views.device, name="device"),
    path("charts/<slug:name>.csv", views.chart_download, name="chart_csv"),
]
