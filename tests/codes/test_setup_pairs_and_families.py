"""Issue 17 item 2: result–extend pairs, and the families the SDK headers lack."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from codes.decode import decode
from codes.extend import installer_exit, setup_extend
from codes.knowledge import load_families
from codes.parse import parse_code


@pytest.mark.parametrize(
    "text", ["0xC1900101-0x4000D", "0xC1900101 - 0x4000D", "0xc1900101-4000d", "0xC1900101_4000D"]
)
def test_every_pair_notation_reads_as_result_and_extend(text):
    parsed = parse_code(text)
    assert (parsed.value, parsed.extension, parsed.notation) == (
        0xC1900101,
        "4000D",
        "0xC1900101-0x4000D",
    )


def test_extend_code_splits_into_phase_and_operation():
    x = setup_extend("4000D")
    assert (x.phase, x.phase_name, x.operation, x.operation_name) == (
        4,
        "SP_EXECUTION_OOBE_BOOT",
        0x0D,
        "SP_EXECUTION_OP_MIGRATE_DATA",
    )
    assert setup_extend("30018").operation_name == "SP_EXECUTION_OP_SYSPREP"
    unknown = setup_extend("C3FD")
    assert (unknown.phase_name, unknown.operation_name, unknown.known) == (
        "SP_EXECUTION_UNKNOWN",
        "",
        False,
    )


@pytest.mark.django_db
def test_decode_command_json_gives_result_name_phase_and_operation():
    out = StringIO()
    call_command("decode", "0xC1900101-0x4000D", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["hex"], data["name"], data["notation"]) == (
        "0xC1900101",
        "MOSETUP_E_SETUP_PLATFORM",
        "0xC1900101-0x4000D",
    )
    assert data["setup_extend"]["phase_name"] == "SP_EXECUTION_OOBE_BOOT"
    assert data["setup_extend"]["operation_name"] == "SP_EXECUTION_OP_MIGRATE_DATA"


@pytest.mark.django_db
def test_pair_page_answers_200_and_shows_phase_and_operation(logged_in):
    response = logged_in.get("/codes/0xC1900101-0x4000D/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "SP_EXECUTION_OOBE_BOOT" in html and "SP_EXECUTION_OP_MIGRATE_DATA" in html
    assert "MOSETUP_E_SETUP_PLATFORM" in html


@pytest.mark.django_db
def test_spaced_pair_redirects_to_the_pair_page(logged_in):
    response = logged_in.get("/codes/0xC1900101%20-%200x4000D/?range=7d")
    assert response.status_code == 302
    assert response["Location"] == "/codes/0xC1900101-0x4000D/?range=7d"


@pytest.mark.django_db
def test_api_item_for_a_pair(logged_in):
    data = logged_in.get("/api/v1/codes/0xC1900101-0x4000D").json()
    assert data["url"] == "/codes/0xC1900101-0x4000D/"
    assert (data["setup_extend"]["phase"], data["setup_extend"]["operation"]) == (4, 13)


def test_plain_codes_have_no_pair_keys():
    assert "setup_extend" not in decode("0xC1900101").as_dict()


def test_mdm_enrollment_is_not_windows_ce():
    d = decode("0x80180014")
    assert (d.name, d.family, d.facility_name) == (
        "MENROLL_E_DEVICENOTSUPPORTED",
        "mdm-enrollment",
        "MDM enrollment",
    )
    assert d.message


def test_configmgr_code_is_named_for_configuration_manager_without_dism_advice():
    d = decode("0x87D00324")
    assert (d.family, d.facility_name) == ("configmgr", "Configuration Manager")
    assert "not detected" in d.message
    family = load_families()["configmgr"]
    assert "DISM /" not in family.troubleshooting and "sfc /scannow" not in family.troubleshooting
    assert decode("0x87D1041C").facility_name == "Intune"


def test_device_registration_name_leads_over_a_coinciding_ntstatus_warning():
    d = decode("0x801C0001")
    assert d.name == "DSREG_E_DEVICE_MESSAGE_FORMAT_ERROR"
    assert "STATUS_FLT_BUFFER_TOO_SMALL" in d.other_names
    assert d.family == "device-registration"


@pytest.mark.parametrize(
    ("code", "family", "name"),
    [
        ("0x80D02002", "delivery-optimization", "DO_E_DOWNLOAD_NO_PROGRESS"),
        (
            "0x81039001",
            "device-registration",
            "E_AUTOPILOT_CLIENT_TPM_MAX_ATTESTATION_RETRY_EXCEEDED",
        ),
        ("0x80310000", "bitlocker", "FVE_E_LOCKED_VOLUME"),
        ("0x800F0984", "cbs", "PSFX_E_MATCHING_BINARY_MISSING"),
        ("0xC190020E", "setup", "MOSETUP_E_INSTALLDISKSPACE_BLOCK"),
    ],
)
def test_family_codes_decode_with_name_and_message(code, family, name):
    d = decode(code)
    assert (d.family, d.name) == (family, name)
    assert d.message


def test_bare_1603_reads_as_msi_exit_code_and_as_its_hresult():
    small, wrapped = decode("1603"), decode("0x80070643")
    assert small.installer_exit.intune_result == "failed"
    assert small.installer_exit.hresult == "0x80070643"
    assert wrapped.installer_exit.exit_code == 1603
    assert decode("1707").installer_exit.intune_result == "success"
    assert decode("3010").installer_exit.intune_result == "soft reboot"
    assert installer_exit(0x80070005) is None
