"""Import one export file: detect its format, read it row by row, store failures in batches.

Each batch (BATCH_ROWS rows) resolves its devices in a few queries, inserts its occurrences
with ON CONFLICT DO NOTHING and commits. The ImportRecord says `running` until the last batch is
in and `done` only then; a crash leaves `failed` (or `running` if the process died) and running
the same file again completes it, because every row's dedupe key is derived from the row itself.
Each batch also refreshes the record's heartbeat, which `fleet.ingest.recovery` watches.
"""

from __future__ import annotations

import functools
import logging
import math
import operator
import tempfile
import time
import zipfile
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from codes.parse import CodeError, ParsedCode, parse_code
from fleet.ingest import dates
from fleet.ingest.archives import extract_export
from fleet.ingest.csv_formats import FormatError, ReportFormat, detect_format, normalize_header
from fleet.ingest.devices import DeviceRef, raise_last_seen, record_inventory, resolve_devices
from fleet.ingest.models import ImportRecord
from fleet.ingest.patterns import CODE_IN_TEXT, KB_IN_TITLE, is_hostname
from fleet.ingest.reader import NULL_LITERALS, RowReader, UnreadableFile, inspect_file
from fleet.ingest.same_file import one_import_at_a_time
from fleet.ingest.store import NewOccurrence, insert_occurrences
from fleet.models import NO_HOST_PART, Occurrence, Tenant, device_name_key
from fleet.models.core import dedupe_digest, normalize_guid

log = logging.getLogger(__name__)

# Rows per batch, each one transaction. On SQLite a commit can checkpoint the WAL, copying every
# index page the batch touched; 20,000 rows touch not many more pages than 5,000 (the occurrence
# indexes' leaves), so a 200,000-row import ran in 5.9 s instead of 7.5 s, peak RSS 265 MB
# instead of 255 (docs/performance.md). A crash redoes at most one batch; keys dedupe the redo.
BATCH_ROWS = 20_000
MAX_STORED_REJECTS = 10_000
# How many distinct device cells, and code or `extra` cell tuples, one import remembers: as
# many devices as `_device_key` caches; fewer of the others, whose cells may be free text that
# differs on every row (a state format's message, an event id), where remembering saves nothing.
_DEVICE_CACHE_LIMIT = 65536
_CELL_CACHE_LIMIT = 4096
# Exports repeat the same few codes and devices on every row: parse each spelling once.
_parse_code = functools.lru_cache(maxsize=4096)(parse_code)
# The monotonic time by which the import running in this context must hand over to a worker
# (an inline import in a web request); checked after each committed batch.
_deadline: ContextVar[float | None] = ContextVar("import_deadline", default=None)


@functools.lru_cache(maxsize=65536)
def _device_key(hostname: str) -> str | None:
    """The name key of a stripped hostname, None when it cannot be a device name, "" when it has
    no host part (`CHC\\`); cached because exports name the same devices on row after row."""
    if not is_hostname(hostname):
        return None
    return device_name_key(hostname)


class ImportFailed(Exception):
    """The file cannot be imported at all (unreadable, empty, unknown format)."""


class ImportHandedOff(Exception):
    """The import used up its time budget; its record is queued again for a worker to finish."""


class _OutOfTime(Exception):
    pass


