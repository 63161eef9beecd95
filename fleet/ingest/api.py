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

from django.db import transaction
from django.utils import timezone

from codes.parse import CodeError, ParsedCode, parse_code
from fleet.ingest import dates
from fleet.ingest.devices import DeviceRef, resolve_devices
from fleet.ingest.store import NewOccurrence, insert_occurrences
from fleet.models import NO_HOST_PART, Tenant, device_name_key

SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
HOSTNAME = re.compile(r"^[\w][\w.\-\\$]{0,254}$")
KB = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)
KB_IN_TITLE = re.compile(r"\bKB\s?(\d{6,8})\b", re.IGNORECASE)
MAX_TEXT = {"update_title": 500, "message": 4000}
# JSON can carry these (as escapes) but the database cannot store them: NUL and lone surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    success: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "success": self.success,
            "errors": self.errors,
        }


class ItemError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class _Item:
    ref: DeviceRef
    device_key: str
    occurrence: NewOccurrence


def ingest_batch(tenant: Tenant, items: list) -> BatchResult:
    """Validate `items` (already parsed JSON) and store the valid ones for `tenant`."""
    result = BatchResult()
    valid: list[_Item] = []
    context = _BatchContext(now=timezone.now())
    for index, item in enumerate(items):
        try:
            parsed = _validate(item, context)
        except ItemError as exc:
            result.rejected += 1
            result.errors.append({"index": index, "field": exc.field, "message": exc.message})
            continue
        if parsed.occurrence.code == 0:
            result.success += 1  # "no error": nothing to store
            continue
        valid.append(parsed)
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


def _text(item: dict, name: str, limit: int) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ItemError(name, "must be a string")
    if len(value) > limit:
        raise ItemError(name, f"is longer than {limit} characters")
    if UNSTORABLE.search(value):
        raise ItemError(name, "must not contain NUL or unpaired surrogate characters")
    return value.strip()


def _validate(item: object, context: _BatchContext) -> _Item:
    if not isinstance(item, dict):
        raise ItemError("", "each item must be a JSON object")
    device = item.get("device")
    ids = item
    if isinstance(device, dict):
        ids = device
        device = device.get("hostname")
    hostname = device.strip() if isinstance(device, str) else device
    if hostname is None or hostname == "":
        raise ItemError("device", "device hostname is required")
    if not isinstance(hostname, str) or not HOSTNAME.match(hostname):
        raise ItemError("device", f"{str(device)[:80]!r} is not a device hostname")
    device_key = context.name_key(hostname)
    if not device_key:
        raise ItemError("device", f"device hostname {hostname[:80]!r} {NO_HOST_PART}")
    intune_id = _text(ids, "intune_device_id", 64)
    entra_id = _text(ids, "entra_device_id", 64)

    raw_code = item.get("code")
    if raw_code is None or raw_code == "":
        raise ItemError("code", "code is required")
    if not isinstance(raw_code, str | int) or isinstance(raw_code, bool):
        raise ItemError("code", "code must be a string or an integer")
    try:
        code = context.code(raw_code)
    except CodeError as exc:
        raise ItemError("code", str(exc)) from None

    raw_time = item.get("occurred_at")
    stripped_time = raw_time.strip() if isinstance(raw_time, str) else ""
    if not stripped_time:
        raise ItemError("occurred_at", "occurred_at is required (ISO 8601 with time zone)")
    try:
        occurred_at = datetime.fromisoformat(stripped_time)
    except ValueError:
        raise ItemError("occurred_at", f"{raw_time[:60]!r} is not an ISO 8601 time") from None
    if not 1 < occurred_at.year < 9999:  # so that converting to UTC cannot overflow
        raise ItemError("occurred_at", f"{raw_time[:60]!r} is out of range")
    if occurred_at.tzinfo is None:
        raise ItemError("occurred_at", "occurred_at needs a time zone, e.g. Z or +02:00")
    if problem := dates.bounds_problem(occurred_at, context.now):
        raise ItemError("occurred_at", f"occurred_at {raw_time[:60]!r} {problem}")

    source = item.get("source", "api")
    if not isinstance(source, str) or not SOURCE.match(source):
        raise ItemError("source", "source must be 1-40 lowercase letters, digits, _ . -")
    title = _text(item, "update_title", MAX_TEXT["update_title"])
    message = _text(item, "message", MAX_TEXT["message"])
    kb = _text(item, "kb", 20)
    if kb:
        match = KB.match(kb)
        if not match:
            raise ItemError("kb", f"{kb!r} is not a KB number such as KB5034441")
        kb = f"KB{match.group(1)}"
    elif match := KB_IN_TITLE.search(title):
        kb = f"KB{match.group(1)}"

    event_id = item.get("event_id")
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        event_id = str(event_id)
    if event_id is not None and (
        not isinstance(event_id, str) or len(event_id) > 200 or UNSTORABLE.search(event_id)
    ):
        raise ItemError("event_id", "event_id must be a string of at most 200 characters")
    if event_id and event_id.strip():
        event_id = event_id.strip()
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
            source=source,
            dedupe_key=dedupe_key,
            update_title=title,
            kb=kb,
            message=message,
        ),
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
