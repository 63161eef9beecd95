"""The decoder: every notation operators and exports write, and what it tells about a value."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codes.decode import decode
from codes.parse import CodeError, ParsedCode, parse_code

u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)


def _signed(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


@pytest.mark.parametrize(
    ("text", "value", "extension"),
    [
        ("0x8024000B", 0x8024000B, ""),
        ("0x8024000b", 0x8024000B, ""),
        ("0X8024000B", 0x8024000B, ""),
        ("8024000B", 0x8024000B, ""),
        ("80070005", 0x80070005, ""),
        ("-2145124341", 0x8024000B, ""),
        ("2149842955", 0x8024000B, ""),
        ("5", 5, ""),
        ("1603", 1603, ""),
        ("0", 0, ""),
        ("  0x80240022 ", 0x80240022, ""),
        ("0xC1900101_C3FD", 0xC1900101, "C3FD"),
        ("0xC1900101 - 0x30018", 0xC1900101, "30018"),
        ("0x8024000B (WU_E_CALL_CANCELLED)", 0x8024000B, ""),
        ("+80070005", 80070005, ""),
    ],
)
def test_parse_code_reads_every_export_notation(text, value, extension):
    parsed = parse_code(text)
    assert (parsed.value, parsed.extension) == (value, extension)


def test_parse_code_keeps_the_name_written_beside_the_code_without_changing_equality():
    parsed = parse_code("0x8024000B (WU_E_CALL_CANCELLED)")
    assert parsed.given_name == "WU_E_CALL_CANCELLED"
    assert parsed == ParsedCode(0x8024000B)
    assert parsed.hex == "0x8024000B"
    assert parsed.signed == -2145124341


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "blank"),
        ("   ", "blank"),
        (None, "no code"),
        ("0x", "not valid hex"),
        ("0x123456789", "not valid hex"),
        ("0xZZ", "not valid hex"),
        ("4294967296", "outside the 32-bit range"),
        ("-2147483649", "outside the 32-bit range"),
        ("12345678901", "too many digits"),
        ("WU_E_CALL_CANCELLED", "is not a code"),
        ("0x8024000B (", "not valid hex"),
        ("x" * 100, "too long"),
    ],
)
def test_invalid_input_says_what_was_wrong(text, message):
    with pytest.raises(CodeError, match=message):
        parse_code(text)


def test_integers_are_taken_as_values_and_checked_for_range():
    assert parse_code(-2145124341).value == 0x8024000B
    assert decode(0x80070005).hex == "0x80070005"
    with pytest.raises(CodeError, match="outside the 32-bit range"):
        parse_code(1 << 32)
    with pytest.raises(CodeError):
        parse_code(True)


@given(u32)
def test_every_value_round_trips_through_each_hex_notation(value):
    for text in (f"0x{value:08X}", f"0x{value:08x}", f"{value:08X}", f"{value:08x}", hex(value)):
        assert parse_code(text).value == value, text


@given(u32)
def test_every_value_round_trips_through_signed_and_unsigned_decimal(value):
    for text in (str(value), str(_signed(value))):
        if len(text) == 8 and text.isdigit():
            # Documented ambiguity: eight bare digits read as hex, as logs print codes; a sign
            # makes the decimal reading explicit.
            assert parse_code(text).value == int(text, 16)
            assert parse_code("+" + text).value == value
        else:
            assert parse_code(text).value == value, text


@given(u32)
def test_decode_reports_consistent_hex_and_decimals(value):
    decoded = decode(value)
    assert decoded.hex == f"0x{value:08X}"
    assert decoded.unsigned == value
    assert decoded.signed == _signed(value)
    assert parse_code(str(decoded.signed) if decoded.signed < 0 else decoded.hex).value == value


@pytest.mark.parametrize(
    ("text", "hex_", "name", "family"),
    [
        ("0x8024000B", "0x8024000B", "WU_E_CALL_CANCELLED", "windows-update"),
        ("0x80240022", "0x80240022", "WU_E_ALL_UPDATES_FAILED", "windows-update"),
        ("0x8024402C", "0x8024402C", "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", "windows-update-network"),
        (
            "0x80244022",
            "0x80244022",
            "WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL",
            "windows-update-network",
        ),
        ("0x80070002", "0x80070002", "ERROR_FILE_NOT_FOUND", "win32"),
        ("0x80073712", "0x80073712", "ERROR_SXS_COMPONENT_STORE_CORRUPT", "cbs"),
        ("0x800705B4", "0x800705B4", "ERROR_TIMEOUT", "win32"),
        ("0x80070005", "0x80070005", "ERROR_ACCESS_DENIED", "win32"),
        ("0x800F0922", "0x800F0922", "CBS_E_INSTALLERS_FAILED", "cbs"),
        ("0x8024A005", "0x8024A005", "WU_E_AU_NO_REGISTERED_SERVICE", "windows-update"),
        ("0xC0000005", "0xC0000005", "STATUS_ACCESS_VIOLATION", "ntstatus"),
        ("0x80200053", "0x80200053", "BG_E_VALIDATION_FAILED", "bits"),
        ("1603", "0x00000643", "ERROR_INSTALL_FAILURE", "win32"),
    ],
)
def test_known_codes_decode_to_their_header_names(text, hex_, name, family):
    decoded = decode(text)
    assert (decoded.hex, decoded.name, decoded.family) == (hex_, name, family)


def test_code_without_a_name_still_decodes_fully():
    # wuerror.h names 0x8024A005, not 0x8024A105: the decoder must not invent a name.
    decoded = decode("0x8024A105")
    assert decoded.name != "WU_E_AU_NO_REGISTERED_SERVICE"
    assert (decoded.facility, decoded.facility_name) == (36, "Windows Update")
    assert decoded.family == "windows-update"


def test_wsus_signed_decimal_decodes_to_call_cancelled_as_a_warning():
    decoded = decode("-2145124341")
    assert decoded.hex == "0x8024000B"
    assert decoded.name == "WU_E_CALL_CANCELLED"
    assert (decoded.facility, decoded.facility_name) == (36, "Windows Update")
    assert (decoded.signed, decoded.unsigned) == (-2145124341, 2149842955)
    assert decoded.severity == "warning"
    assert decoded.hresult_severity == "failure"


def test_minus_2145107957_is_0x8024400B_not_0x8024000B():
    # The issue text pairs -2145107957 with 0x8024000B; the arithmetic says 0x8024400B.
    decoded = decode("-2145107957")
    assert (decoded.hex, decoded.unsigned) == ("0x8024400B", 2149859339)
    assert decoded.name == "WU_E_PT_SOAP_VERSION"


def test_hresult_fields_are_split_from_the_bits():
    fields = decode("0xC1900101 - 0x30018").hresult
    assert (fields.severity_bit, fields.reserved_bit, fields.customer_bit, fields.nt_bit) == (
        1,
        1,
        0,
        0,
    )
    assert (fields.facility, fields.code) == (0x190, 0x0101)
    decoded = decode("0xC1900101 - 0x30018")
    assert decoded.extension == "30018"
    assert decoded.family == "setup"


def test_hresult_from_win32_shows_the_win32_error_with_name_and_message():
    decoded = decode("0x80070005")
    assert decoded.win32.code == 5
    assert decoded.win32.name == "ERROR_ACCESS_DENIED"
    assert decoded.win32.message == "Access is denied."
    assert "E_ACCESSDENIED" in decoded.other_names


def test_small_decimal_is_a_win32_error_with_its_hresult_equivalent():
    decoded = decode("1603")
    assert decoded.value == 1603
    assert decoded.win32.hresult == "0x80070643"
    assert decoded.win32.name == "ERROR_INSTALL_FAILURE"
    assert decode("5").win32.hresult == "0x80070005"
    assert decode(decoded.win32.hresult).win32.code == 1603


def test_ntstatus_severity_for_error_warning_and_informational_codes():
    assert decode("0xC0000005").ntstatus.severity == "error"
    warning = decode("0x80000005")
    assert (warning.ntstatus.name, warning.ntstatus.severity) == (
        "STATUS_BUFFER_OVERFLOW",
        "warning",
    )
    assert warning.severity == "warning"
    info = decode("0x40000000")
    assert info.ntstatus.severity == "informational"
    assert info.severity == "informational"
    assert decode("0x8024000B").ntstatus is None


def test_hresult_from_nt_unwraps_the_ntstatus():
    decoded = decode("0xD0000022")
    assert decoded.hresult.nt_bit == 1
    assert decoded.ntstatus.from_hresult is True
    assert decoded.ntstatus.value == "0xC0000022"
    assert decoded.ntstatus.name == "STATUS_ACCESS_DENIED"
    assert decoded.name == "STATUS_ACCESS_DENIED"


def test_name_written_beside_an_unknown_code_is_kept():
    decoded = decode("0x8024FEED (WU_E_SOMETHING_NEW)")
    assert decoded.given_name == "WU_E_SOMETHING_NEW"
    assert decoded.name == "WU_E_SOMETHING_NEW"
    assert decode("0x8024000B (WU_E_CALL_CANCELLED)").name == "WU_E_CALL_CANCELLED"


def test_database_edits_win_when_asked(db):
    from codes.models import CodeFamily, ErrorCode

    family = CodeFamily.objects.create(slug="cbs", name="CBS", default_severity="error")
    ErrorCode.objects.create(
        value=0x8024000B, name="WU_E_CALL_CANCELLED", message="Edited in admin.", severity="error",
        family=family,
    )  # fmt: skip
    assert decode("0x8024000B").message != "Edited in admin."
    edited = decode("0x8024000B", use_db=True)
    assert (edited.message, edited.severity, edited.family) == ("Edited in admin.", "error", "cbs")
