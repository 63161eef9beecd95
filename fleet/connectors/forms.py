from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fleet.connectors.certificates import (
    MAX_PEM_BYTES,
    CertificateCredential,
    CertificateError,
    load_certificate,
)
from fleet.connectors.models import Connector

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _guid(value: str, what: str) -> str:
    """`what` is a whole translated sentence with %(example)s, so French can order it."""
    value = value.strip()
    if not _GUID.match(value):
        raise forms.ValidationError(what % {"example": "72f988bf-86f1-41af-91ab-2d7cd011db47"})
    return value.lower()


class ConnectorForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        label=_("Client secret"),
        help_text=_("Stored encrypted, never shown again. Leave empty to keep the stored one."),
    )

    certificate = forms.FileField(
        required=False,
        label=_("Certificate (instead of a secret)"),
        help_text=_(
            "A PEM file with the private key and the certificate uploaded to the app "
            "registration. Stored encrypted, never shown again; replaces the secret."
        ),
    )

    class Meta:
        model = Connector
        fields = ["entra_tenant_id", "client_id", "workspace_id", "interval_minutes", "enabled"]
        # Here rather than on the model: the model's English stays as its migrations say.
        labels = {
            "entra_tenant_id": _("Entra tenant id"),
            "client_id": _("Client id"),
            "workspace_id": _("Log Analytics workspace id"),
            "interval_minutes": _("Interval (minutes)"),
            "enabled": pgettext_lazy("connector", "Enabled"),
        }
        help_texts = {
            "entra_tenant_id": _("Directory (tenant) id of the customer."),
            "client_id": _("Application (client) id of the app registration."),
            "workspace_id": _("Windows Update for Business reports workspace; empty: not pulled."),
            "interval_minutes": _(
                "Minutes between scheduled pulls (the reports are daily states)."
            ),
            "enabled": _("Pulled on its schedule."),
        }

    def clean_entra_tenant_id(self) -> str:
        return _guid(
            self.cleaned_data["entra_tenant_id"],
            gettext("The Entra tenant id is a GUID such as %(example)s"),
        )

    def clean_client_id(self) -> str:
        return _guid(
            self.cleaned_data["client_id"], gettext("The client id is a GUID such as %(example)s")
        )

    def clean_workspace_id(self) -> str:
        value = self.cleaned_data["workspace_id"].strip()
        return (
            _guid(value, gettext("The workspace id is a GUID such as %(example)s")) if value else ""
        )

    def clean_interval_minutes(self) -> int:
        value = self.cleaned_data["interval_minutes"]
        if not 15 <= value <= 10080:
            raise forms.ValidationError(gettext("Between 15 minutes and a week (10080)."))
        return value

    def clean_certificate(self) -> CertificateCredential | None:
        upload = self.cleaned_data.get("certificate")
        if not upload:
            return None
        if upload.size > MAX_PEM_BYTES:
            raise forms.ValidationError(gettext("The certificate file is larger than 64 KB."))
        try:
            return load_certificate(upload.read())
        except CertificateError as exc:
            message = str(exc)
            raise forms.ValidationError(f"{message[:1].upper()}{message[1:]}.") from None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("client_secret") and data.get("certificate"):
            self.add_error(
                "certificate", gettext("Give a client secret or a certificate, not both.")
            )
        elif (
            not self.instance.has_credential
            and not data.get("client_secret")
            and not data.get("certificate")
            and "certificate" not in self.errors
        ):
            self.add_error(
                "client_secret", gettext("A new connector needs the app's secret or certificate.")
            )
        return data

    def save(self, commit: bool = True) -> Connector:
        if secret := self.cleaned_data.get("client_secret"):
            self.instance.set_client_secret(secret)
        elif credential := self.cleaned_data.get("certificate"):
            self.instance.set_certificate(credential)
        return super().save(commit)