@dataclass
class ImportSummary:
    format: str = ""
    encoding: str = ""
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    success_rows: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_count: int = 0
    devices: int = 0
    devices_created: int = 0
    by_code: Counter = field(default_factory=Counter)
    # The earlier finished import of the same file for the same tenant, if any (an undone one
    # is not: its rows are gone).
    already_imported_as: int | None = None
    # The span of the valid rows' occurrence times, and the file's `TenantId` values (WUfB).
    first_occurred_at: datetime | None = None
    last_occurred_at: datetime | None = None
    file_tenant_ids: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_STORED_REJECTS:
            self.rejected.append({"line": line, "reason": reason})

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "rows": self.rows,
            "created": self.created,
            "duplicates": self.duplicates,
            "success_rows": self.success_rows,
            "rejected": self.rejected,
            "rejected_count": self.rejected_count,
            "devices": self.devices,
            "devices_created": self.devices_created,
            "by_code": {f"0x{code:08X}": n for code, n in sorted(self.by_code.items())},
            "already_imported_as": self.already_imported_as,
            "first_occurred_at": _iso(self.first_occurred_at),
            "last_occurred_at": _iso(self.last_occurred_at),
            "warnings": self.warnings,
        }

    @classmethod
    def from_record(cls, record: ImportRecord) -> ImportSummary:
        return cls(
            format=record.format,
            encoding=record.encoding,
            rows=record.rows,
            created=record.created,
            duplicates=record.duplicates,
            success_rows=record.success_rows,
            rejected=list(record.rejected),
            rejected_count=record.rejected_count,
            devices=record.devices,
            devices_created=record.devices_created,
            by_code=Counter({int(k, 16): v for k, v in record.by_code.items()}),
            first_occurred_at=record.first_occurred_at,
            last_occurred_at=record.last_occurred_at,
            warnings=list(record.warnings),
        )


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@dataclass(slots=True)
class _Row:
    line: int
    device_key: str
    hostname: str
    code: ParsedCode
    occurred_at: datetime | None
    dedupe_key: str
    intune_id: str = ""
    entra_id: str = ""
    wsus_id: str = ""
    title: str = ""
    message: str = ""
    extra: dict = field(default_factory=dict)


class _Columns:
    """Column positions of one format in one header, and the per-row field reading."""

    def __init__(self, fmt: ReportFormat, header: list[str]) -> None:
        self.fmt = fmt
        # The "now" that row times may not be far ahead of, taken once for the whole file.
        self.now = timezone.now()
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            positions.setdefault(normalize_header(name), index)
        self.names = {index: name for index, name in enumerate(header)}

        def find(keys: tuple[str, ...]) -> list[int]:
            return [positions[key] for key in keys if key in positions]

        self.device = find(fmt.device)
        self.code = find(fmt.code)
        self.time = find(fmt.time)
        self.event_id = find(fmt.event_id)
        self.intune_id = find(fmt.intune_id)
        self.entra_id = find(fmt.entra_id)
        self.wsus_id = find(fmt.wsus_id)
        self.title = find(fmt.title)
        self.message = find(fmt.message)
        self.extra = [(key, positions[key]) for key in fmt.extra if key in positions]
        # Whose export this is, where the format says (WUfB's Log Analytics `TenantId`).
        self.tenant_id = find(fmt.tenant_id)
        # A row's identity when it has no event id: every column but the localized twins, in
        # a fixed order so a later export with reordered columns gives the same key.
        self.identity = sorted(
            (normalize_header(name), index)
            for index, name in enumerate(header)
            if not normalize_header(name).endswith("_loc")
        )
        # The identity as one %-template and one getter, so a full row is keyed in C calls.
        self.identity_template = "row\x1f" + "\x1f".join(f"{name}=%s" for name, _i in self.identity)
        # (itemgetter gives a tuple only for two or more indices; other rows take the slow path.)
        indices = [index for _name, index in self.identity]
        fast = len(indices) > 1
        self.identity_values = operator.itemgetter(*indices) if fast else None
        self.identity_width = max(indices) + 1 if fast else math.inf
        # A state format's identity: only the columns that name the state (csv_formats.py).
        self.state_identity = [(key, positions[key]) for key in fmt.identity if key in positions]
        if not (self.device and self.code and self.time):
            raise FormatError(f"the file lacks the device, code or time column of {fmt.name}")
        # Exports repeat a few devices, codes and `extra` values on row after row, so what each
        # distinct cell (or tuple of cells) reads as is worked out once per file and looked up
        # after that (up to `_DEVICE_CACHE_LIMIT` and `_CELL_CACHE_LIMIT` entries). The device
        # only when it has one column; any number of code columns, keyed by all of them.
        self.device_index = self.device[0] if len(self.device) == 1 else None
        self.time_index = self.time[0] if len(self.time) == 1 else None
        self.code_cells = operator.itemgetter(*self.code)  # a str for one column, else a tuple
        self.code_width = max(self.code) + 1
        self.hosts: dict[str, tuple[str, str] | str] = {}  # cell -> (hostname, key) or reason
        self.codes: dict[object, tuple[str, ParsedCode] | str] = {}  # cells -> code or reason
        extra_indices = [index for _key, index in self.extra]
        self.extra_cells = operator.itemgetter(*extra_indices) if extra_indices else None
        self.extra_width = max(extra_indices) + 1 if extra_indices else 0
        self.extras: dict[object, dict[str, str]] = {}
        # Rows later than this are refused (`dates.bounds_problem` says why, in the same words).
        self.latest = self.now + dates.FUTURE_SLACK
        # Whether a row's device refs need the id columns or the inventory facts at all.
        self.has_ids = bool(self.intune_id or self.entra_id or self.wsus_id)
        self.has_inventory = bool({"build", "policyname"} & {key for key, _i in self.extra})

    def label(self, indices: list[int]) -> str:
        return " / ".join(self.names[i] for i in indices)

    @staticmethod
    def first(fields: list[str], indices: list[int]) -> str:
        # The first value that is not a "no value" word (NULL_LITERALS), tested inline rather
        # than through a helper: this runs several times per row.
        for index in indices:
            if index < len(fields):
                value = fields[index].strip()
                if value.lower() not in NULL_LITERALS:
                    return value
        return ""


