"""Serve plotly.js from the installed plotly package instead of a CDN or a committed copy.

Installs are often offline, so the browser must get plotly.js from us; the plotly Python
package already ships the matching build. This finder exposes exactly that one file as
`vendor/plotly.min.js`, for `runserver`, live-server tests and `collectstatic` alike.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PUBLIC_PATH = "vendor/plotly.min.js"
PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PACKAGE_DATA))
        # collectstatic joins this prefix to the file name to place the copy.
        self.storage.prefix = "vendor"

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != PUBLIC_PATH:
            return [] if find_all else None
        match = str(PACKAGE_DATA / "plotly.min.js")
        return [match] if find_all else match

    def list(self, ignore_patterns):
        yield "plotly.min.js", self.storage
