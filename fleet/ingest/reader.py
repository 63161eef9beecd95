"""Open an export whatever its encoding and delimiter, and stream its rows with line numbers.

Nothing here holds the whole file: the encoding check and the hash read it in chunks, and rows
come one at a time from `csv.reader`, each with the physical line it starts on (header = line 1
after any `#TYPE` preamble; a quoted field with newlines spans several lines). Lines are read
with a length limit, so one enormous line (a file with no line breaks, say) is refused after
MAX_ROW_CHARS characters instead of being read into memory first.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
# A quoted field running over more lines than this is taken for a quote left open: it would
# otherwise swallow the rows below it without a word.
MAX_ROW_LINES = 100
# The longest row (all its lines) read: real export rows are a few kilobytes, and csv's own
# field_size_limit (128 Ki characters a field) acts only after a whole line has been read.
MAX_ROW_CHARS = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# What SQL tools, Excel and PowerShell write for "no value".
NULL_LITERALS = frozenset({"", "null", "(null)", "n/a", "#n/a", "na", "#error", "none", "-"})
_ROWS_AFFECTED = re.compile(r"^\(\d+ rows? affected\)$", re.IGNORECASE)


class UnreadableFile(Exception):
    """The file cannot be read as a table at all; the message says why."""


@dataclass(frozen=True)
class FileFacts:
    encoding: str
    sha256: str
    size: int


def inspect_file(path: Path, text: bool = True) -> FileFacts:
    """Hash the file and find its encoding in one streaming pass (`text=False`: hash only)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        head = handle.read(4096)
        if not head.strip():
            raise UnreadableFile("the file is empty")
        encoding = _encoding_from_head(head) if text else "binary"
        # Without a BOM, the file is UTF-8 only if every byte of it decodes as UTF-8.
        checker = codecs.getincrementaldecoder("utf-8")() if encoding == "utf-8" else None
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if checker is not None:
                try:
                    checker.decode(chunk)
                except UnicodeDecodeError:
                    checker = None
                    encoding = "cp1252"
        if checker is not None:
            try:
                checker.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "cp1252"
    return FileFacts(encoding=encoding, sha256=digest.hexdigest(), size=size)


def _encoding_from_head(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        # UTF-16 without BOM puts a NUL beside every ASCII character; anything else is binary.
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.1:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.1:
            return "utf-16-be"
        raise UnreadableFile(
            "the file is not text (it holds NUL bytes): is it a ZIP or Excel file?"
        )
    return "utf-8"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields, ignoring quoted text."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


class RowReader:
    """Iterate `(line, fields)` over the data rows of a delimited text file."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self._raw: BinaryIO | None = None
        self.header: list[str] = []
        self.header_line = 1
        self.delimiter = ","
        self._lines: Iterator[str] | None = None

    def __enter__(self) -> RowReader:
        self._raw = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
        errors = "replace" if self.encoding == "cp1252" else "strict"
        text = io.TextIOWrapper(self._raw, encoding=self.encoding, errors=errors, newline="")
        self._line_no = 0
        self._row_chars = 0
        self._at_end = False
        lines = self._bounded_lines(text)
        try:
            for line in lines:
                self._row_chars = 0  # each preamble line is a row of its own
                stripped = line.strip().lstrip("\ufeff")
                # PowerShell's Export-Csv writes `#TYPE System.Data.DataRow` before the header.
                if not stripped or stripped.startswith("#TYPE") or stripped.startswith("#"):
                    continue
                self.header_line = self._line_no
                self.delimiter = sniff_delimiter(line)
                self._lines = itertools.chain([line], lines)
                break
        except UnicodeDecodeError as exc:
            self.close()
            raise UnreadableFile(f"the file is not valid {self.encoding}: {exc.reason}") from None
        except UnreadableFile:
            self.close()
            raise
        if self._lines is None:
            self.close()
            raise UnreadableFile("the file has no header row")
        self._csv = csv.reader(self._lines, delimiter=self.delimiter)
        try:
            header = next(self._csv)
        except csv.Error as exc:
            self.close()
            raise UnreadableFile(f"the header row cannot be read: {exc}") from None
        except UnreadableFile:
            self.close()
            raise
        self.header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
        if len([cell for cell in self.header if cell]) < 2:
            self.close()
            raise UnreadableFile(
                "the first row does not look like a header of several columns "
                f"(read {header[:3]!r} with delimiter {self.delimiter!r})"
            )
        return self

    def _bounded_lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        """The file's lines, none read past what is left of the current row's MAX_ROW_CHARS;
        `_at_end` turns true when a line past the last is asked for (only a row still inside
        a quoted field does that)."""
        while True:
            allowance = MAX_ROW_CHARS - self._row_chars
            line = text.readline(allowance + 1)
            if not line:
                self._at_end = True
                return
            self._line_no += 1
            self._row_chars += len(line)
            if len(line) > allowance:
                raise UnreadableFile(
                    f"line {self._line_no} makes a row longer than {MAX_ROW_CHARS:,} characters, "
                    "the most one row may hold: is the file a table export?"
                )
            yield line

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    @property
    def bytes_read(self) -> int:
        """How far into the file the reader is (read-ahead included): for progress only."""
        return self._raw.tell() if self._raw is not None else 0

    def rows(self) -> Iterator[tuple[int, list[str] | None, str]]:
        """Yield `(line, fields, error)`: fields is None and error set for a broken row."""
        offset = self.header_line - 1
        start = self._csv.line_num + 1
        while True:
            self._row_chars = 0
            try:
                fields = next(self._csv)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"line {start + offset} is not valid {self.encoding}: {exc.reason}"
                ) from None
            except csv.Error as exc:
                yield start + offset, None, f"unreadable row: {exc}"
                start = self._csv.line_num + 1
                continue
            line = start + offset
            span = self._csv.line_num - start + 1
            start = self._csv.line_num + 1
            if self._at_end:
                unclosed = f"a quote opened on line {line} is not closed before the end of the file"
                yield line, None, f"{unclosed}; the {span} lines from there were not imported"
                return
            if span > MAX_ROW_LINES:
                last = line + span - 1
                yield line, None, (
                    f"a quoted field runs over {span} lines ({line} to {last}): "
                    "is a quote not closed? Those lines were not imported"
                )  # fmt: skip
                continue
            # One string for both checks: blank means every cell is whitespace or empty.
            joined = "".join(fields)
            if not joined or joined.isspace():
                continue  # blank lines and Excel's trailing ",,,," rows carry no data
            if len(fields) == 1 and _ROWS_AFFECTED.match(fields[0].strip()):
                continue  # sqlcmd/SSMS footer
            if "\x00" in joined:
                # Past the first 4 KB checked for binary files; PostgreSQL text cannot hold NUL.
                yield line, None, "the row holds a NUL byte: is the file corrupt?"
                continue
            yield line, fields, ""
