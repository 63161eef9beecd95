from django import forms
from django.contrib import admin

from fleet.connectors.models import Connector


class ConnectorAdminForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown again; empty keeps the stored one.",
    )

    class Meta:
        model = Connector
        fields = ["tenant", "entra_tenant_id", "client_id", "workspace_id", "enabled",
                  "interval_minutes", "next_run_at"]  # fmt: skip

    def clean(self) -> dict:
        data = super().clean()
        if not self.instance.has_credential and not data.get("client_secret"):
            self.add_error("client_secret", "A new connector needs the client secret.")
        return data

    def save(self, commit: bool = True) -> Connector:
        if secret := self.cleaned_data.get("client_secret"):
            self.instance.set_client_secret(secret)
        return super().save(commit)


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    form = ConnectorAdminForm
    list_display = ["tenant", "enabled", "last_status", "last_run_at", "next_run_at",
                    "last_rows_imported"]  # fmt: skip
    list_filter = ["last_status", "enabled"]
    readonly_fields = [
        "last_run_at",
        "last_finished_at",
        "running_since",
        "last_status",
        "last_error",
        "last_rows_imported",
        "last_reports",
        "watermarks",
        "certificate_thumbprint",
    ]
