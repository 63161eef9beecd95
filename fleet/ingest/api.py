"""The ingest API's logic: validate a batch of posted occurrences and store the good ones.

Every item is checked before anything is written; the valid ones are then inserted in one
transaction (devices resolved in bulk, duplicates skipped by dedupe key) that commits before
the caller answers. A batch sent twice stores nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from codes.parse import CodeError, ParsedCode, parse_code
from fleet.api_schema import FieldError, convert, decode_list
from fleet.ingest import dates, schema
from fleet.ingest.devices import DeviceRef, resolve_devices
from fleet.ingest.models import ApiIngestDay
from fleet.ingest.patterns import KB, KB_IN_TITLE, is_hostname
from fleet.ingest.schema import BatchResult, Rejection
from fleet.ingest.store import NewOccurrence, insert_occurrences
from fleet.models import NO_HOST_PART, Tenant, device_name_key

# JSON can carry these (as escapes) but the database cannot store them: NUL and lone surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Errors about the device object's hostname are reported on `device`, as for a bare name.
REPORT_AS = {"hostname": "device"}


@dataclass
class _Item:
    ref: DeviceRef
    device_key: str
    occurrence: NewOccurrence


def decode_items(body: bytes) -> list:
    """The items of a posted body, for `ingest_batch` (raises as `api_schema.decode_list`)."""
    return decode_list(body, schema.Occurrence)


def ingest_batch(tenant: Tenant, items: list) -> BatchResult:
    """Validate `items` (from `decode_items`, or parsed JSON) and store the valid ones for
    `tenant`."""
    valid, result = validate_batch(items, timezone.now())
    if not valid:
        return result
    refs: dict[str, DeviceRef] = {}
    for item in valid:
        ref = refs.get(item.device_key)
        if ref is None:
            ref = refs[item.device_key] = item.ref
        else:
            ref.intune_id = ref.intune_id or item.ref.intune_id
            ref.entra_id = ref.entra_id or item.ref.entra_id
        ref.seen(item.occurrence.occurred_at)
    unique: dict[tuple[str, str], _Item] = {}
    for item in valid:
        key = (item.occurrence.source, item.occurrence.dedupe_key)
        if key in unique:
            result.duplicates += 1
        else:
            unique[key] = item
    # On SQLite the write lock is held from here to the commit: only what needs the database
    # runs inside, so the other worker can validate its batch meanwhile.
    with transaction.atomic():
        mapping, _created = resolve_devices(tenant, refs)
        rows: list[NewOccurrence] = []
        for item in unique.values():
            item.occurrence.device_id = mapping[item.device_key]
            rows.append(item.occurrence)
        inserted = insert_occurrences(tenant.pk, rows)
    result.accepted = len(inserted)
    result.duplicates += len(unique) - len(inserted)
    return result


def count_batch(result: BatchResult, now: datetime | None = None) -> None:
    """Add one answered batch to the day's API counters (/metrics): one upsert, after the
    batch committed, so a counter never holds rows that were rolled back."""
    day = connection.ops.adapt_datefield_value((now or timezone.now()).astimezone(UTC).date())
    days = ApiIngestDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {days} (day, accepted, duplicates, rejected, batches)
            VALUES (%s, %s, %s, %s, 1)
            ON CONFLICT (day) DO UPDATE SET
                accepted = {days}.accepted + excluded.accepted,
                duplicates = {days}.duplicates + excluded.duplicates,
                rejected = {days}.rejected + excluded.rejected,
                batches = {days}.batches + 1
            """,
            [day, result.accepted, result.duplicates, result.rejected],
        )


def validate_batch(items: list, now: datetime) -> tuple[list[_Item], BatchResult]:
    """The items to store, and the result so far: rejected items, and "success" codes (0),
    which are counted and not stored. Touches no database."""
    result = BatchResult()
    valid: list[_Item] = []
    context = _BatchContext(now=now)
    for index, item in enumerate(items):
        try:
            parsed = _validate(item, context)
        except FieldError as exc:
            result.rejected += 1
            result.errors.append(Rejection(index=index, field=exc.field, message=exc.message))
            continue
        if parsed.occurrence.code == 0:
            result.success += 1  # "no error": nothing to store
            continue
        valid.append(parsed)
    return valid, result


