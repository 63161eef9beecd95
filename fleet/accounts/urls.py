"""Login, logout, single sign-on and the account's second factor, without a namespace:
`LOGIN_URL = "login"` and templates name them so; the OpenID Connect names are the ones
mozilla-django-oidc reverses."""

from django.urls import path

from fleet.accounts import settings_views, sign_on_views, views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    # Included ahead of admin.site.urls, so the admin's own login answers 429 when refused too.
    path("admin/login/", views.admin_login),
    path(
        "oidc/authenticate/",
        sign_on_views.SignOnStart.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        sign_on_views.SignOnCallback.as_view(),
        name="oidc_authentication_callback",
    ),
    path("account/language/", views.choose_language, name="choose_language"),
    path("account/two-factor/", views.two_factor_page, name="two_factor"),
    path("settings/", settings_views.index, name="settings"),
    path("settings/tenants/", settings_views.tenants_page, name="settings-tenants"),
    path("settings/tenants/<int:pk>/", settings_views.tenant_edit, name="settings-tenant"),
    path("settings/people/", settings_views.people_page, name="settings-people"),
    path("settings/people/<int:pk>/role/", settings_views.grant_role, name="settings-grant-role"),
    path(
        "settings/people/<int:pk>/remove/",
        settings_views.grant_remove,
        name="settings-grant-remove",
    ),
    path("settings/tokens/", settings_views.tokens_page, name="settings-tokens"),
    path(
        "settings/tokens/<int:pk>/revoke/",
        settings_views.token_revoke,
        name="settings-token-revoke",
    ),
    path("settings/audit/", settings_views.audit_page, name="settings-audit"),
    path("invitation/<str:token>/", settings_views.invitation, name="invitation"),
]
