"""Admin registrations, one module per concern (core, ingest, triage, alerts)."""

from fleet.admin import alerts, core, ingest, triage  # noqa: F401
