"""The committed catalog file and the script that regenerates it from the SDK headers."""

import gzip
import importlib.util
import json
import re
from pathlib import Path

import pytest

from codes.catalog import DATA_FILE, load_catalog, read_catalog
from tests.tools import WUERROR, has_tool

REPO = Path(__file__).resolve().parents[2]


def load_build_script():
    spec = importlib.util.spec_from_file_location(
        "build_catalog", REPO / "scripts/build_catalog.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_has_enough_named_codes_and_messages():
    catalog = load_catalog()
    named = [entry for entry in catalog if entry.name]
    assert len({entry.value for entry in named}) >= 12000
    assert sum(1 for entry in catalog if entry.message) >= 5000


def test_catalog_holds_every_wu_e_name_of_wuerror_h():
    names = {name for entry in load_catalog() for name in entry.names}
    catalog_wu_e = {name for name in names if name.startswith("WU_E_")}
    # 447 from mingw-w64's wuerror.h; the full SDK's adds 11 (issue 17).
    assert len(catalog_wu_e) == 458
    sdk = (REPO / "scripts/sources/windows-sdk/wuerror.h.tsv").read_text()
    sdk_wu_e = set(re.findall(r"\t(WU_E_\w+)\t", sdk))
    assert len(sdk_wu_e) > 440
    assert sdk_wu_e - catalog_wu_e == set()
    if has_tool(WUERROR, "to compare the catalog with it name by name"):
        header_wu_e = set(re.findall(r"#define\s+(WU_E_\w+)", WUERROR.read_text()))
        assert header_wu_e - catalog_wu_e == set()


def test_catalog_file_carries_attribution_with_licences():
    data = json.loads(gzip.decompress(DATA_FILE.read_bytes()))
    ids = {source["id"] for source in data["attribution"]["sources"]}
    assert ids == {
        "mingw-w64-headers",
        "windows-sdk-headers",
        "MS-ERREF",
        "ms-wu-error-reference",
        "ms-wu-common-errors",
        "ms-win32-com-error-codes",
    } | {
        # The families outside the headers (scripts/sources/families/, issue 17).
        "ms-setup-resolution-procedures",
        "ms-mdm-registration-constants",
        "ms-mdm-enrollment-error-codes",
        "ms-autopilot-known-issues",
        "ms-do-return-values",
        "ms-intune-app-install-errors",
        "configmgr-client-messages",
        "ms-fix-wu-corruption",
        "ms-wu-servicing-errors",
    }
    assert all(source["licence"] for source in data["attribution"]["sources"])
    assert data["attribution"]["generated_by"] == "python3 scripts/build_catalog.py"


def test_value_with_several_names_keeps_one_primary_and_lists_the_others():
    entry = load_catalog().get(0)
    assert entry.name == "ERROR_SUCCESS"
    assert {"S_OK", "NO_ERROR", "STATUS_SUCCESS"} <= set(entry.other_names)
    assert load_catalog().by_name("S_OK") is entry


def test_win32_codes_are_stored_with_names_and_messages():
    entry = load_catalog().get(2)
    assert (entry.name, entry.message) == (
        "ERROR_FILE_NOT_FOUND",
        "The system cannot find the file specified.",
    )
    assert "win32" in entry.namespaces
    assert load_catalog().get(0x8024000B).component == "Windows Update Agent"


def test_unreadable_catalog_file_names_the_path(tmp_path):
    bad = tmp_path / "catalog.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match=str(bad)):
        read_catalog(bad)


def test_header_parser_understands_every_macro_form(tmp_path):
    build = load_build_script()
    header = tmp_path / "winerror.h"
    header.write_text(
        "#define FACILITY_WINDOWSUPDATE 36\n"
        "#define DNS_ERROR_ZONE_BASE 9600\n"
        "#define OLE_E_FIRST ((HRESULT)0x80040000)\n"
        "#define ERROR_FILE_NOT_FOUND __MSABI_LONG(2)\n"
        "#define ERROR_ACCESS_DENIED 5L\n"
        "#define WU_E_CALL_CANCELLED _HRESULT_TYPEDEF_(0x8024000BL)\n"
        "#define STATUS_ACCESS_VIOLATION ((NTSTATUS)0xC0000005L)\n"
        "#define WSABASEERR 10000\n"
        "#define WSAEINTR (WSABASEERR + 4)\n"
        "#define DNS_ERROR_ZONE_DOES_NOT_EXIST (DNS_ERROR_ZONE_BASE + 1)\n"
        "#define E_ACCESSDENIED_ALIAS ERROR_ACCESS_DENIED\n"
        "#define E_FROM_WIN32 HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)\n"
        "#define WU_E_PT_SOAPCLIENT_BASE _HRESULT_TYPEDEF_(0x80244000)\n"
        "#define SOME_FUNCTION(x) ((x) + 1)\n"
        "#define ERROR_NDIS_INTERFACE_CLOSING _NDIS_ERROR_TYPEDEF_(0x80340002L)\n"
        "#define ERROR_IMAGE_NOT_AT_BASE 700L\n"
    )
    found = {name: (value, alias) for name, value, alias in build.parse_header(header)}
    assert found == {
        "ERROR_FILE_NOT_FOUND": (2, False),
        "ERROR_ACCESS_DENIED": (5, False),
        "WU_E_CALL_CANCELLED": (0x8024000B, False),
        "STATUS_ACCESS_VIOLATION": (0xC0000005, False),
        "WSAEINTR": (10004, False),
        "DNS_ERROR_ZONE_DOES_NOT_EXIST": (9601, False),
        "E_ACCESSDENIED_ALIAS": (5, True),
        "E_FROM_WIN32": (0x80070002, False),
        "WU_E_PT_SOAPCLIENT_BASE": (0x80244000, False),
        # The full SDK's forms (issue 17).
        "ERROR_NDIS_INTERFACE_CLOSING": (0x80340002, False),
        "ERROR_IMAGE_NOT_AT_BASE": (700, False),
    }


def test_mdm_registration_header_gives_its_make_hresult_codes_and_no_helpers(tmp_path):
    header = tmp_path / "MDMRegistration.h"
    header.write_text(
        "#define DEVICE_ENROLLER_FACILITY_CODE 24\n"
        "#define DEVICEREGISTRATIONTYPE_MAM 5\n"
        "#define MENROLL_E_DEVICE_NOT_ENROLLED MAKE_HRESULT(SEVERITY_ERROR, "
        "DEVICE_ENROLLER_FACILITY_CODE, 11)\n"
        "#define MENROLL_E_UNKNOWN MAKE_HRESULT(SEVERITY_ERROR, NO_SUCH_MACRO, 1)\n"
    )
    found = load_build_script().parse_header(header)
    assert found == [("MENROLL_E_DEVICE_NOT_ENROLLED", 0x8018000B, False)]


@pytest.mark.needs_tool(WUERROR, "the build script reads the mingw-w64-common headers")
def test_build_script_regenerates_the_committed_file_byte_for_byte(tmp_path):
    # Runs the real script (it re-executes itself in the throwaway impacket venv).
    import os
    import subprocess
    import sys

    out = tmp_path / "catalog.json.gz"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/build_catalog.py"), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == DATA_FILE.read_bytes()
    # A second run gives the same bytes (same file name: gzip records it in its header).
    again = tmp_path / "again" / "catalog.json.gz"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts/build_catalog.py"), "--output", str(again)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == out.read_bytes()
