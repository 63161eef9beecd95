"""System tools some tests need (Chromium, the mingw-w64 headers): skip without them locally,
fail without them in CI, so a CI machine that lost a package cannot pass by skipping.

Mark a test or module `@pytest.mark.needs_tool(PATH, "why")`, or call `require_tool()` where a
marker cannot go (a fixture). `has_tool()` is for a check a test adds when the tool is there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
MINGW_HEADERS = Path("/usr/share/mingw-w64/include")
WUERROR = MINGW_HEADERS / "wuerror.h"
INSTALL_HINT = "`make test` installs it"


def in_ci() -> bool:
    """CI=true (or 1, yes): what CI services set, and what .ci/run exports."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def has_tool(path: Path | str, why: str) -> bool:
    """Whether `path` exists; in CI its absence fails the test instead of answering False."""
    if Path(path).exists():
        return True
    if in_ci():
        pytest.fail(f"{path} is missing ({why}); CI must have it: {INSTALL_HINT}", pytrace=False)
    return False


def require_tool(path: Path | str, why: str) -> None:
    """Skip the test when `path` is missing, or fail it in CI."""
    if not has_tool(path, why):
        pytest.skip(f"{path} is missing ({why}); {INSTALL_HINT}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_tool(path, why): skip without the file locally, fail without it in CI"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_tool"):
        require_tool(*mark.args, **mark.kwargs)