def import_file(
    path: Path,
    tenant: Tenant,
    *,
    requested_format: str = "auto",
    column_map: dict[str, str] | None = None,
    user=None,
    file_name: str = "",
    batch_size: int = BATCH_ROWS,
) -> tuple[ImportRecord, ImportSummary]:
    """Record and run an import of `path` for `tenant` (the command-line entry point)."""
    record = ImportRecord.objects.create(
        tenant=tenant,
        user=user,
        file_name=(file_name or Path(path).name)[:255],
        requested_format=requested_format,
        column_map=column_map or {},
        # Running from the start, so the beat sweep never takes it for a queued upload.
        status=ImportRecord.Status.RUNNING,
        runner=ImportRecord.Runner.COMMAND,
        heartbeat_at=timezone.now(),
    )
    return record, run_import(
        record, Path(path), batch_size=batch_size, runner=ImportRecord.Runner.COMMAND
    )


def run_import(
    record: ImportRecord,
    path: Path,
    *,
    batch_size: int = BATCH_ROWS,
    runner: str = ImportRecord.Runner.INLINE,
    time_budget: float | None = None,
) -> ImportSummary:
    """Run the import `record` describes, keeping the record's status and counts current.

    A record that started before (a worker died, or it failed) is resumed: the rows it stored
    then are found stored now, and count as created by it, not as duplicates. With a
    `time_budget` (seconds), the import stops after the batch that uses it up, queues its record
    for a worker and raises ImportHandedOff."""
    # None for a first run. Devices carry no import id, so a resumed run takes the devices
    # its interrupted attempts created from their last saved progress.
    earlier_devices = record.devices_created if record.started_at is not None else None
    now = timezone.now()
    ImportRecord.objects.filter(pk=record.pk).update(
        status=ImportRecord.Status.RUNNING,
        started_at=now,
        error="",
        heartbeat_at=now,
        runner=runner,
        attempts=F("attempts") + 1,
    )
    record.refresh_from_db(fields=_STARTED_FIELDS)
    token = _deadline.set(None if time_budget is None else time.monotonic() + time_budget)
    try:
        summary = _run(record, path, batch_size, earlier_devices)
    except _OutOfTime:
        # No heartbeat: not yet with the broker (the caller or the beat sweep sends it).
        ImportRecord.objects.filter(pk=record.pk).update(
            status=ImportRecord.Status.QUEUED, heartbeat_at=None
        )
        record.refresh_from_db()
        raise ImportHandedOff(f"import {record.pk} used its {time_budget:g} s") from None
    except (UnreadableFile, FormatError) as exc:
        _fail(record, str(exc))
        raise ImportFailed(str(exc)) from None
    except Exception as exc:
        _fail(record, f"import stopped: {exc}")
        raise
    finally:
        _deadline.reset(token)
    return summary


_STARTED_FIELDS = ["status", "started_at", "error", "heartbeat_at", "runner", "attempts"]


def _beat(record: ImportRecord) -> None:
    """Say the import is alive without a batch to show for it (waiting for the same file)."""
    ImportRecord.objects.filter(pk=record.pk).update(heartbeat_at=timezone.now())


