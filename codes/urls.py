from django.urls import path

from codes import views

app_name = "codes"
urlpatterns = [
    path("codes/", views.code_list, name="list"),
    path("codes/<str:code>/", views.code_detail, name="detail"),
]