@dataclass
class _BatchContext:
    """What items of one batch share: the clock, and names and codes already parsed.

    Agents post many items per device and a handful of codes, so parsing each distinct value
    once per batch saves most of the per-item work.
    """

    now: datetime
    name_keys: dict[str, str] = field(default_factory=dict)
    codes: dict[str | int, ParsedCode] = field(default_factory=dict)

    def name_key(self, hostname: str) -> str:
        key = self.name_keys.get(hostname)
        if key is None:
            key = self.name_keys[hostname] = device_name_key(hostname)
        return key

    def code(self, raw: str | int) -> ParsedCode:
        code = self.codes.get(raw)  # "12345678" and 12345678 stay apart: a str never equals an int
        if code is None:
            code = self.codes[raw] = parse_code(raw)  # a CodeError is raised again next time
        return code


def _text(value: str | None, name: str) -> str:
    """A declared text field trimmed; "" when absent. Its type and length are checked already."""
    if value is None:
        return ""
    if UNSTORABLE.search(value):
        raise FieldError(name, f"{name} must not contain NUL or unpaired surrogate characters")
    return value.strip()


def _validate(raw: schema.Occurrence | object, context: _BatchContext) -> _Item:
    """One item: the declaration first (`schema.Occurrence`), then what it cannot say."""
    if type(raw) is schema.Occurrence:
        item = raw  # decoded straight from the body: the declaration held
    elif isinstance(raw, dict):
        item = convert(raw, schema.Occurrence, REPORT_AS)
    else:
        raise FieldError("", "each item must be a JSON object")
    ids: schema.Occurrence | schema.Device = item
    device = item.device
    if isinstance(device, schema.Device):
        ids = device
        device = device.hostname
    hostname = device.strip()
    if not hostname:
        raise FieldError("device", "device hostname is required")
    if not is_hostname(hostname):
        raise FieldError("device", f"{device[:80]!r} is not a device hostname")
    device_key = context.name_key(hostname)
    if not device_key:
        raise FieldError("device", f"device hostname {hostname[:80]!r} {NO_HOST_PART}")
    intune_id = _text(ids.intune_device_id, "intune_device_id")
    entra_id = _text(ids.entra_device_id, "entra_device_id")

    if item.code == "":
        raise FieldError("code", "code is required")
    try:
        code = context.code(item.code)
    except CodeError as exc:
        raise FieldError("code", str(exc)) from None

    raw_time = item.occurred_at
    stripped_time = raw_time.strip()
    if not stripped_time:
        raise FieldError("occurred_at", "occurred_at is required (ISO 8601 with time zone)")
    try:
        occurred_at = datetime.fromisoformat(stripped_time)
    except ValueError:
        raise FieldError("occurred_at", f"{raw_time[:60]!r} is not an ISO 8601 time") from None
    if not 1 < occurred_at.year < 9999:  # so that converting to UTC cannot overflow
        raise FieldError("occurred_at", f"{raw_time[:60]!r} is out of range")
    if occurred_at.tzinfo is None:
        raise FieldError("occurred_at", "occurred_at needs a time zone, e.g. Z or +02:00")
    if problem := dates.bounds_problem(occurred_at, context.now):
        raise FieldError("occurred_at", f"occurred_at {raw_time[:60]!r} {problem}")

    title = _text(item.update_title, "update_title")
    message = _text(item.message, "message")
    kb = _text(item.kb, "kb")
    if kb:
        match = KB.match(kb)
        if not match:
            raise FieldError("kb", f"{kb!r} is not a KB number such as KB5034441")
        kb = f"KB{match.group(1)}"
    elif match := KB_IN_TITLE.search(title):
        kb = f"KB{match.group(1)}"

    event_id = item.event_id
    event_id = str(event_id) if isinstance(event_id, int) else _text(event_id, "event_id")
    if event_id:
        dedupe_key = event_id if len(event_id) <= 64 else _sha256(event_id)
    else:
        # No id from the sender: the same content posted again is the same occurrence.
        dedupe_key = _sha256(
            json.dumps(
                [device_key, code.value, code.extension, occurred_at.isoformat(), title, kb,
                 message],
                ensure_ascii=False,
            )
        )  # fmt: skip
    occurred_utc = occurred_at.astimezone(UTC)
    return _Item(
        ref=DeviceRef(hostname=hostname, intune_id=intune_id, entra_id=entra_id),
        device_key=device_key,
        occurrence=NewOccurrence(
            device_id=0,
            code=code.value,
            code_extension=code.extension,
            occurred_at=occurred_utc,
            source=item.source,
            dedupe_key=dedupe_key,
            update_title=title,
            kb=kb,
            message=message,
        ),
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
