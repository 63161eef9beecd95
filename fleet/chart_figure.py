"""The plain plotly figure JSON every chart of the site shares (dashboards and the triage slice).

Lives in the project core so fleet slices can draw a chart without importing `dashboards`.
"""

from __future__ import annotations

AXIS = {"gridcolor": "#eef0f4", "zerolinecolor": "#d9dee7", "automargin": True}


# What plotly.py writes for `template="none"`: plotly.js's plain defaults.
NO_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}


def figure(
    traces: list[dict],
    *,
    height: int = 340,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    **layout,
) -> dict:
    """A plotly figure as the JSON plotly.js reads, written directly as dicts.

    Building it through plotly.py's validated graph objects cost more than the queries of a
    page (~5 ms per trace, re-checking every value we put in); the traces here use only
    a few well-known attributes, and the browser tests draw every chart. The template embeds it
    with json_script, which escapes `<`, `>` and `&`: tenant and device names end up in hover
    text.
    """
    return {
        "data": traces,
        "layout": {
            # A named full template is heavy JSON: a few explicit settings give the same look.
            "template": NO_TEMPLATE,
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
            "height": height,
            "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
            "legend": {"orientation": "h", "y": -0.18},
            "hovermode": "closest",
            "xaxis": {**AXIS, **(xaxis or {})},
            "yaxis": {**AXIS, **(yaxis or {})},
            **layout,
        },
    }
