from django.urls import path

from fleet.alerts import views

app_name = "alerts"
urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
]
