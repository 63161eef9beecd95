"""Operator login and logout, and the admin's login; both logins go through the throttle."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views

from fleet.accounts.login_throttle import ThrottledAuthenticationForm, refused_as_429

login = refused_as_429(
    auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm)
)
logout = auth_views.LogoutView.as_view()
# The admin checks its form (`admin.site.login_form`, set in `fleet/accounts/admin.py`); this
# only turns its refusal into a 429.
admin_login = refused_as_429(admin.site.login)
