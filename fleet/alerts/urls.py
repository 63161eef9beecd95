from django.urls import path

from fleet.alerts import api_views, views

app_name = "alerts"
urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    path("alerts/rules/new/", views.rule_edit, name="rule_new"),
    path("alerts/rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("alerts/rules/<int:rule_id>/test/", views.rule_test, name="rule_test"),
    path("alerts/rules/<int:rule_id>/pause/", views.rule_pause, name="rule_pause"),
    path("alerts/rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("api/v1/alert-rules", api_views.rule_list, name="api-rules"),
    path("api/v1/alert-rules/<int:pk>", api_views.rule_detail, name="api-rule"),
    path("api/v1/alert-rules/<int:pk>/test", api_views.rule_test, name="api-rule-test"),
    path("api/v1/alerts", api_views.alert_list, name="api-alerts"),
]
