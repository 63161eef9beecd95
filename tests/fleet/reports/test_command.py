import io
from datetime import UTC, datetime, time

import pytest
from django.core.management import CommandError, call_command

from fleet.reports.periods import last_full
from tests.factories import emit


def test_html_to_a_file(fleet, tmp_path):
    output = tmp_path / "r.html"
    first, last = fleet.period.first.isoformat(), fleet.period.last.isoformat()
    call_command(
        "tenant_report", "acme", "--from", first, "--to", last, "--format", "html",
        "--output", str(output), stdout=io.StringIO(),
    )  # fmt: skip
    html = output.read_text()
    assert "Acme Corp" in html and "Operation was cancelled" in html
    assert f"{first} to {last}" in html


def test_what_no_worker_counted_yet_is_counted_first(device, now):
    period = last_full("monthly", now.date())
    emit(device, 0x8024000B, [datetime.combine(period.first, time(9), tzinfo=UTC)] * 3)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "tenant_report", "acme", "--period", period.key, "--format", "html", "--output", "-",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert "0x8024000B" in out.getvalue()
    assert "counted 3 pending occurrences first" in err.getvalue()


def test_html_to_stdout(fleet):
    out = io.StringIO()
    call_command(
        "tenant_report", "acme", "--period", fleet.period.key, "--format", "html",
        "--output", "-", stdout=out,
    )  # fmt: skip
    assert out.getvalue().lstrip().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--output", "x"], "no tenant 'nobody'"),
        (["acme", "--period", "2026-13", "--output", "x"], "period: "),
        (["acme", "--from", "2026-11-01", "--output", "x"], "to: "),
        (["acme", "--format", "pdf", "--output", "-"], "only with --format html"),
    ],
)
def test_bad_arguments_are_named(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("tenant_report", *args)
