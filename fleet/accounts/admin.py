from django.contrib import admin

from fleet.accounts.login_throttle import ThrottledAdminAuthenticationForm
from fleet.accounts.models import LoginFailure, SingleSignOnIdentity

# The admin's login refuses after repeated failures, like the operator login.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failures are written by the login forms only; deleting a username's rows lifts its
    refusal at once, without waiting out the window."""

    list_display = ["username", "address", "failed_at"]
    list_filter = ["failed_at"]
    search_fields = ["username", "address"]
    date_hierarchy = "failed_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SingleSignOnIdentity)
class SingleSignOnIdentityAdmin(admin.ModelAdmin):
    """Which provider account signs in as which user. Deleting a row unlinks it: the next
    sign-in with that account links by verified address again or makes a new user."""

    list_display = ["user", "email", "issuer", "granted_msp_admin", "last_seen_at"]
    list_filter = ["issuer", "granted_msp_admin"]
    search_fields = ["user__username", "email", "subject"]
    readonly_fields = ["user", "issuer", "subject", "email", "granted_msp_admin", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
