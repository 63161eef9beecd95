"""Fleet models, one module per concern; import them from here."""

from fleet.models.alerts import AlertDelivery, AlertFiring, AlertRule, AlertRuleState
from fleet.models.core import NO_HOST_PART, Device, Occurrence, Tenant, device_name_key
from fleet.models.ingest import ImportRecord, IngestKey
from fleet.models.stats import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    RetentionHorizon,
)
from fleet.models.triage import TriageEvent, TriageFlag, TriageRule

__all__ = [
    "NO_HOST_PART",
    "AlertDelivery",
    "AlertFiring",
    "AlertRule",
    "AlertRuleState",
    "DailyCodeStat",
    "DailyDeviceCodeStat",
    "Device",
    "HourlyCodeStat",
    "HourlyDeviceCodeStat",
    "ImportRecord",
    "IngestKey",
    "Occurrence",
    "RetentionHorizon",
    "Tenant",
    "TriageEvent",
    "TriageFlag",
    "TriageRule",
    "device_name_key",
]
