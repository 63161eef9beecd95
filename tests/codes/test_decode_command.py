"""`manage.py decode CODE [--json]`, in-process and as operators run it from a shell."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

REPO = Path(__file__).resolve().parents[2]
JSON_KEYS = {
    "hex", "value", "unsigned", "signed", "extension", "name", "name_kind", "symbolic_name",
    "given_name", "other_names",
    "message", "message_source", "title", "header", "component", "facility", "facility_name",
    "hresult_severity", "hresult", "severity", "severity_reason", "family", "family_name",
    "win32", "ntstatus", "curated", "in_catalog", "sources",
}  # fmt: skip


def run_json(*args) -> dict:
    out = StringIO()
    call_command("decode", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_json_for_call_cancelled_has_every_key_and_the_right_values():
    data = run_json("-2145124341")
    assert set(data) == JSON_KEYS
    assert data["hex"] == "0x8024000B"
    assert data["name"] == "WU_E_CALL_CANCELLED"
    assert (data["name_kind"], data["symbolic_name"]) == ("symbolic", "WU_E_CALL_CANCELLED")
    assert (data["facility"], data["facility_name"]) == (36, "Windows Update")
    assert (data["signed"], data["unsigned"]) == (-2145124341, 2149842955)
    assert data["severity"] == "warning"
    assert data["hresult_severity"] == "failure"
    assert data["family"] == "windows-update"
    assert data["win32"] is None


@pytest.mark.django_db
def test_negative_decimal_is_accepted_as_the_code_argument():
    data = run_json("-2145107957")
    assert (data["hex"], data["name"], data["unsigned"]) == (
        "0x8024400B",
        "WU_E_PT_SOAP_VERSION",
        2149859339,
    )


@pytest.mark.django_db
def test_win32_object_for_wrapped_and_small_decimal_codes():
    wrapped = run_json("0x80070005")
    assert wrapped["win32"] == {
        "code": 5,
        "name": "ERROR_ACCESS_DENIED",
        "message": "Access is denied.",
        "hresult": "0x80070005",
    }
    small = run_json("1603")
    assert small["value"] == 1603
    assert small["win32"]["hresult"] == "0x80070643"
    assert small["name"] == "ERROR_INSTALL_FAILURE"


@pytest.mark.django_db
def test_setup_code_with_extension_unquoted_keeps_the_extension():
    data = run_json("0xC1900101", "-", "0x30018")
    assert (data["hex"], data["extension"], data["family"]) == ("0xC1900101", "30018", "setup")
    assert data["ntstatus"]["severity"] == "error"


@pytest.mark.django_db
def test_text_output_names_the_code_and_its_family():
    out = StringIO()
    call_command("decode", "0x80073712", stdout=out)
    text = out.getvalue()
    assert "ERROR_SXS_COMPONENT_STORE_CORRUPT" in text
    assert "[cbs]" in text
    assert "signed -2147010798" in text


@pytest.mark.django_db
def test_invalid_code_is_a_command_error_saying_why():
    with pytest.raises(CommandError, match="not valid hex"):
        call_command("decode", "0xNOPE")


def _manage(tmp_path, *args) -> subprocess.CompletedProcess:
    # A database file with no tables: decode must work before migrate/import_codes.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    return subprocess.run(
        [sys.executable, "manage.py", "decode", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shell_invocation_with_negative_decimal_works_before_any_import(tmp_path):
    done = _manage(tmp_path, "-2145124341", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["hex"], data["name"], data["severity"]) == (
        "0x8024000B",
        "WU_E_CALL_CANCELLED",
        "warning",
    )
    other = _manage(tmp_path, "-2145107957", "--json")
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout)["hex"] == "0x8024400B"


def test_shell_invocation_with_bad_code_fails_with_the_reason(tmp_path):
    done = _manage(tmp_path, "99999999999")
    assert done.returncode != 0
    assert "too many digits" in done.stderr


@pytest.mark.django_db
def test_a_code_microsoft_names_no_symbol_for_is_named_by_its_documented_title():
    data = run_json("0x87D1041C")
    assert data["symbolic_name"] == ""
    assert data["name_kind"] == "title"
    assert data["name"] == data["title"] == "App not detected after installation"


@pytest.mark.django_db
def test_a_code_nobody_names_has_no_name_kind():
    data = run_json("0x8BAD1234")
    assert (data["name"], data["name_kind"], data["symbolic_name"]) == ("", "", "")
