"""Fleet: the Django project, tenants, devices, occurrences, ingestion, aggregation and alerts."""

from fleet.celery import app as celery_app

__all__ = ["celery_app"]
