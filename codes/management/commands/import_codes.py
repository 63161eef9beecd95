"""`manage.py import_codes`: load the catalog file, family texts and curated code files."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from codes.catalog import load_catalog
from codes.catalog_import import import_codes
from codes.knowledge import KnowledgeError


class Command(BaseCommand):
    help = "Load codes/data/catalog.json.gz and codes/knowledge/ into the database (idempotent)."

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            result = import_codes()
        except KnowledgeError as exc:
            raise CommandError(str(exc)) from None
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.codes} codes ({result.named} named, {result.with_message} "
                f"with a message, {result.curated} curated) and {result.families} families "
                f"from {len(load_catalog())} catalog entries in {seconds:.1f}s."
            )
        )
