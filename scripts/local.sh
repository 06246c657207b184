#!/usr/bin/env bash
# `npm run local [-- --smoke]`: the whole grading system on this machine, from a fresh clone.
# Installs the system packages it needs (root or sudo), the npm dependencies when node_modules is
# missing, then hands over to scripts/local.ts (services, seeding, worker, gateway, samples).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20.19+ is required (https://nodejs.org or your distribution's nodejs package)." >&2
  exit 1
fi

bash scripts/install-system-deps.sh

if [[ ! -d node_modules ]]; then
  echo "Installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund
fi

exec node_modules/.bin/tsx scripts/local.ts "$@"
