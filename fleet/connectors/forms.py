from __future__ import annotations

import re

from django import forms

from fleet.connectors.models import Connector

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _guid(value: str, what: str) -> str:
    value = value.strip()
    if not _GUID.match(value):
        raise forms.ValidationError(
            f"{what} is a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"
        )
    return value.lower()


class ConnectorForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted, never shown again. Leave empty to keep the stored one.",
    )

    class Meta:
        model = Connector
        fields = ["entra_tenant_id", "client_id", "workspace_id", "interval_minutes", "enabled"]

    def clean_entra_tenant_id(self) -> str:
        return _guid(self.cleaned_data["entra_tenant_id"], "The Entra tenant id")

    def clean_client_id(self) -> str:
        return _guid(self.cleaned_data["client_id"], "The client id")

    def clean_workspace_id(self) -> str:
        value = self.cleaned_data["workspace_id"].strip()
        return _guid(value, "The workspace id") if value else ""

    def clean_interval_minutes(self) -> int:
        value = self.cleaned_data["interval_minutes"]
        if not 15 <= value <= 10080:
            raise forms.ValidationError("Between 15 minutes and a week (10080).")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if not self.instance.client_secret_encrypted and not data.get("client_secret"):
            self.add_error("client_secret", "A new connector needs the app's client secret.")
        return data

    def save(self, commit: bool = True) -> Connector:
        if secret := self.cleaned_data.get("client_secret"):
            self.instance.set_client_secret(secret)
        return super().save(commit)
