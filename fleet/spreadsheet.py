"""Cells for CSV downloads that a spreadsheet opens as data, never as a formula.

Every CSV the site writes (chart data, an import's rejected rows) goes through
`spreadsheet_safe`: operators open these files in Excel or LibreOffice, and a hostname, update
title or rejected line is text that anyone with an ingest key or an upload could have chosen.

The rule: a text cell whose first character is one of OWASP's "CSV Injection" list (= + - @,
tab, carriage return), NUL (ASVS lists it) or line feed gets a leading `'`, which spreadsheets
read as "this is text". Numbers are written as they are: a negative count is a number, not a
formula.
Leading spaces are left alone: a cell typed " =1" is the text " =1" to Excel and LibreOffice
(the usual way to show a formula without running it), and only an import told to trim spaces
first (LibreOffice's text import offers that option, off by default) could turn it into one;
prefixing every padded value would change data to guard against that opt-in.
"""

from __future__ import annotations

import math
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def spreadsheet_safe(value: object) -> object:
    """`value` as a CSV cell: finite numbers and None unchanged, anything else as text that
    cannot start a formula. Objects are judged by the text the CSV writer would write, so a
    model instance whose name starts with "=" is escaped too."""
    if value is None:
        return value
    if isinstance(value, int) or (isinstance(value, float | Decimal) and math.isfinite(value)):
        return value  # NaN and infinities go on as text: "-inf" would start with "-"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
