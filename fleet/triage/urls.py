from django.urls import path

from fleet.triage import api_views, views

app_name = "triage"
urlpatterns = [
    path("triage/", views.queue, name="queue"),
    path("triage/bulk/", views.bulk, name="bulk"),
    path("triage/<int:pk>/", views.flag_page, name="flag"),
    path("triage/<int:pk>/assign/", views.assign_flag, name="assign"),
    path("api/v1/triage", api_views.triage_list, name="api-queue"),
    path("api/v1/triage/<int:pk>", api_views.triage_flag, name="api-flag"),
]
