from django.urls import path

from fleet.triage import views

app_name = "triage"
urlpatterns = [
    path("triage/", views.queue, name="queue"),
    path("triage/<int:pk>/", views.flag_detail, name="flag"),
]
