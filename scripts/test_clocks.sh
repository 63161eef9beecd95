#!/usr/bin/env bash
# Run tests at moments where a day, a month, a year or Europe's summer time turns over:
#   scripts/test_clocks.sh [PYTEST_ARGS...]   (default: the tests that build dated data)
#
# Each run moves the clock twice: `--now` anchors this process's tests (tests/clock.py), and
# libfaketime moves the machine's clock for everything else, so the tests that keep the real
# clock (a Celery worker, gunicorn, Chromium) run from the same moment. libfaketime is given
# an offset, not a start time: with a start time each process's clock would start there when
# it starts, and gunicorn's arbiter would take its workers for hung. TZ is a European zone so
# that a local date, where anything used one, differs from the UTC date at these moments.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure_debian_packages.sh faketime:faketime

# All after the fixed dates that tests use for past events (2026-11): the API refuses rows
# more than a day ahead, so an earlier clock would fail those tests for a reason of its own.
MOMENTS=(
    "2026-12-31 23:45:00"  # a quarter of an hour before the year ends (UTC)
    "2027-01-01 00:05:00"  # five minutes after
    "2027-02-28 23:59:30"  # the last half minute of a short month
    "2027-03-28 00:59:30"  # half a minute before Europe moves to summer time (01:00 UTC)
    "2027-10-31 01:00:30"  # half a minute after it moves back, on the last day of a month
)
# Not tests/test_load.py: gunicorn is unreliable under libfaketime at any moment (a mid-June
# noon too): workers fail to boot or are taken for hung. Its checks are counts, not windows.
[ $# -gt 0 ] || set -- tests/dashboards tests/fleet tests/security tests/test_clock.py

failed=()
for moment in "${MOMENTS[@]}"; do
    echo "=== $moment UTC"
    start=$SECONDS
    offset=$(($(date -ud "$moment UTC" +%s) - $(date +%s)))
    if TZ=Europe/Berlin faketime -f "$(printf '%+d' "$offset")" .venv/bin/pytest \
        -p no:cacheprovider -q --now="${moment/ /T}Z" "$@"; then
        echo "=== $moment UTC: passed in $((SECONDS - start)) s"
    else
        echo "=== $moment UTC: FAILED in $((SECONDS - start)) s"
        failed+=("$moment")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed at: %s UTC\n' "${failed[@]}" >&2
    exit 1
fi
