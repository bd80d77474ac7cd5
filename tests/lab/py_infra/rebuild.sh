#!/usr/bin/env bash
# Rebuild the py_infra lab scenarios (tests/lab/scenarios/py-*) from real runs.
#
#   bash tests/lab/py_infra/rebuild.sh                 # all scenarios (about 5 minutes)
#   bash tests/lab/py_infra/rebuild.sh py-oom py-oom-fixed
#
# Needs root (PostgreSQL runs as the postgres user via runuser; the OOM scenario makes a
# memory cgroup), the Debian packages redis-server, postgresql, nginx, and the PyPI
# packages in requirements.txt. Servers listen on 127.0.0.1:18200-18299 only and are
# stopped at the end. See README.md beside this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for bin in redis-server redis-cli nginx psql runuser; do
    command -v "$bin" >/dev/null || { echo "missing $bin: apt-get install -y redis-server postgresql nginx" >&2; exit 1; }
done
command -v initdb >/dev/null || export PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
exec python3 "$here/build.py" "$@"
