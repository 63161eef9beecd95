"""The report's PDF: Chromium's headless print-to-PDF of the same HTML the page shows.

Chromium is already on the machine for the browser tests and in the image; it lays out the
page exactly as the browser does (grid, SVG, the print stylesheet's page breaks), where
WeasyPrint would be a second layout engine with its own gaps and a tree of native libraries
(docs/reports.md). Each call writes the HTML to a private temporary directory, runs Chromium
with its own throwaway profile (so parallel renders never share a profile lock) and a timeout,
and reads the PDF back.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings


class PdfError(RuntimeError):
    """Chromium is missing, failed, or took longer than REPORT_PDF_TIMEOUT."""


def chromium_path() -> str:
    found = shutil.which(settings.CHROMIUM_PATH)
    if not found:
        raise PdfError(
            f"no Chromium at {settings.CHROMIUM_PATH!r}: install chromium or set CHROMIUM_PATH"
        )
    return found


def html_to_pdf(html: str, timeout: int | None = None) -> bytes:
    """The PDF of a self-contained HTML document."""
    timeout = timeout or settings.REPORT_PDF_TIMEOUT
    with tempfile.TemporaryDirectory(prefix="fleet-report-") as work:
        folder = Path(work)
        source, target = folder / "report.html", folder / "report.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            chromium_path(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        # Its own session, so a timeout ends Chromium's helper processes with it.
        process = subprocess.Popen(  # noqa: S603 - our own argument list, no shell
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfError(f"Chromium took longer than {timeout} s to print the report") from None
        if not target.exists() or target.stat().st_size == 0:
            tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfError(f"Chromium wrote no PDF (exit {process.returncode}): {' '.join(tail)}")
        return target.read_bytes()
