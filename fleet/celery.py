"""The Celery application: Redis broker, configuration and beat schedule from Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.settings")

app = Celery("fleet")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    """Every installed app and every fleet slice: each one's `tasks.py` registers its tasks."""
    from django.conf import settings

    from fleet.apps import SLICES

    return [*settings.INSTALLED_APPS, *SLICES]


app.autodiscover_tasks(_task_packages)
