"""Search ranks on the real catalog: what an operator types finds the code they meant among
the first results, and the list opens on their own fleet's codes."""

from __future__ import annotations

import re
from datetime import date

import pytest

from codes.search import search_codes
from fleet.models import DailyCodeStat
from tests.factories import TenantFactory, UserFactory, client_for

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<td class="mono"><a href="/codes/(0x[0-9A-F]{8})/">')


def listed(client, **params) -> list[str]:
    response = client.get("/codes/", params)
    assert response.status_code == 200
    return ROW.findall(response.content.decode())


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cancelled", "0x8024000B"),  # must show
        ("1603", "0x80070643"),  # must show: the Win32 number of an MSI failure
        ("0x8024000B", "0x8024000B"),
        ("-2145124341", "0x8024000B"),
        ("WU_E_CALL_CANCELLED", "0x8024000B"),
        ("ERROR_INSTALL_FAILURE", "0x80070643"),
        ("0x80070643", "0x80070643"),
        ("access denied", "0x80070005"),
        ("MOSETUP_E_SETUP_PLATFORM", "0xC1900101"),
        ("12029", "0x80072EFD"),  # WinInet cannot connect, as Windows Update reports it
    ],
)
def test_what_an_operator_types_is_in_the_first_three(catalog, logged_in, query, code):
    assert code in listed(logged_in, q=query)[:3], query


def test_exact_name_is_first_and_curated_pages_lead_the_rest(catalog):
    assert search_codes("WU_E_CALL_CANCELLED").codes[0].hex == "0x8024000B"
    ranked = list(search_codes("cancelled").codes[:20])
    curated = [code.curated for code in ranked]
    # Every curated match comes before every other one.
    assert curated == sorted(curated, reverse=True) and curated[0]


def test_a_small_number_offers_the_win32_code_then_its_hresult(catalog):
    assert [c.hex for c in search_codes("1603").codes] == ["0x00000643", "0x80070643"]
    # A code with the failure bit set is only itself.
    assert [c.hex for c in search_codes("0x80070643").codes] == ["0x80070643"]


def test_the_list_opens_on_the_codes_seen_at_the_operators_tenants(
    catalog, logged_in, tenant, other_tenant
):
    day = date(2026, 11, 20)
    DailyCodeStat.objects.bulk_create(
        [
            DailyCodeStat(tenant=tenant, code=0x80070643, day=day, occurrences=5, devices=2),
            DailyCodeStat(tenant=tenant, code=0x8024000B, day=day, occurrences=40, devices=9),
            DailyCodeStat(tenant=other_tenant, code=0x80072EFD, day=day, occurrences=900),
        ]
    )
    assert listed(logged_in) == ["0x8024000B", "0x80070643"]
    page = logged_in.get("/codes/").content.decode()
    assert "seen at your tenants" in page and 'href="?all=1"' in page
    everything = listed(logged_in, all="1")
    assert len(everything) == 50 and everything == sorted(everything)
    # Someone whose tenants have seen nothing gets the catalog, as before.
    newcomer = UserFactory()
    TenantFactory(slug="quiet").operators.add(newcomer)
    assert len(listed(client_for(newcomer))) == 50


def test_the_hints_show_true_pairs(logged_in, db):
    page = logged_in.get("/codes/").content.decode()
    assert "-2145124341" in page and "2149842955" in page
    assert "-2145107957" not in page  # that is 0x8024400B
