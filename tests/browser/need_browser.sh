# Sourced by the browser tests: exits 77 (ctest's skip) unless Debian's chromium (or FW_CHROMIUM),
# node and web/'s playwright-core are there. .ci/run installs chromium with the live peers.
chromium=${FW_CHROMIUM:-/usr/bin/chromium}
for need in "$chromium" "$(command -v node || true)" web/node_modules/playwright-core/package.json; do
  if [ -z "$need" ] || [ ! -e "$need" ]; then
    echo "SKIP: ${need:-node} is absent (chromium from Debian, node, npm ci in web/)"
    exit 77
  fi
done
