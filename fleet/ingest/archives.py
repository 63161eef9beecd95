"""Take the one export out of an uploaded ZIP, treating the ZIP as the untrusted input it is.

A ZIP's headers may lie, so nothing here trusts them for a limit: the bytes a member really
expands to are counted as they are produced, and the extraction stops at `MAX_UPLOAD_MB` (a
plain upload could be no larger) or at `MAX_ARCHIVE_RATIO` times the member's compressed size,
whichever comes first. The central directory is sized from the end record before `zipfile`
parses it, so a ZIP listing millions of entries is refused without building them.

`zipfile` finds the member, but its `ZipExtFile.read(n)` decompresses each 4 KB read of a
bzip2 or LZMA member whole (a kilobyte of bzip2 can hold a gigabyte), so the member's bytes are
decompressed here instead, by the standard library's decompressors asked for at most `CHUNK`
bytes at a time; memory stays at a few chunks whatever the method.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from django.conf import settings

from fleet.ingest.reader import UnreadableFile

CHUNK = 64 * 1024
# An export ZIP holds one file (perhaps in a folder); a few more entries are read to say so.
MAX_ENTRIES = 16
# Room for MAX_ENTRIES entries with long names and extra fields; zipfile reads it whole.
MAX_CENTRAL_DIRECTORY = 64 * 1024
# Names of archives and containers: their content is not a table, and unpacking them in turn
# would multiply the expansion.
_NESTED_SUFFIXES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".cab",
                    ".xlsx", ".xlsm")  # fmt: skip
_NESTED_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
                 b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"MSCF")  # fmt: skip
_METHOD_NAMES = {6: "Implode", 9: "Deflate64", 93: "Zstandard", 95: "XZ", 96: "JPEG",
                 97: "WavPack", 98: "PPMd", 99: "AES encryption"}  # fmt: skip
_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entry counts, directory size/offset
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


class ArchiveRefused(UnreadableFile):
    """The ZIP is not one readable export within the limits; the message names the limit."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int
    max_ratio: int

    @classmethod
    def from_settings(cls) -> ArchiveLimits:
        return cls(
            max_bytes=settings.MAX_UPLOAD_MB * 1024 * 1024, max_ratio=settings.MAX_ARCHIVE_RATIO
        )


def extract_export(path: Path, target: Path, limits: ArchiveLimits | None = None) -> int:
    """Write the one file inside the ZIP at `path` to `target` and return its size; on refusal
    `target` is removed and ArchiveRefused says why."""
    limits = limits or ArchiveLimits.from_settings()
    member = _the_one_member(path)
    written = 0
    try:
        try:
            with open(path, "rb") as raw, open(target, "wb") as out:
                for chunk in member_chunks(raw, member, limits):
                    out.write(chunk)
                    written += len(chunk)
        except OSError as exc:
            # A full disk (or a file-size limit) is the server's problem, but the import must
            # still end with a reason rather than a traceback.
            raise UnreadableFile(
                f"the ZIP's file could not be unpacked to the temporary folder after "
                f"{written:,} bytes: {exc.strerror or exc}"
            ) from None
        return written
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def declared_size(path: Path) -> int:
    """What the file at `path` says it will take to read: a ZIP's declared expanded size, else
    its own size. Only for choosing where to import (request or worker); never for a limit,
    which extraction enforces on the real bytes."""
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        return size
    try:
        member = _the_one_member(path)
    except (UnreadableFile, OSError, zipfile.BadZipFile):
        return size
    return max(size, member.file_size)


def _the_one_member(path: Path) -> zipfile.ZipInfo:
    entries, directory_size = _directory_extent(path)
    if entries > MAX_ENTRIES:
        raise ArchiveRefused(
            f"the ZIP lists {entries:,} entries; an export ZIP holds one file "
            f"(at most {MAX_ENTRIES} entries are read)"
        )
    if directory_size > MAX_CENTRAL_DIRECTORY:
        raise ArchiveRefused(
            f"the ZIP's directory takes {directory_size:,} bytes, more than the "
            f"{MAX_CENTRAL_DIRECTORY:,} bytes an export ZIP of one file needs"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError) as exc:
        raise ArchiveRefused(f"the ZIP cannot be read: {exc}") from None
    if len(members) != 1:
        raise ArchiveRefused(f"the ZIP holds {len(members)} files; expected one export")
    member = members[0]
    name = member.filename
    if member.flag_bits & 0x1:
        raise ArchiveRefused(f"{name!r} in the ZIP is encrypted; zip it again without a password")
    if member.compress_type not in _DECOMPRESSORS:
        method = _METHOD_NAMES.get(member.compress_type, "unknown")
        raise ArchiveRefused(
            f"{name!r} in the ZIP uses compression method {member.compress_type} ({method}); "
            "zip it again with the usual (deflate) compression"
        )
    if name.lower().endswith(_NESTED_SUFFIXES):
        raise ArchiveRefused(f"{name!r} in the ZIP is itself an archive; upload the export inside")
    return member


