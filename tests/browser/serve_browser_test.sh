#!/usr/bin/env bash
# The browser test of the dashboard (ctest label `browser`): the emulated hall ingested for 20 s
# into a store with four users and a proposed plan, `firstwall serve` on it, and
# serve_browser.mjs in Debian's headless Chromium. Skips (exit 77) when chromium, node or web/'s
# playwright-core is absent: .ci/run installs chromium with the live peers.
# Usage: serve_browser_test.sh FIRSTWALL_BIN WORK_DIR. The screenshot goes to
# WORK_DIR/dashboard.png, and to docs/images/dashboard.png with FIRSTWALL_UPDATE_SCREENSHOT=1.
set -euo pipefail
bin=$1 work=$2
source tests/browser/need_browser.sh
rm -rf "$work"
mkdir -p "$work"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# The port a server printed ("http://127.0.0.1:PORT") in LOG, waiting up to 30 s.
port_of() {
  for _ in $(seq 150); do
    if p=$(grep -o 'http://127.0.0.1:[0-9]*' "$1" | head -1 | sed 's/.*://'); [ -n "$p" ]; then
      echo "$p"
      return
    fi
    sleep 0.2
  done
  echo "no port in $1: $(cat "$1")" >&2
  exit 1
}
"$bin" emulate tests/inputs/live-emulate.yaml --speed 20 --listen 127.0.0.1:0 >"$work/emulate.log" 2>&1 &
pids+=($!)
emu=$(port_of "$work/emulate.log")
# The shared site map, and the racks' PDUs, the CDUs and the chillers the cooling and rack panels
# read (bound before its balances).
sed -e "s/127.0.0.1:9400/127.0.0.1:$emu/" -e '/^balances:/,$d' tests/inputs/live-site-map.yaml >"$work/map.yaml"
cat >>"$work/map.yaml" <<'EOF'
  - {source: emulator, series: firstwall_rack_pdu_power_watts, entity: pdu, id: "{rack}", quantity: power, unit: W}
  - {source: emulator, series: firstwall_cdu_supply_temperature_celsius, entity: cdu, id: "{cdu}", quantity: temperature, unit: C}
  - {source: emulator, series: firstwall_chiller_power_watts, entity: chiller, id: plant, quantity: power, unit: W}
EOF
sed -n '/^balances:/,$p' tests/inputs/live-site-map.yaml >>"$work/map.yaml"
store=$work/site.db
"$bin" ingest "$work/map.yaml" --db "$store" --for 20s --speed 20 --quiet
kill "${pids[0]}"
FIRSTWALL_NEW_PASSWORD=adminpass1 "$bin" ops user add --store "$store" --name ada --role admin
for u in ana:approver vic:viewer otto:operator; do
  FIRSTWALL_PASSWORD=adminpass1 FIRSTWALL_NEW_PASSWORD=${u%%:*}pass1 \
    "$bin" ops user add --store "$store" --user ada --name "${u%%:*}" --role "${u#*:}"
done
FIRSTWALL_PASSWORD=ottopass1 "$bin" ops plan propose --store "$store" --user otto \
  --class power_cap --target gpu/node0/gpu0 --value '600 W' --reason 'forecast peak at 16:00' \
  --effect '-0.1 kW' --uncertainty '0.05 kW' --expires 2h >/dev/null
"$bin" serve --store "$store" --scenario tests/inputs/live-emulate.yaml --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
port=$(port_of "$work/serve.log")
node tests/browser/serve_browser.mjs "http://127.0.0.1:$port/" "$work/dashboard.png"
if [ "${FIRSTWALL_UPDATE_SCREENSHOT:-}" = 1 ]; then
  mkdir -p docs/images
  cp "$work/dashboard.png" docs/images/dashboard.png
fi
