from django.urls import path

from fleet.alerts import views

app_name = "alerts"
urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    path("alerts/rules/new/", views.rule_edit, name="rule_new"),
    path("alerts/rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("alerts/rules/<int:rule_id>/test/", views.rule_test, name="rule_test"),
    path("alerts/rules/<int:rule_id>/pause/", views.rule_pause, name="rule_pause"),
    path("alerts/rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
]
