"""device_name_key: how device names from exports and agents are matched."""

import pytest
from django.core.exceptions import ValidationError

from fleet.ingest.devices import DeviceRef, resolve_devices
from fleet.models import Device, device_name_key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("PC-0042", "pc-0042"),
        ("PC-0042.contoso.local", "pc-0042"),
        ("pc-0042.", "pc-0042"),
        ("CONTOSO\\PC-0042", "pc-0042"),
        ("10.0.0.17", "10.0.0.17"),  # an IP address keeps its dots
        ("fe80::1", "fe80::1"),
        ("2001:DB8::5", "2001:db8::5"),
        ("1.2.3", "1"),  # digits and dots, but not an address: a host name with a domain
        ("1234", "1234"),
        ("123.example.com", "123"),
        ("  ", ""),
        # No host part: the key is empty, and importer and API reject the name.
        ("CHC\\", ""),
        ("DOMAIN\\", ""),
        ("\\", ""),
        (".", ""),
        (".corp.local", ""),
        ("CHC\\.corp.local", ""),
    ],
)
def test_name_key(name, key):
    assert device_name_key(name) == key


@pytest.mark.django_db
@pytest.mark.parametrize("hostname", ["CHC\\", ".corp.local", "PC-0001.other.domain"])
def test_the_device_form_refuses_a_name_with_no_key_or_a_taken_key(device, hostname):
    # `device` is PC-0001.acme.local: the third name is the same device key.
    with pytest.raises(ValidationError) as refused:
        Device(tenant=device.tenant, hostname=hostname).full_clean()
    assert "hostname" in refused.value.message_dict


@pytest.mark.django_db
def test_the_device_form_accepts_its_own_name_and_a_new_one(device):
    device.full_clean()
    Device(tenant=device.tenant, hostname="PC-0002").full_clean()


@pytest.mark.django_db
def test_resolving_devices_refuses_an_empty_name_key_rather_than_merging(tenant):
    with pytest.raises(ValueError, match="no host part"):
        resolve_devices(tenant, {"": DeviceRef(hostname="CHC\\"), "pc-1": DeviceRef("PC-1")})
    assert not Device.objects.exists()
