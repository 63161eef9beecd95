"""Channel secrets: encrypted at rest by the shared helpers of `fleet.secrets` (moved there when
the connectors needed them too); this name stays for the alerts slice's imports."""

from fleet.secrets import SecretUnreadable, decrypt, encrypt

__all__ = ["SecretUnreadable", "decrypt", "encrypt"]
