"""An app registration's certificate credential: one PEM file holding the private key and the
certificate whose public half was uploaded to the app in Entra ID.

MSAL signs its client assertion with the key and names the certificate by its SHA-1 thumbprint
(the `x5t` header Entra ID looks the certificate up by), so both are kept; the thumbprint is
computed here, never typed. The PEM is stored encrypted like a client secret (fleet.secrets).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

MAX_PEM_BYTES = 64 << 10


class CertificateError(ValueError):
    """The file is not a private key and its certificate, or they do not belong together."""


@dataclass(frozen=True)
class CertificateCredential:
    private_key_pem: str
    certificate_pem: str
    thumbprint: str  # SHA-1 of the DER certificate, upper-case hex, as Entra ID shows it

    @property
    def pem(self) -> str:
        """Key and certificate as one PEM text, the form stored and read back."""
        return self.private_key_pem + self.certificate_pem

    def for_msal(self) -> dict:
        return {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}


def load_certificate(data: bytes | str) -> CertificateCredential:
    """The credential in a PEM holding an unencrypted private key and its certificate."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_PEM_BYTES:
        raise CertificateError("the certificate file is larger than 64 KB")
    try:
        certificate = x509.load_pem_x509_certificate(raw)
    except ValueError:
        raise CertificateError("no PEM certificate (BEGIN CERTIFICATE) in the file") from None
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except TypeError:
        raise CertificateError(
            "the private key is encrypted; store it without a passphrase"
        ) from None
    except ValueError:
        raise CertificateError("no PEM private key (BEGIN PRIVATE KEY) in the file") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, public) != (
        certificate.public_key().public_bytes(serialization.Encoding.PEM, public)
    ):
        raise CertificateError("the private key does not belong to the certificate")
    return CertificateCredential(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Entra's x5t
    )
