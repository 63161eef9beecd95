"""Admin registrations, one module per concern (core, ingest, triage, alerts)."""

from fleet.admin import core  # noqa: F401
