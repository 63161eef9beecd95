"""Families and operator severity: one family per value, defaults and curated overrides."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codes.families import classify, family_name, operator_severity
from codes.knowledge import FAMILY_SLUGS, load_curated_codes, load_families


@pytest.mark.parametrize(
    ("value", "family"),
    [
        (0x8024000B, "windows-update"),
        (0x80240022, "windows-update"),
        (0x8024A105, "windows-update"),
        (0x00240001, "windows-update"),
        (0x8024402C, "windows-update-network"),
        (0x80244022, "windows-update-network"),
        (0x80072EE7, "windows-update-network"),
        (0x80072F8F, "windows-update-network"),
        (0x80190194, "windows-update-network"),
        (0x800F0922, "cbs"),
        (0x800F081F, "cbs"),
        (0x80073712, "cbs"),
        (0x800736B0, "cbs"),
        (0x80073701, "cbs"),
        (0xC1900101, "setup"),
        (0xC1900208, "setup"),
        (0x80070002, "win32"),
        (0x80070005, "win32"),
        (5, "win32"),
        (1603, "win32"),
        (0, "win32"),
        (0xC0000005, "ntstatus"),
        (0xD0000022, "ntstatus"),
        (0x80000005, "ntstatus"),
        (0x80200053, "bits"),
        (0x80200010, "bits"),
        (0x80004005, "hresult"),
        (0x8004D000, "hresult"),
    ],
)
def test_classify_puts_known_values_in_their_family(value, family):
    assert classify(value) == family


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_every_value_gets_exactly_one_known_family(value):
    assert classify(value) in FAMILY_SLUGS


def test_classify_rejects_values_outside_32_bits():
    with pytest.raises(ValueError, match="32-bit"):
        classify(1 << 32)


def test_curated_override_makes_call_cancelled_a_warning_although_the_hresult_failed():
    assert load_curated_codes()[0x8024000B].severity == "warning"
    assert operator_severity(0x8024000B) == "warning"


def test_uncurated_failure_takes_its_family_default():
    value = 0x80240010  # WU_E_TOO_DEEP_RELATION, no curated file
    assert value not in load_curated_codes()
    assert operator_severity(value) == load_families()["windows-update"].default_severity


@pytest.mark.parametrize("value", [0, 0x00240001, 0x40000000, 0x00000001 << 16])
def test_success_and_informational_codes_are_informational(value):
    assert operator_severity(value) == "informational"


def test_small_win32_codes_are_errors_not_success_codes():
    assert operator_severity(5) == "error"
    assert operator_severity(1603) == "error"


def test_every_family_slug_has_a_family_file_with_a_name():
    families = load_families()
    assert set(families) == set(FAMILY_SLUGS)
    assert family_name("windows-update") == families["windows-update"].name
