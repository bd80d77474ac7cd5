#!/usr/bin/env bash
# Rebuild the Node lab scenarios (tests/lab/scenarios/node-*), one command:
#
#     bash tests/lab/node/rebuild.sh                  # all of them, about 6 minutes
#     bash tests/lab/node/rebuild.sh node-oom-heap    # only the named ones
#
# Needs: Node 20 + npm (Debian: nodejs, npm), redis-server (Debian), python3 with httpx
# (requirements.txt here), and
# the npm registry for `npm ci` (packages pinned in package.json / package-lock.json, and in
# mismatch/{broken,fixed}). Everything it starts listens on 127.0.0.1:18300-18399 and is
# stopped by its own pid before the next scenario. It rewrites the scenario folders it runs.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
exec python3 drive.py "$@"
