"""The catalog from the full Windows SDK headers (issue 17): extracts, names, facilities."""

import re
from pathlib import Path

from codes.catalog import load_catalog
from codes.decode import decode
from codes.facilities import FACILITIES, facility_name, sdk_facility_names

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "scripts" / "sources" / "windows-sdk"


def extract_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines() if line[:2] == "0x"]


def test_sdk_extracts_carry_provenance_and_only_facts():
    for path in sorted(SDK.glob("*.h.tsv")):
        text = path.read_text()
        assert "# repo: microsoft/win32metadata" in text, path
        assert re.search(r"# commit: [0-9a-f]{40}", text), path
        assert "MessageText" not in text.replace("none of its comments or MessageText", "")
        rows = extract_rows(path)
        assert rows, path
        assert all(len(row) == 3 and row[2] in ("yes", "no") for row in rows), path
        values = [int(row[0], 16) for row in rows]
        assert values == sorted(values), f"{path} is not sorted by value"


def test_sdk_extracts_hold_about_what_the_sdk_defines():
    counts = {path.name: len(extract_rows(path)) for path in SDK.glob("*.h.tsv")}
    assert counts["winerror.h.tsv"] > 7100
    assert counts["ntstatus.h.tsv"] > 2900
    assert counts["wuerror.h.tsv"] == 477
    assert counts["deliveryoptimizationerrors.h.tsv"] == 82


def test_codes_only_the_full_sdk_defines_are_named():
    catalog = load_catalog()
    assert catalog.get(0x887A0005).name == "DXGI_ERROR_DEVICE_REMOVED"  # not in mingw-w64
    assert catalog.get(0x887A0005).header == "winerror.h"
    assert catalog.get(0x80D02002).header == "deliveryoptimizationerrors.h"
    # ...with a message from Microsoft's COM error-code pages where [MS-ERREF] has none.
    fve = catalog.get(0x8031003B)
    assert fve.name == "FVE_E_NO_PROTECTORS_TO_TEST"
    assert fve.message_source == "Microsoft, COM Error Codes (CC BY 4.0)"
    assert fve.message.startswith("No key protectors exist on the drive")


def test_windows_update_texts_keep_their_pages_over_the_com_pages():
    entry = load_catalog().get(0x8024000B)
    assert entry.message_source.startswith("Microsoft, Windows Update error codes by component")


def test_family_page_name_leads_over_a_name_only_the_sdk_gives():
    # winerror.h calls 0x80190001 HTTP_E_STATUS_UNEXPECTED; the MDM registration page's name
    # leads as it did before the SDK extracts, and the SDK's is kept.
    entry = load_catalog().get(0x80190001)
    assert entry.name == "MREGISTER_E_DEVICE_MESSAGE_FORMAT_ERROR"
    assert "HTTP_E_STATUS_UNEXPECTED" in entry.other_names
    assert entry.message_source.startswith("Microsoft, MDM registration error values")


def test_every_sdk_facility_has_a_name_in_decode():
    rows = [
        line.split("\t")
        for line in (SDK / "facilities.tsv").read_text().splitlines()
        if line[:1].isdigit()
    ]
    numbers = {int(number) for number, name in rows if name != "FACILITY_NT_BIT"}
    assert len(numbers) > 140
    for number in numbers:
        assert not facility_name(number).startswith("Facility "), number
    assert sdk_facility_names()[2170] == "FACILITY_DXGI"


def test_decode_names_a_facility_above_2047_from_the_sdk():
    decoded = decode("0x887A0005")
    assert (decoded.facility, decoded.facility_name) == (2170, "FACILITY_DXGI")
    assert decode("0x88890001").facility_name == FACILITIES[2185]  # Audio client


def test_our_facility_names_stay_where_they_are_more_specific():
    assert decode("0x80180014").facility_name == "MDM enrollment"  # not FACILITY_WINDOWSCE
    assert decode("0x87D00324").facility_name == "Configuration Manager"
    assert decode("0x87D1041C").facility_name == "Intune"
    assert 2000 not in sdk_facility_names() and 2001 not in sdk_facility_names()
