from django.urls import path

from fleet.connectors import views

app_name = "connectors"
urlpatterns = [
    path("tenants/<slug:slug>/connector/", views.connector_page, name="page"),
    path("tenants/<slug:slug>/connector/test/", views.connector_test, name="test"),
    path("tenants/<slug:slug>/connector/pull/", views.connector_pull, name="pull"),
]
