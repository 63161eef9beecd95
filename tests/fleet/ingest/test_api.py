"""POST /api/v1/occurrences: authentication, limits, validation, idempotent storage."""

import json
from datetime import UTC, datetime
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.ingest.keys import create_ingest_key, revoke
from fleet.ingest.models import IngestKey
from fleet.models import Device, Occurrence
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dead_broker")]
URL = "/api/v1/occurrences"


@pytest.fixture
def key(tenant):
    _record, secret = create_ingest_key(tenant, "agents")
    return secret


def post(body, key: str | None, client: Client | None = None, raw: bool = False):
    client = client or Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = body if raw else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def item(n: int = 1, **overrides) -> dict:
    data = {
        "device": {"hostname": f"PC-{n:04d}.acme.local", "entra_device_id": f"entra-{n}"},
        "code": "0x8024000B",
        "occurred_at": f"2026-11-02T09:{n % 60:02d}:00+01:00",
        "source": "agent",
        "update_title": "2026-10 Cumulative Update for Windows 11 (KB5044284)",
        "event_id": f"{1000 + n}@PC-{n:04d}",
    }
    data.update(overrides)
    return data


def test_good_batch_is_stored_and_counted(tenant, key):
    batch = [item(1), item(2, code="-2145124341", event_id=None), item(3, code=2149842955)]
    response = post(batch, key)

    assert response.status_code == 202
    assert response.json() == {
        "accepted": 3, "duplicates": 0, "rejected": 0, "success": 0, "errors": [],
    }  # fmt: skip
    stored = Occurrence.objects.filter(tenant=tenant).order_by("device__name_key")
    assert [o.code for o in stored] == [0x8024000B] * 3
    first = stored[0]
    assert first.source == "agent"
    assert first.kb == "KB5044284"
    assert first.dedupe_key == "1001@PC-0001"
    assert first.occurred_at.isoformat() == "2026-11-02T08:01:00+00:00"  # stored as UTC
    assert first.device.entra_device_id == "entra-1"
    assert Device.objects.filter(tenant=tenant).count() == 3
    assert IngestKey.objects.get(tenant=tenant).last_used_at is not None


def test_retried_batch_adds_nothing(tenant, key):
    batch = [item(1), item(2, event_id=None)]
    assert post(batch, key).json()["accepted"] == 2

    again = post(batch, key)

    assert again.status_code == 202
    assert again.json()["accepted"] == 0
    assert again.json()["duplicates"] == 2
    assert Occurrence.objects.filter(tenant=tenant).count() == 2


def test_mixed_batch_stores_good_items_and_names_bad_ones(tenant, key):
    batch = [
        item(1),
        item(2, code="0x8024G00B"),
        item(3, occurred_at="2026-11-02 09:00:00"),
        item(4, device=""),
        item(5),
        "not an object",
        item(6, code="0"),
        item(1),  # repeats the first item in the same batch
    ]
    response = post(batch, key)

    body = response.json()
    assert response.status_code == 202
    assert (body["accepted"], body["duplicates"], body["rejected"], body["success"]) == (2, 1, 4, 1)
    errors = {e["index"]: e for e in body["errors"]}
    assert sorted(errors) == [1, 2, 3, 5]
    assert errors[1]["field"] == "code" and "0x8024G00B" in errors[1]["message"]
    assert errors[2]["field"] == "occurred_at" and "time zone" in errors[2]["message"]
    assert errors[3]["field"] == "device"
    assert errors[5]["field"] == ""
    hosts = set(Occurrence.objects.filter(tenant=tenant).values_list("device__name_key", flat=True))
    assert hosts == {"pc-0001", "pc-0005"}
    # Rejected items create no devices either.
    assert set(Device.objects.filter(tenant=tenant).values_list("name_key", flat=True)) == hosts


def test_device_names_with_no_host_part_are_rejected_items(tenant, key):
    names = ["CHC\\", "QQQ\\", "DOMAIN\\", "\\", ".", ".corp.local", "CHC\\.corp", "  "]
    batch = [item(n, device={"hostname": name}) for n, name in enumerate(names)]
    batch.append(item(99, device={"hostname": "CHC\\PC-7"}))
    body = post(batch, key).json()

    assert (body["accepted"], body["rejected"]) == (1, len(names))
    assert [e["index"] for e in body["errors"]] == list(range(len(names)))
    assert {e["field"] for e in body["errors"]} == {"device"}
    messages = [e["message"] for e in body["errors"]]
    assert all("has no host part" in m for m in messages[:3] + messages[6:7])
    assert list(Device.objects.filter(tenant=tenant).values_list("name_key", flat=True)) == ["pc-7"]


