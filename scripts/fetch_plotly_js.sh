#!/usr/bin/env bash
# Re-fetch the vendored plotly.js bundle (dashboards/static/vendor/) from the npm registry.
#
# Only the "cartesian" distribution: it holds every trace type our charts draw (bar, scatter,
# heatmap; grep `"type":` in dashboards/charts.py and fleet/triage/charts.py) at 1.4 MB, against
# 4.8 MB for the full plotly.min.js; the "basic" one (1.1 MB) lacks heatmap. The version follows
# the plotly.js the plotly Python package ships (the one the figures were written against).
# Checked byte for byte: a changed upstream file fails here instead of landing in the repo.
# Usage: scripts/fetch_plotly_js.sh   (or `make plotly-js`)
set -euo pipefail

PACKAGE=plotly.js-cartesian-dist-min
VERSION=3.7.0
TARBALL_SHA256=6dade12afbb84a02c8568143dc6d6abeec85d086cc5502716d89229981622b88
BUNDLE_SHA256=7c593b9eda0e74a1d07335cf89cbf7a55ffc114909980c3729af835453bdb02a

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="$repo/dashboards/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$work/$PACKAGE-$VERSION.tgz"
echo "$TARBALL_SHA256  $tarball" | sha256sum --check --quiet
tar -xzf "$tarball" -C "$work"
echo "$BUNDLE_SHA256  $work/package/plotly-cartesian.min.js" | sha256sum --check --quiet

mkdir -p "$target"
cp "$work/package/plotly-cartesian.min.js" "$target/plotly-cartesian.min.js"
cp "$work/package/LICENSE" "$target/plotly-cartesian.LICENSE.txt"
echo "$PACKAGE $VERSION -> $target"
