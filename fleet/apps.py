from importlib import import_module

from django.apps import AppConfig

# The fleet domain's slices: packages inside the `fleet` app, each with its own models, admin,
# views, urls, tasks and templates. Django knows only the `fleet` app, so the project wires them:
# models through `fleet/models/__init__.py`, admin here, tasks through Celery's autodiscovery
# (`fleet/celery.py`), templates through TEMPLATES["DIRS"], URLs in `fleet/urls.py`.
SLICES = (
    "fleet.accounts",
    "fleet.ingest",
    "fleet.triage",
    "fleet.alerts",
    "fleet.connectors",
    "fleet.devices",
    "fleet.reports",
)


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = "Fleet"

    def ready(self) -> None:
        for name in SLICES:
            import_module(f"{name}.admin")
        # Copies a person's language setting into the session at login (its signal receiver).
        import_module("fleet.accounts.language")