def test_times_beyond_the_bounds_are_rejected_items_naming_the_bound(tenant, key, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 4, 23, 45, tzinfo=UTC))
    batch = [
        item(1, occurred_at="2026-03-05T23:45:00Z"),  # a day ahead: clock drift, accepted
        item(2, occurred_at="9998-12-31T23:59:59Z"),
        item(3, occurred_at="2026-03-04T12:00:00+23:00"),
        item(4, occurred_at="2026-03-06T00:00:01+00:00"),
    ]
    body = post(batch, key).json()

    assert (body["accepted"], body["rejected"]) == (1, 3)
    errors = {e["index"]: (e["field"], e["message"]) for e in body["errors"]}
    ahead = "is more than 24 hours ahead of now (2026-03-04 23:45 UTC)"
    assert errors == {
        1: ("occurred_at", f"occurred_at '9998-12-31T23:59:59Z' {ahead}"),
        2: (
            "occurred_at",
            "occurred_at '2026-03-04T12:00:00+23:00' has UTC offset +23:00, "
            "outside -12:00 to +14:00",
        ),
        3: ("occurred_at", f"occurred_at '2026-03-06T00:00:01+00:00' {ahead}"),
    }
    device = Device.objects.get(tenant=tenant)
    assert device.last_seen_at == datetime(2026, 3, 5, 23, 45, tzinfo=UTC)


def test_bad_json_is_400_and_stores_nothing(key):
    response = post('[{"device": "PC-1", ', key, raw=True)

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
    assert not Occurrence.objects.exists()


def test_json_that_is_not_a_list_is_400(key):
    response = post({"device": "PC-1"}, key)

    assert response.status_code == 400
    assert not Occurrence.objects.exists()


def test_wrong_key_is_401(tenant, key):
    response = post([item(1)], key[:-2] + "xx")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert post([item(1)], None).status_code == 401
    assert not Occurrence.objects.exists()


def test_revoked_key_is_401(tenant, key):
    revoke(IngestKey.objects.get(tenant=tenant))

    response = post([item(1)], key)

    assert response.status_code == 401
    assert not Occurrence.objects.exists()


def test_oversized_body_is_413_before_parsing(settings, key):
    settings.INGEST_MAX_BODY_MB = 1
    batch = [item(n, message="x" * 3000) for n in range(400)]  # about 1.3 MB

    response = post(batch, key)

    assert response.status_code == 413
    assert not Occurrence.objects.exists()
    assert not Device.objects.exists()


def test_too_many_items_is_413(settings, key):
    settings.INGEST_MAX_BATCH = 3

    response = post([item(n) for n in range(4)], key)

    assert response.status_code == 413
    assert not Occurrence.objects.exists()


def test_keys_are_per_tenant(tenant, other_tenant, key):
    _record, other_key = create_ingest_key(other_tenant)
    post([item(1)], key)
    post([item(1)], other_key)

    assert Occurrence.objects.filter(tenant=tenant).count() == 1
    assert Occurrence.objects.filter(tenant=other_tenant).count() == 1


def test_key_is_stored_hashed(tenant, key):
    record = IngestKey.objects.get(tenant=tenant)

    assert key not in (record.key_hash, record.prefix)
    assert key.startswith(record.prefix)


def test_get_is_not_allowed(key):
    assert Client().get(URL, headers={"Authorization": f"Bearer {key}"}).status_code == 405


def test_openapi_schema_is_served():
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    post_op = schema["paths"]["/api/v1/occurrences"]["post"]
    assert set(post_op["responses"]) == {"202", "400", "401", "413"}
    assert schema["components"]["securitySchemes"]["ingestKey"]["scheme"] == "bearer"


