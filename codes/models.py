"""The error-code catalog."""

from django.db import models


class ErrorCode(models.Model):
    """One catalog entry per 32-bit value; filled by `manage.py import_codes`."""

    value = models.PositiveBigIntegerField(unique=True, help_text="Unsigned 32-bit value.")
    name = models.CharField(max_length=120, blank=True, db_index=True)
    message = models.TextField(blank=True)
    family = models.CharField(max_length=40, blank=True)
    severity = models.CharField(max_length=20, blank=True, help_text="Operator severity.")

    class Meta:
        ordering = ["value"]

    def __str__(self) -> str:
        return f"0x{self.value:08X} {self.name}".strip()

    @property
    def hex(self) -> str:
        return f"0x{self.value:08X}"
