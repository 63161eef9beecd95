"""The fleet app's model registry.

The core models (tenants, devices, occurrences, aggregates, personal API tokens) live here, in
`core.py`, `stats.py` and `tokens.py`. The slices keep their own models
(`fleet/ingest/models.py`, `fleet/triage/models.py`, `fleet/alerts/models.py`,
`fleet/accounts/models.py`) under the same `fleet` app label, so no table moved (`LoginFailure`
keeps the table it had in the dashboards app); Django loads an app's models from this one
module, which is why it imports theirs at the bottom. Import slice models from their slice, core
models from here.
"""

from fleet.models.core import (
    NO_HOST_PART,
    Device,
    Occurrence,
    PendingBatch,
    Role,
    Tenant,
    TenantGrant,
    device_name_key,
)
from fleet.models.stats import (
    DailyCodeStat,
    DailyDeviceCodeStat,
    HourlyCodeStat,
    HourlyDeviceCodeStat,
    RetentionHorizon,
    SnapshotDeviceCodeStat,
)
from fleet.models.tokens import ApiToken

__all__ = [
    "NO_HOST_PART",
    "ApiToken",
    "DailyCodeStat",
    "DailyDeviceCodeStat",
    "Device",
    "HourlyCodeStat",
    "HourlyDeviceCodeStat",
    "Occurrence",
    "PendingBatch",
    "RetentionHorizon",
    "Role",
    "SnapshotDeviceCodeStat",
    "Tenant",
    "TenantGrant",
    "device_name_key",
]

# Registration only (see above): the slices' models, after the core they point at.
import fleet.accounts.models  # noqa: E402, F401
import fleet.alerts.models  # noqa: E402, F401
import fleet.connectors.models  # noqa: E402, F401
import fleet.ingest.models  # noqa: E402, F401
import fleet.reports.models  # noqa: E402, F401
import fleet.triage.models  # noqa: E402, F401
