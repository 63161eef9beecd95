"""Fleet models, one module per concern; import them from here."""

from fleet.models.core import Device, Occurrence, Tenant, device_name_key
from fleet.models.stats import HourlyCodeStat, HourlyDeviceCodeStat

__all__ = [
    "Device",
    "HourlyCodeStat",
    "HourlyDeviceCodeStat",
    "Occurrence",
    "Tenant",
    "device_name_key",
]
