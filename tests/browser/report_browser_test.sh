#!/usr/bin/env bash
# The browser test of the HTML report (ctest label `browser`): five examples run with --report
# (a scheduler's cluster life, the default hall, inference services, a solar-plus-battery site with
# a generator, a rail-only fabric's equipment), each opened in Debian's
# headless Chromium by report_browser.mjs. Skips (exit 77) when chromium, node or web/'s
# playwright-core is absent: .ci/run installs chromium with the live peers.
# Usage: report_browser_test.sh FIRSTWALL_BIN WORK_DIR. The screenshot of the cluster-life
# example's report goes to WORK_DIR/report.png, and to docs/images/report.png with
# FIRSTWALL_UPDATE_SCREENSHOT=1.
set -euo pipefail
bin=$1 work=$2
source tests/browser/need_browser.sh
rm -rf "$work"
mkdir -p "$work"
for example in cluster-life default inference-azure solar-battery-site rail-only-fabric; do
  "$bin" run "examples/$example.yaml" --quiet --report --out "$work/$example"
done
node tests/browser/report_browser.mjs "$work/report.png" "$work/cluster-life/report.html" \
  "$work/default/report.html" "$work/inference-azure/report.html" \
  "$work/solar-battery-site/report.html" "$work/rail-only-fabric/report.html"
if [ "${FIRSTWALL_UPDATE_SCREENSHOT:-}" = 1 ]; then
  mkdir -p docs/images
  cp "$work/report.png" docs/images/report.png
fi