def _count_earlier_attempts(
    record: ImportRecord, summary: ImportSummary, earlier_devices: int
) -> None:
    """Credit this record with the rows its interrupted attempts stored (the index on
    import_record makes this one short GROUP BY)."""
    by_code = Counter(
        dict(
            Occurrence.objects.filter(import_record_id=record.pk)
            .values_list("code")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    earlier = sum(by_code.values()) - summary.created
    if earlier <= 0:
        return
    summary.created += earlier
    summary.duplicates = max(0, summary.duplicates - earlier)
    summary.by_code = by_code
    summary.devices_created += earlier_devices


def _finish(record: ImportRecord, summary: ImportSummary) -> None:
    summary.warnings = tenant_mismatch(record.tenant, summary.file_tenant_ids)
    record.status = ImportRecord.Status.DONE
    record.finished_at = timezone.now()
    record.bytes_read = record.size
    _copy_counts(summary, record)
    record.save()


# Enough to name the ids at fault; an export mixing more tenants than this is wrong anyway.
MAX_FILE_TENANT_IDS = 10


def tenant_mismatch(tenant: Tenant, file_tenant_ids: set[str]) -> list[str]:
    """A warning naming both ids when the file's Entra tenant ids are not the chosen tenant's
    configured one; none when the tenant has none configured or the file carries none."""
    configured = tenant.entra_tenant_id
    others = sorted(file_tenant_ids - {configured})
    if not configured or not others:
        return []
    return [
        f"The file's TenantId {', '.join(others)} is not the Entra tenant ID configured for "
        f"{tenant.name} ({configured}): check that this export belongs to {tenant.name}."
    ]


def _fail(record: ImportRecord, message: str) -> None:
    ImportRecord.objects.filter(pk=record.pk).update(
        status=ImportRecord.Status.FAILED, error=message, finished_at=timezone.now()
    )
    record.refresh_from_db()


def _copy_counts(summary: ImportSummary, record: ImportRecord) -> None:
    data = summary.as_dict()
    for key in ("format", "encoding", "rows", "created", "duplicates", "success_rows",
                "rejected", "rejected_count", "devices", "devices_created", "by_code",
                "warnings"):  # fmt: skip
        setattr(record, key, data[key])
    record.first_occurred_at = summary.first_occurred_at
    record.last_occurred_at = summary.last_occurred_at


def _run(
    record: ImportRecord, path: Path, batch_size: int, earlier_devices: int | None = None
) -> ImportSummary:
    if not zipfile.is_zipfile(path):
        return _run_text(record, path, batch_size, earlier_devices=earlier_devices)
    # Intune's console and Graph exports arrive as a ZIP holding one CSV; `extract_export`
    # bounds what the ZIP may expand to (ArchiveRefused is an UnreadableFile).
    zip_hash = inspect_file(path, text=False).sha256
    with tempfile.TemporaryDirectory() as workdir:
        extracted = Path(workdir) / "export.csv"
        extract_export(path, extracted)
        return _run_text(
            record, extracted, batch_size, file_hash=zip_hash, earlier_devices=earlier_devices
        )


def _run_text(
    record: ImportRecord,
    path: Path,
    batch_size: int,
    file_hash: str = "",
    earlier_devices: int | None = None,
) -> ImportSummary:
    facts = inspect_file(path)
    record.sha256, record.size, record.encoding = (
        file_hash or facts.sha256,
        facts.size,
        facts.encoding,
    )
    record.save(update_fields=["sha256", "size", "encoding"])
    # A second import of this file waits here for the first, then finds its rows stored.
    with one_import_at_a_time(record.tenant_id, record.sha256, lambda: _beat(record)):
        if ImportRecord.objects.filter(pk=record.pk, status=ImportRecord.Status.DONE).exists():
            # Another run of this very record (a redelivered task) finished while this waited.
            record.refresh_from_db()
            return ImportSummary.from_record(record)
        summary = ImportSummary(encoding=facts.encoding)
        summary.already_imported_as = (
            ImportRecord.objects.filter(
                tenant_id=record.tenant_id, sha256=record.sha256, status=ImportRecord.Status.DONE
            )  # an undone import is not "already imported": its rows are gone
            .exclude(pk=record.pk)
            .order_by("finished_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        _read_rows(record, path, facts.encoding, batch_size, summary)
        if earlier_devices is not None:
            _count_earlier_attempts(record, summary, earlier_devices)
        _finish(record, summary)  # inside the lock: the next import of this file sees it done
        return summary


def _read_rows(
    record: ImportRecord, path: Path, encoding: str, batch_size: int, summary: ImportSummary
) -> None:
    tenant = record.tenant
    with RowReader(path, encoding) as reader:
        fmt = detect_format(reader.header, record.requested_format, record.column_map or None)
        columns = _Columns(fmt, reader.header)
        summary.format = fmt.name
        ImportRecord.objects.filter(pk=record.pk).update(format=fmt.name)
        day_first = _decide_day_first(path, encoding, columns.time, reader.delimiter)
        seen_success: set[int] = set()
        device_ids: set[int] = set()
        last_seen: dict[int, datetime] = {}
        facts_at: dict[int, datetime | None] = {}  # when each device's written facts are from
        known: dict[str, tuple[int, datetime | None]] = {}  # devices resolved by earlier batches
        batch: list[_Row] = []
        for line, fields, error in reader.rows():
            summary.rows += 1
            if fields is None:
                summary.reject(line, error)
                continue
            row = _parse_row(line, fields, columns, day_first, summary)
            if row is None:
                continue
            if (
                columns.tenant_id
                and len(summary.file_tenant_ids) < MAX_FILE_TENANT_IDS
                and (file_tenant := columns.first(fields, columns.tenant_id))
            ):
                summary.file_tenant_ids.add(normalize_guid(file_tenant))
            if row.code.value == 0:
                # Success rows are not stored, so only this set can spot their repeats; 64 bits
                # of the key keep it small (50 MB for a million distinct success rows).
                marker = int(row.dedupe_key[:16], 16)
                if marker in seen_success:
                    summary.duplicates += 1
                    continue
                seen_success.add(marker)
                summary.success_rows += 1
            batch.append(row)
            if len(batch) >= batch_size:
                _store_batch(
                    tenant, record, columns, batch, summary, device_ids, last_seen, known, facts_at
                )
                batch = []
                _save_progress(record, summary, reader.bytes_read, device_ids)
                if (deadline := _deadline.get()) is not None and time.monotonic() >= deadline:
                    raise _OutOfTime
        _store_batch(
            tenant, record, columns, batch, summary, device_ids, last_seen, known, facts_at
        )
        summary.devices = len(device_ids)
    raise_last_seen(last_seen)


def _save_progress(record, summary, bytes_read: int, device_ids: set[int]) -> None:
    """One UPDATE per batch: the counts so far, and the heartbeat the beat sweep watches."""
    ImportRecord.objects.filter(pk=record.pk).update(
        heartbeat_at=timezone.now(),
        bytes_read=bytes_read,
        rows=summary.rows,
        created=summary.created,
        duplicates=summary.duplicates,
        success_rows=summary.success_rows,
        rejected_count=summary.rejected_count,
        devices=len(device_ids),
        devices_created=summary.devices_created,
    )


def _decide_day_first(path: Path, encoding: str, time_indices: list[int], delimiter: str) -> bool:
    """Apply the file-wide day/month rule of `fleet.ingest.dates` to this file's time column,
    reading a second time only as far as the dates stay ambiguous."""
    with RowReader(path, encoding) as reader:
        values = (
            value
            for _line, fields, _error in reader.rows()
            if fields is not None and (value := _Columns.first(fields, time_indices))
        )
        return dates.decide_day_first(values, delimiter)


def _parse_row(
    line: int, fields: list[str], cols: _Columns, day_first: bool, summary: ImportSummary
) -> _Row | None:
    """A valid row, or None after recording why the row was rejected."""
    width = len(fields)
    if cols.device_index is not None:
        cell = fields[cols.device_index] if cols.device_index < width else ""
        host = cols.hosts.get(cell)
        if host is None:
            host = _read_device(cols, cols.first([cell], [0]))
            if len(cols.hosts) < _DEVICE_CACHE_LIMIT:
                cols.hosts[cell] = host
    else:
        host = _read_device(cols, cols.first(fields, cols.device))
    if type(host) is str:
        summary.reject(line, host)
        return None
    hostname, key = host
    if width >= cols.code_width:
        cells = cols.code_cells(fields)
        read = cols.codes.get(cells)
        if read is None:
            read = _read_code(fields, cols)
            if len(cols.codes) < _CELL_CACHE_LIMIT:
                cols.codes[cells] = read
    else:
        read = _read_code(fields, cols)
    if type(read) is str:
        summary.reject(line, read)
        return None
    code_text, code = read
    occurred_at = None
    if code.value != 0:
        if cols.time_index is not None:
            time_text = fields[cols.time_index].strip() if cols.time_index < width else ""
            if time_text.lower() in NULL_LITERALS:
                time_text = ""
        else:
            time_text = cols.first(fields, cols.time)
        if not time_text:
            summary.reject(line, f"{cols.label(cols.time)} is blank")
            return None
        try:
            occurred_at = dates.parse_datetime(time_text, day_first=day_first)
        except dates.DateError as exc:
            summary.reject(line, f"{cols.label(cols.time)}: {exc}")
            return None
        # A UTC time no later than `latest` has no bounds problem; anything else is asked.
        if (occurred_at.tzinfo is not UTC or occurred_at > cols.latest) and (
            problem := dates.bounds_problem(occurred_at, cols.now)
        ):
            summary.reject(line, f"{cols.label(cols.time)}: {time_text[:60]!r} {problem}")
            return None
    event_id = cols.first(fields, cols.event_id) if cols.event_id else ""
    if event_id:
        identity = f"id\x1f{event_id}\x1f{key}\x1f{code.value}\x1f{code.extension}"
    elif cols.state_identity:
        identity = f"state\x1f{key}\x1f{code.value}\x1f{code.extension}\x1f" + "\x1f".join(
            f"{name}={fields[index].strip() if index < len(fields) else ''}"
            for name, index in cols.state_identity
        )
    elif width >= cols.identity_width:
        identity = cols.identity_template % tuple(map(str.strip, cols.identity_values(fields)))
    else:
        identity = "row\x1f" + "\x1f".join(
            f"{name}={fields[index].strip() if index < len(fields) else ''}"
            for name, index in cols.identity
        )
    if cols.extra_cells is not None and width >= cols.extra_width and not code.extension:
        # Shared between the rows with the same cells: nothing changes a row's `extra` later.
        extra_cells = cols.extra_cells(fields)
        extra = cols.extras.get(extra_cells)
        if extra is None:
            extra = _read_extra(fields, cols)
            if len(cols.extras) < _CELL_CACHE_LIMIT:
                cols.extras[extra_cells] = extra
    else:
        extra = _read_extra(fields, cols)
    if code.extension:
        # No format has a `code_text` column (headers are normalized without underscores).
        extra.setdefault("code_text", code_text)
    return _Row(
        line,
        key,
        hostname,
        code,
        occurred_at,
        sha256(identity.encode("utf-8")).hexdigest(),
        cols.first(fields, cols.intune_id) if cols.intune_id else "",
        cols.first(fields, cols.entra_id) if cols.entra_id else "",
        cols.first(fields, cols.wsus_id) if cols.wsus_id else "",
        cols.first(fields, cols.title) if cols.title else "",
        cols.first(fields, cols.message) if cols.message else "",
        extra,
    )


def _read_device(cols: _Columns, hostname: str) -> tuple[str, str] | str:
    """(hostname, name key) of a device cell's first value, or why the row is rejected."""
    if not hostname:
        return f"{cols.label(cols.device)} is blank"
    key = _device_key(hostname)
    if key is None:
        return f"{cols.label(cols.device)} {hostname[:80]!r} is not a device name"
    if not key:
        return f"{cols.label(cols.device)} {hostname[:80]!r} {NO_HOST_PART}"
    return hostname, key


def _read_code(fields: list[str], cols: _Columns) -> tuple[str, ParsedCode] | str:
    """(the code as written, its value) from a row's code columns, or why the row is rejected;
    depends on those cells only, so `_parse_row` may remember it by them."""
    code_text = ""
    code = None
    problems = []
    if cols.fmt.code_in_text:
        code_text, code = _code_in_text(fields, cols.code)
    for index in () if cols.fmt.code_in_text else cols.code:
        text = fields[index].strip() if index < len(fields) else ""
        if text.lower() in NULL_LITERALS:
            continue
        code_text = code_text or text
        try:
            code = _parse_code(text)
            break
        except CodeError as exc:
            problems.append(f"{cols.names[index]}: {exc}")
    if not code_text and not cols.fmt.code_in_text:
        return f"{cols.label(cols.code)} is blank"
    if code is None:
        return "; ".join(problems)
    return code_text, code


def _read_extra(fields: list[str], cols: _Columns) -> dict[str, str]:
    """The row's `extra` columns that hold a value."""
    return {
        name: value
        for name, index in cols.extra
        if index < len(fields) and (value := fields[index]).strip().lower() not in NULL_LITERALS
    }


def _code_in_text(fields: list[str], indices: list[int]) -> tuple[str, ParsedCode]:
    """(the code as written, its value) from the first of a state format's text columns that
    carries an error code; ("", 0) when none does: a healthy state, not a rejected row."""
    for index in indices:
        text = fields[index] if index < len(fields) else ""
        for match in CODE_IN_TEXT.finditer(text):
            try:
                code = _parse_code(match.group(0))
            except CodeError:
                continue
            # A decimal in a text is a code only as a failure (the high bit set): 1234567890
            # is more likely a count or an id than an error.
            hex_written = match.group(0).lower().startswith("0x")
            if code.value and (code.value & 0x80000000 or hex_written):
                return match.group(0), code
    return "", ParsedCode(0)


def _store_batch(
    tenant: Tenant,
    record: ImportRecord,
    columns: _Columns,
    batch: list[_Row],
    summary: ImportSummary,
    device_ids: set[int],
    last_seen: dict[int, datetime],
    known_devices: dict[str, tuple[int, datetime | None]],
    facts_at: dict[int, datetime | None],
) -> None:
    if not batch:
        return
    fmt = columns.fmt
    refs: dict[str, DeviceRef] = {}
    configmgr = fmt.name == "configmgr_deployment_errors"
    # The id and inventory steps are skipped for formats without such columns (no-ops there).
    has_ids, has_inventory = columns.has_ids, columns.has_inventory
    for row in batch:
        ref = refs.get(row.device_key)
        if ref is None:
            ref = refs[row.device_key] = DeviceRef(hostname=row.hostname)
            if configmgr:
                ref.configmgr_name = row.hostname
        if has_ids:
            ref.intune_id = ref.intune_id or row.intune_id
            ref.entra_id = ref.entra_id or row.entra_id
            ref.wsus_id = ref.wsus_id or row.wsus_id
        if (when := row.occurred_at) is not None:  # DeviceRef.seen, inline
            if ref.first_seen is None or when < ref.first_seen:
                ref.first_seen = when
            if ref.last_seen is None or when > ref.last_seen:
                ref.last_seen = when
        if has_inventory and row.extra:
            extra = row.extra
            build, policy = extra.get("build", "").strip(), extra.get("policyname", "").strip()
            ref.inventory(row.occurred_at, build, policy)
    new: dict[str, NewOccurrence] = {}
    with transaction.atomic():
        mapping, created_devices = resolve_devices(tenant, refs, last_seen, known_devices)
        record_inventory(mapping, refs, facts_at)
        device_ids.update(mapping.values())  # every device key of the batch is in `refs`
        for row in batch:
            if row.code.value == 0:
                continue
            if row.dedupe_key in new:
                summary.duplicates += 1
                continue
            match = KB_IN_TITLE.search(row.title) if row.title else None
            new[row.dedupe_key] = NewOccurrence(
                device_id=mapping[row.device_key],
                code=row.code.value,
                code_extension=row.code.extension,
                occurred_at=row.occurred_at,
                source=fmt.name,
                # The digest alone keys an imported row: its text key is a hash of the row.
                dedupe_key="",
                dedupe_digest=dedupe_digest(fmt.name[:40], row.dedupe_key),
                update_title=row.title,
                kb=f"KB{match.group(1)}" if match else "",
                message=row.message,
                extra=row.extra,
            )
        codes = insert_occurrences(tenant.pk, list(new.values()), record.pk)
    if new:
        times = [occurrence.occurred_at for occurrence in new.values()]
        first, last = min(times), max(times)
        if summary.first_occurred_at is None or first < summary.first_occurred_at:
            summary.first_occurred_at = first
        if summary.last_occurred_at is None or last > summary.last_occurred_at:
            summary.last_occurred_at = last
    summary.devices_created += created_devices
    summary.created += len(codes)
    summary.duplicates += len(new) - len(codes)
    summary.by_code.update(codes)
