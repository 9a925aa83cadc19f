# Sourced by the browser tests: exits 77 (ctest's skip) unless Debian's chromium (or FW_CHROMIUM),
# node and web/'s playwright-core are there. .ci/run installs chromium with the live peers and sets
# FW_REQUIRE_BROWSER=1: there a missing piece fails the test (exit 1), so CI never passes without
# the browser tests having run.
chromium=${FW_CHROMIUM:-/usr/bin/chromium}
for need in "$chromium" "$(command -v node || true)" web/node_modules/playwright-core/package.json; do
  if [ -z "$need" ] || [ ! -e "$need" ]; then
    if [ "${FW_REQUIRE_BROWSER:-0}" = 1 ]; then
      echo "FAIL: ${need:-node} is absent and FW_REQUIRE_BROWSER=1 (chromium from Debian, node, npm ci in web/)"
      exit 1
    fi
    echo "SKIP: ${need:-node} is absent (chromium from Debian, node, npm ci in web/)"
    exit 77
  fi
done