def _directory_extent(path: Path) -> tuple[int, int]:
    """(entries, central directory bytes) from the ZIP's end record, read the way `zipfile`
    will read it (the ZIP64 record when there is one)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        tail_size = min(size, _END_RECORD.size + 0xFFFF + _ZIP64_LOCATOR.size
                        + _ZIP64_END_RECORD.size)  # fmt: skip
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
    start = len(tail) - _END_RECORD.size
    if start < 0 or not (tail[start : start + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        start = tail.rfind(b"PK\x05\x06")  # the record is followed by a comment
    if start < 0 or len(tail) - start < _END_RECORD.size:
        raise ArchiveRefused("the ZIP has no end record: is it cut short?")
    record = _END_RECORD.unpack_from(tail, start)
    entries, directory_size = record[4], record[5]
    locator = start - _ZIP64_LOCATOR.size
    if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        end64 = locator - _ZIP64_END_RECORD.size
        if end64 < 0 or tail[end64 : end64 + 4] != b"PK\x06\x06":
            raise ArchiveRefused("the ZIP's ZIP64 end record is missing or damaged")
        record64 = _ZIP64_END_RECORD.unpack_from(tail, end64)
        entries, directory_size = record64[7], record64[8]
    return entries, directory_size


def member_chunks(raw: BinaryIO, member: zipfile.ZipInfo, limits: ArchiveLimits) -> Iterator[bytes]:
    """The decompressed bytes of `member` of the ZIP open as `raw`, at most CHUNK at a time,
    checked against the limits and, at the end, against the member's CRC-32."""
    raw.seek(member.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise ArchiveRefused(f"{member.filename!r} in the ZIP has no local header: is it damaged?")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    data_start = raw.seek(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    raw.seek(0, 2)
    # The directory's compressed size may lie too: no more can be read than the file holds.
    compressed = max(0, min(member.compress_size, raw.tell() - data_start))
    raw.seek(data_start)
    left = compressed
    decompressor = _DECOMPRESSORS[member.compress_type](member, raw, limits)
    left -= raw.tell() - data_start  # LZMA's properties header
    produced = 0
    crc = 0
    try:
        while not decompressor.eof:
            data = b""
            if decompressor.needs_input:
                if left <= 0:
                    break
                data = raw.read(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
            out = decompressor.decompress(data, CHUNK)
            if not out:
                continue
            if produced == 0 and out.startswith(_NESTED_MAGIC):
                raise ArchiveRefused(
                    f"{member.filename!r} in the ZIP is itself compressed (an archive or a "
                    "workbook); upload the CSV export inside it"
                )
            produced += len(out)
            _check_limits(produced, compressed, limits)
            crc = zlib.crc32(out, crc)
            yield out
    except (zlib.error, OSError, lzma.LZMAError, EOFError) as exc:
        raise ArchiveRefused(f"{member.filename!r} in the ZIP is damaged: {exc}") from None
    if crc != member.CRC:
        raise ArchiveRefused(
            f"{member.filename!r} in the ZIP is damaged or cut short (its CRC-32 does not match)"
        )


def _check_limits(produced: int, compressed: int, limits: ArchiveLimits) -> None:
    if produced > limits.max_bytes:
        raise ArchiveRefused(
            f"the ZIP expands past the {limits.max_bytes // (1024 * 1024)} MB limit (MAX_UPLOAD_MB)"
        )
    if produced > limits.max_ratio * compressed:
        raise ArchiveRefused(
            f"the ZIP expands to more than {limits.max_ratio} times its compressed size "
            "(MAX_ARCHIVE_RATIO), far beyond what an export does: is it a ZIP bomb?"
        )


class _Decompressor(Protocol):
    eof: bool
    needs_input: bool

    def decompress(self, data: bytes, max_length: int) -> bytes: ...


class _Stored:
    """Stored members: the bytes as they are, in the chunks they are read in."""

    eof = False
    needs_input = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return data


class _Deflated:
    """zlib's decompressobj with bz2's and lzma's interface (`needs_input`, bounded output)."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def needs_input(self) -> bool:
        return not self._zlib.unconsumed_tail

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return self._zlib.decompress(self._zlib.unconsumed_tail + data, max_length)


def _lzma(member: zipfile.ZipInfo, raw: BinaryIO, limits: ArchiveLimits) -> _Decompressor:
    """ZIP's LZMA: a 4-byte version/size header and the 5-byte LZMA1 properties, then the raw
    stream. The dictionary is capped at what the output may reach: a reference can point no
    further back than that, and a declared 4 GB dictionary would be allocated up front."""
    header = raw.read(4)
    if len(header) != 4 or header[2:] != b"\x05\x00":
        raise ArchiveRefused(f"{member.filename!r} in the ZIP has a damaged LZMA header")
    properties = raw.read(5)
    if len(properties) != 5 or properties[0] >= 9 * 5 * 5:
        raise ArchiveRefused(f"{member.filename!r} in the ZIP has damaged LZMA properties")
    literal_context, rest = properties[0] % 9, properties[0] // 9
    dictionary = int.from_bytes(properties[1:], "little")
    lzma1 = {
        "id": lzma.FILTER_LZMA1,
        "lc": literal_context,
        "lp": rest % 5,
        "pb": rest // 5,
        "dict_size": max(4096, min(dictionary, limits.max_bytes + CHUNK)),
    }
    try:
        return lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=[lzma1])
    except lzma.LZMAError as exc:
        message = f"{member.filename!r} in the ZIP has bad LZMA settings: {exc}"
        raise ArchiveRefused(message) from None


_DECOMPRESSORS = {
    zipfile.ZIP_STORED: lambda member, raw, limits: _Stored(),
    zipfile.ZIP_DEFLATED: lambda member, raw, limits: _Deflated(),
    zipfile.ZIP_BZIP2: lambda member, raw, limits: bz2.BZ2Decompressor(),
    zipfile.ZIP_LZMA: _lzma,
}
