from datetime import UTC, datetime

from fleet.aggregate import aggregate_pending
from fleet.models import HourlyCodeStat, HourlyDeviceCodeStat, Occurrence
from tests.factories import DeviceFactory, OccurrenceFactory


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=UTC)


def test_occurrences_roll_into_hourly_code_and_device_stats(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    for device, when in [(a, at(9, 5)), (a, at(9, 40)), (b, at(9, 59)), (a, at(10, 1))]:
        OccurrenceFactory(device=device, occurred_at=when)

    assert aggregate_pending().occurrences == 4

    nine = HourlyCodeStat.objects.get(tenant=tenant, code=0x8024000B, hour=at(9))
    assert (nine.occurrences, nine.devices) == (3, 2)
    ten = HourlyCodeStat.objects.get(tenant=tenant, code=0x8024000B, hour=at(10))
    assert (ten.occurrences, ten.devices) == (1, 1)
    assert HourlyDeviceCodeStat.objects.get(device=a, hour=at(9)).occurrences == 2
    assert not Occurrence.objects.filter(aggregated=False).exists()


def test_second_run_adds_only_new_rows_and_recounts_devices(tenant):
    a, b = DeviceFactory(tenant=tenant), DeviceFactory(tenant=tenant)
    OccurrenceFactory(device=a, occurred_at=at(9, 5))
    aggregate_pending()
    assert aggregate_pending().occurrences == 0  # nothing new: nothing counted again

    OccurrenceFactory(device=a, occurred_at=at(9, 10))
    OccurrenceFactory(device=b, occurred_at=at(9, 20))
    assert aggregate_pending(chunk_size=1).chunks == 2

    nine = HourlyCodeStat.objects.get(tenant=tenant, hour=at(9))
    assert (nine.occurrences, nine.devices) == (3, 2)
