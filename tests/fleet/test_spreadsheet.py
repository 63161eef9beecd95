"""The one rule for CSV cells a spreadsheet could run as a formula (fleet/spreadsheet.py)."""

import csv
import io
from decimal import Decimal

import pytest

from fleet.spreadsheet import FORMULA_STARTS, spreadsheet_safe


def written(value: object) -> str:
    """The cell as csv.writer writes it and a spreadsheet's CSV import reads it back."""
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_safe(value)])
    [[cell]] = csv.reader(io.StringIO(out.getvalue()))
    return cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "\0"])
def test_text_starting_with_any_trigger_is_kept_behind_a_quote(start):
    text = f'{start}HYPERLINK("http://evil.example","x")'
    assert spreadsheet_safe(text) == "'" + text
    assert written(text) == "'" + text


def test_the_triggers_are_owasps_list_with_nul_and_line_feed():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r", "\n", "\0"}


@pytest.mark.parametrize("text", ["", "ok", "a=1", "PC-0001", "0x8024000B", "'=1", " =1", "  -2"])
def test_text_that_does_not_start_with_a_trigger_is_unchanged(text):
    # Leading spaces are a decision (fleet/spreadsheet.py): a cell " =1" opens as text.
    assert spreadsheet_safe(text) == text


@pytest.mark.parametrize("number", [-5, 0, 7, -2.5, 1e-9, Decimal("-3.10"), True, 10**30])
def test_finite_numbers_stay_numbers(number):
    assert spreadsheet_safe(number) is number


@pytest.mark.parametrize(
    ("number", "cell"), [(float("-inf"), "'-inf"), (Decimal("-Infinity"), "'-Infinity")]
)
def test_infinities_are_text_since_they_would_start_with_a_minus(number, cell):
    assert spreadsheet_safe(number) == cell


def test_nan_is_written_as_text():
    assert spreadsheet_safe(float("nan")) == "nan"


def test_none_stays_an_empty_cell():
    assert spreadsheet_safe(None) is None
    assert written(None) == ""


def test_an_object_is_judged_by_the_text_the_writer_would_write():
    class Tenant:
        def __str__(self) -> str:
            return "=cmd|' /C calc'!A0"

    assert spreadsheet_safe(Tenant()) == "'=cmd|' /C calc'!A0"
    assert written(Tenant()) == "'=cmd|' /C calc'!A0"
