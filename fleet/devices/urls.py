from django.urls import path

from fleet.devices import api_views, views

app_name = "devices"
urlpatterns = [
    path("devices/", views.device_list, name="list"),
    path("api/v1/devices", api_views.device_list, name="api-list"),
    path("api/v1/devices/<int:pk>", api_views.device_detail, name="api-device"),
]
