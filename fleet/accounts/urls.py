"""Login and logout, without a namespace: `LOGIN_URL = "login"` and templates name them so."""

from django.urls import path

from fleet.accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    # Included ahead of admin.site.urls, so the admin's own login answers 429 when refused too.
    path("admin/login/", views.admin_login),
]