def test_last_used_is_written_at_most_once_a_minute(tenant, key):
    post([item(1)], key)
    first = IngestKey.objects.get(tenant=tenant).last_used_at
    IngestKey.objects.filter(tenant=tenant).update(last_used_at=first)

    with CaptureQueriesContext(connection) as captured:
        post([item(2)], key)

    assert IngestKey.objects.get(tenant=tenant).last_used_at == first
    assert not any("UPDATE" in q["sql"] and "ingestkey" in q["sql"] for q in captured)


def test_stored_rows_are_exactly_the_accepted_items(tenant, key):
    batch = [item(n) for n in range(1, 6)] + [item(9, code="junk")]
    body = post(batch, key).json()

    stored = set(Occurrence.objects.filter(tenant=tenant).values_list("dedupe_key", flat=True))
    assert body["accepted"] == len(stored) == 5
    assert stored == {f"{1000 + n}@PC-{n:04d}" for n in range(1, 6)}


def test_same_digits_as_string_and_as_integer_are_different_codes(tenant, key):
    # Eight bare digits are hex, an integer is a value: the per-batch parse cache must not mix them.
    batch = [item(1, code="12345678"), item(2, code=12345678), item(3, code="12345678")]
    body = post(batch, key).json()

    assert body["accepted"] == 3
    codes = dict(Occurrence.objects.values_list("device__name_key", "code"))
    assert codes == {"pc-0001": 0x12345678, "pc-0002": 12345678, "pc-0003": 0x12345678}


def test_a_bad_code_repeated_is_rejected_every_time(key):
    body = post([item(1, code="0xZZ"), item(2), item(3, code="0xZZ")], key).json()

    assert (body["accepted"], body["rejected"]) == (1, 2)
    assert [e["index"] for e in body["errors"]] == [0, 2]


def test_device_names_match_case_insensitively_and_fqdn_to_short_name(tenant, key):
    known = Device.objects.create(tenant=tenant, hostname="PC-0007", name_key="pc-0007")
    batch = [
        item(1, device="pc-0007"),
        item(2, device="PC-0007.contoso.local"),
        item(3, device={"hostname": "CONTOSO\\PC-0007"}),
        item(4, device="PC-0008.acme.local"),
        item(5, device="pc-0008"),
    ]
    assert post(batch, key).json()["accepted"] == 5

    by_device: dict[int, set[str]] = {}
    for device_id, dedupe_key in Occurrence.objects.values_list("device_id", "dedupe_key"):
        by_device.setdefault(device_id, set()).add(dedupe_key)
    assert by_device[known.pk] == {"1001@PC-0001", "1002@PC-0002", "1003@PC-0003"}
    assert Device.objects.filter(tenant=tenant).count() == 2


def test_a_renamed_device_is_found_by_its_entra_or_intune_id(tenant, key):
    by_entra = Device.objects.create(
        tenant=tenant, hostname="OLD-1", name_key="old-1", entra_device_id="entra-aa"
    )
    by_intune = Device.objects.create(
        tenant=tenant, hostname="OLD-2", name_key="old-2", intune_device_id="intune-bb"
    )
    batch = [
        item(1, device={"hostname": "NEW-1", "entra_device_id": "entra-aa"}),
        item(2, device={"hostname": "NEW-2", "intune_device_id": "intune-bb"}),
    ]
    assert post(batch, key).json()["accepted"] == 2

    stored = dict(Occurrence.objects.values_list("dedupe_key", "device_id"))
    assert stored == {"1001@PC-0001": by_entra.pk, "1002@PC-0002": by_intune.pk}
    assert Device.objects.filter(tenant=tenant).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_wait_for_each_other_and_store_everything_once(tenant, key):
    # On SQLite one writer at a time: the others must wait for the lock, never answer 500.
    batches = [[item(n + 100 * b) for n in range(1, 60)] for b in range(4)]
    batches += batches[:2]  # two retries racing their originals

    def send(batch) -> tuple[int, dict]:
        response = post(batch, key, client=Client(raise_request_exception=True))
        return response.status_code, response.json()

    writers = run_at_once(*(partial(send, batch) for batch in batches))
    answers, errors = writers.results, writers.errors

    assert errors == []
    assert [status for status, _ in answers] == [202] * len(batches)
    assert sum(body["accepted"] for _, body in answers) == 4 * 59
    assert sum(body["duplicates"] for _, body in answers) == 2 * 59
    assert Occurrence.objects.filter(tenant=tenant).count() == 4 * 59
