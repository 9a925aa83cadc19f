#!/usr/bin/env bash
# The browser test of the HTML report (ctest label `browser`): five examples run with --report
# (a scheduler's cluster life, the default hall with its walls against scale, inference services, a
# solar-plus-battery site with a generator, a rail-only fabric's equipment), the walls in time
# alone, a TPU slice's torus and two sweeps (examples/cooling-sweep.yaml, immersion-sweep.yaml),
# each opened in Debian's
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
# The walls against scale drawn into the default run's report, and the walls in time alone.
"$bin" walls --grow gpus --steps 4 --next 1 --report --quiet --out "$work/default"
"$bin" walls --in-time --set simulation.duration=2d --report --quiet --out "$work/walls-in-time"
node tests/browser/report_browser.mjs "$work/report.png" "$work/cluster-life/report.html" \
  "$work/default/report.html" "$work/inference-azure/report.html" \
  "$work/solar-battery-site/report.html" "$work/rail-only-fabric/report.html"
# Sweeps: numeric keys with replicas' bands, and a key of words (the liquid cooling kinds).
"$bin" sweep examples/cooling-sweep.yaml --report --quiet --out "$work/cooling-sweep"
"$bin" sweep examples/immersion-sweep.yaml --report --quiet --out "$work/immersion-sweep"
"$bin" run examples/tpu-pod.yaml --quiet --report --out "$work/tpu-pod"
FW_MIN_CANVASES=1 node tests/browser/report_browser.mjs "" "$work/walls-in-time/report.html" \
  "$work/tpu-pod/report.html" \
  "$work/cooling-sweep/report.html" "$work/immersion-sweep/report.html"
if [ "${FIRSTWALL_UPDATE_SCREENSHOT:-}" = 1 ]; then
  mkdir -p docs/images
  cp "$work/report.png" docs/images/report.png
fi
