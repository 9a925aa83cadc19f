#!/usr/bin/env bash
# The MCP server against the official MCP TypeScript client (ctest mcp_client, label `cli`): makes
# an SQLite store with an admin and an agent (operator) through `firstwall ops`, then runs
# mcp_client.mjs over stdio and Streamable HTTP. Skips (exit 77) only when node is absent; fails
# when web/'s packages are missing (scripts/setup-deps installs them with npm ci).
# Usage: mcp_client_test.sh FIRSTWALL_BIN WORK_DIR
set -euo pipefail
bin=$1 work=$2
if ! command -v node >/dev/null; then
  echo "SKIP: node is absent (Debian nodejs; scripts/setup-deps installs it)"
  exit 77
fi
if [ ! -e web/node_modules/@modelcontextprotocol/sdk/package.json ]; then
  echo "FAIL: web/node_modules/@modelcontextprotocol/sdk is missing: run scripts/setup-deps (npm ci in web/)"
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
store=$work/live.db
FIRSTWALL_NEW_PASSWORD='ada admin password' "$bin" ops user add --store "$store" --name ada --role admin
FIRSTWALL_PASSWORD='ada admin password' FIRSTWALL_NEW_PASSWORD='agent password' \
  "$bin" ops user add --store "$store" --user ada --name agent --role operator
node tests/mcp/mcp_client.mjs "$bin" "$store" 'agent password'
# Every plan the agent proposed is audited, and the chain holds.
"$bin" ops audit verify --store "$store"
test "$("$bin" ops plan list --store "$store" --json | grep -o '"proposer": "agent"' | wc -l)" -eq 2
