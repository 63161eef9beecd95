"""The vendored partial plotly.js bundle: the pinned file, and every trace type our charts draw."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "dashboards" / "static" / "vendor"
CHART_MODULES = [REPO / "dashboards" / "charts.py", REPO / "fleet" / "triage" / "charts.py"]


def pinned(variable: str) -> str:
    script = (REPO / "scripts" / "fetch_plotly_js.sh").read_text()
    return re.search(rf"^{variable}=(\S+)$", script, re.MULTILINE).group(1)


def test_the_vendored_bundle_is_the_one_the_fetch_script_pins():
    bundle = (VENDOR / "plotly-cartesian.min.js").read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == pinned("BUNDLE_SHA256")
    assert f"plotly.js (cartesian - minified) v{pinned('VERSION')}".encode() in bundle[:200]
    assert "MIT License" in (VENDOR / "plotly-cartesian.LICENSE.txt").read_text()


def test_the_bundle_registers_every_trace_type_the_charts_draw():
    used = set()
    for module in CHART_MODULES:
        used |= set(re.findall(r'"type": "([a-z0-9]+)"', module.read_text()))
    # Axis types ("category") share the key; only trace types need a module in the bundle.
    used -= {"category", "date", "linear", "log"}
    assert used == {"bar", "scatter", "heatmap"}  # a new one must be checked against the bundle
    bundle = (VENDOR / "plotly-cartesian.min.js").read_text()
    registered = set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', bundle))
    assert used <= registered
