"""The optional second factor of local accounts: a TOTP authenticator app (django-otp).

A person turns it on from their account page by scanning a QR code and typing one code back;
from then on the login form (operator and admin alike) asks for the current code with the
password. Accounts that sign in through single sign-on leave the second factor to their
provider, which is where their password lives too.
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth.models import AbstractBaseUser
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"


def enrolled(user: AbstractBaseUser) -> bool:
    """Whether this user must give a code at login."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def check_code(user: AbstractBaseUser, code: str) -> bool:
    """Whether `code` is the current code of the user's confirmed device. A code is good once
    (django-otp remembers the last step used), and failures slow further tries down."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device is not None and device.verify_token(code.strip().replace(" ", ""))


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed device being set up: the same secret until it is confirmed or removed,
    so reloading the page does not invalidate the code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm(user: AbstractBaseUser, code: str) -> bool:
    """Turn the second factor on if `code` comes from the scanned secret."""
    device = pending_device(user)
    if not device.verify_token(code.strip().replace(" ", "")):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return True


def turn_off(user: AbstractBaseUser, code: str) -> bool:
    """Remove the second factor, given a current code (a stolen session alone cannot)."""
    if not check_code(user, code):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    return True


def secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no script)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)
