"""tests/tools.py: a missing system tool skips a test locally and fails it in CI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.services import REPO
from tests.tools import in_ci

NEEDY_TESTS = """
import pytest

from tests.tools import has_tool, require_tool

MISSING = "/nonexistent/fleet-test-tool"


@pytest.mark.needs_tool(MISSING, "the marked test's tool")
def test_marked():
    pass


def test_required_in_the_body():
    require_tool(MISSING, "the body's tool")


def test_checked_when_there():
    if has_tool(MISSING, "the optional check's tool"):
        raise AssertionError("has_tool said a missing file is there")
"""


def run_pytest_on_needy_tests(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_needy.py").write_text(NEEDY_TESTS)
    # Not this run's CI or PYTEST_ADDOPTS (CI's PostgreSQL pass sets --now, unknown there).
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS"}}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.tools", "-p", "no:django", "-p",
         "no:cacheprovider", "-rA", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip


@pytest.mark.parametrize("ci", [None, "false"])
def test_a_missing_tool_skips_outside_ci(tmp_path, ci):
    result = run_pytest_on_needy_tests(tmp_path, ci)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert "/nonexistent/fleet-test-tool is missing (the marked test's tool)" in result.stdout


def test_a_missing_tool_fails_the_run_in_ci(tmp_path):
    result = run_pytest_on_needy_tests(tmp_path, "true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped" not in result.stdout
    for why in ("the marked test's tool", "the body's tool", "the optional check's tool"):
        assert f"/nonexistent/fleet-test-tool is missing ({why}); CI must have it" in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("yes", True), ("", False), ("0", False),
     ("false", False), ("no", False)],
)  # fmt: skip
def test_ci_is_any_value_but_empty_or_false(monkeypatch, value, expected):
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected
