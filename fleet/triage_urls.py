from django.urls import path

from fleet import triage_views

app_name = "triage"
urlpatterns = [
    path("triage/", triage_views.queue, name="queue"),
    path("triage/<int:pk>/", triage_views.flag_detail, name="flag"),
]
