"""Devices are edited in the core's admin (`fleet/admin.py`); this slice adds none."""
