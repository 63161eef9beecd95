"""An app registration that signs in with a certificate instead of a secret: the PEM is stored
encrypted and never shown, its thumbprint computed, and the stand-in's token endpoint accepts
only a client assertion signed by the registered certificate's key."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from fleet.connectors.certificates import CertificateError, load_certificate
from fleet.connectors.models import Connector
from fleet.connectors.pulls import pull
from fleet.models import Occurrence
from tests.factories import UserFactory, client_for
from tests.fleet.connectors.microsoft_server import CLIENT_ID, ENTRA_TENANT, STORED

pytestmark = pytest.mark.django_db


def _pair(name: str = "fleet-errors connector") -> tuple[bytes, bytes, str]:
    """(private key PEM, certificate PEM, SHA-1 thumbprint) of a new self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    return key_pem, cert_pem, certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303


@pytest.fixture(scope="module")
def pair():
    return _pair()


def _connect(tmp_path, key_pem: bytes, cert_pem: bytes, capsys) -> tuple[Connector, str]:
    pem = tmp_path / "connector.pem"
    pem.write_bytes(key_pem + cert_pem)
    call_command("connect_tenant", "acme", "--entra-tenant-id", ENTRA_TENANT,
                 "--client-id", CLIENT_ID, "--certificate-file", str(pem),
                 "--workspace-id", "9a8b7c6d-0000-4000-8000-00000000cccc")  # fmt: skip
    return Connector.objects.get(tenant__slug="acme"), capsys.readouterr().out


def test_connect_tenant_stores_the_certificate_encrypted(tenant, tmp_path, capsys, pair):
    key_pem, cert_pem, thumbprint = pair
    connector, out = _connect(tmp_path, key_pem, cert_pem, capsys)
    assert connector.certificate_thumbprint == thumbprint
    assert f"the certificate {thumbprint} is stored encrypted" in out
    assert connector.uses_certificate and connector.client_secret_encrypted == ""
    assert b"PRIVATE KEY" not in connector.client_certificate_encrypted.encode()
    assert "PRIVATE KEY" not in out
    credential = connector.credential()
    assert credential["thumbprint"] == thumbprint
    assert "BEGIN PRIVATE KEY" in credential["private_key"]


def test_a_pull_signs_in_with_the_certificate(tenant, microsoft, tmp_path, capsys, pair):
    key_pem, cert_pem, thumbprint = pair
    connector, _out = _connect(tmp_path, key_pem, cert_pem, capsys)
    microsoft.certificate = cert_pem
    microsoft.secret = "no secret is registered"  # noqa: S105 - only the certificate works
    result = pull(connector)
    assert result.errors == []
    assert Occurrence.objects.count() == STORED
    # MSAL sent signed assertions (one per resource), naming the certificate by thumbprint.
    assert microsoft.assertions
    assert all(a["claims"]["sub"] == CLIENT_ID for a in microsoft.assertions)
    tokens = [r for r in microsoft.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert tokens and all(b"client_secret=" not in r.body for r in tokens)


def test_a_certificate_the_app_does_not_have_is_refused_clearly(
    tenant, microsoft, tmp_path, capsys, pair
):
    key_pem, cert_pem, thumbprint = pair
    connector, _out = _connect(tmp_path, key_pem, cert_pem, capsys)
    microsoft.certificate = _pair("another")[1]  # the app has another certificate
    pull(connector)
    connector.refresh_from_db()
    assert connector.last_status == Connector.Status.FAILED
    assert "AADSTS700027" in connector.last_error
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = admin.get("/tenants/acme/connector/").content.decode()
    assert "AADSTS700027" in page
    assert thumbprint in page  # which certificate is set: its thumbprint, never its key
    assert "PRIVATE KEY" not in page and "BEGIN CERTIFICATE" not in page


def test_the_page_takes_a_certificate_upload(tenant, pair):
    key_pem, cert_pem, thumbprint = pair
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {"entra_tenant_id": ENTRA_TENANT, "client_id": CLIENT_ID, "workspace_id": "",
            "interval_minutes": 360, "enabled": "on"}  # fmt: skip
    refused = admin.post(
        "/tenants/acme/connector/",
        {**form, "certificate": SimpleUploadedFile("c.pem", cert_pem)},  # no key in it
    )
    assert refused.status_code == 200
    assert "No PEM private key" in refused.content.decode()
    both = admin.post(
        "/tenants/acme/connector/",
        {
            **form,
            "client_secret": "s3cret",
            "certificate": SimpleUploadedFile("c.pem", key_pem + cert_pem),
        },  # fmt: skip
    )
    assert "Give a client secret or a certificate, not both." in both.content.decode()
    assert not Connector.objects.filter(tenant=tenant).exists()
    response = admin.post(
        "/tenants/acme/connector/",
        {**form, "certificate": SimpleUploadedFile("c.pem", key_pem + cert_pem)},
    )
    assert response.status_code == 302
    connector = Connector.objects.get(tenant=tenant)
    assert connector.certificate_thumbprint == thumbprint
    page = admin.get("/tenants/acme/connector/").content.decode()
    assert f"a certificate, thumbprint <code>{thumbprint}</code>" in page


def test_a_pem_is_refused_for_what_it_lacks(pair):
    key_pem, cert_pem, _thumbprint = pair
    other_key = _pair("other")[0]
    with pytest.raises(CertificateError, match="does not belong"):
        load_certificate(other_key + cert_pem)
    with pytest.raises(CertificateError, match="no PEM certificate"):
        load_certificate(key_pem)
    encrypted = serialization.load_pem_private_key(key_pem, None).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(CertificateError, match="encrypted"):
        load_certificate(encrypted + cert_pem)
    assert load_certificate(cert_pem + key_pem).thumbprint == _thumbprint
