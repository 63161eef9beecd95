from django.urls import path

from codes import api, views

app_name = "codes"
urlpatterns = [
    path("codes/", views.code_list, name="list"),
    path("codes/<str:code>/", views.code_detail, name="detail"),
    path("codes/<str:code>/notes/", views.add_note, name="add_note"),
    path("codes/<str:code>/notes/<int:note_id>/delete/", views.delete_note, name="delete_note"),
    path("api/v1/codes/<str:code>", api.code_detail, name="api_detail"),
]
