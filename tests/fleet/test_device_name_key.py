"""device_name_key: how device names from exports and agents are matched."""

import pytest

from fleet.models import device_name_key


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
    ],
)
def test_name_key(name, key):
    assert device_name_key(name) == key
