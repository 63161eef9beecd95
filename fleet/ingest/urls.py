from django.urls import path

from fleet.ingest import api_views, settings_views, views

app_name = "ingest"
urlpatterns = [
    path("api/v1/occurrences", api_views.post_occurrences, name="api-occurrences"),
    path("imports/", views.import_list, name="list"),
    path("settings/keys/", settings_views.keys_page, name="settings-keys"),
    path("settings/keys/<int:pk>/revoke/", settings_views.key_revoke, name="settings-key-revoke"),
    path("imports/new/", views.import_new, name="new"),
    path("imports/<int:pk>/", views.import_detail, name="detail"),
    path("imports/<int:pk>/undo/", views.import_undo, name="undo"),
    path("imports/<int:pk>/status.json", views.import_status, name="status"),
    path("imports/<int:pk>/rejected.csv", views.import_rejected_csv, name="rejected-csv"),
]
