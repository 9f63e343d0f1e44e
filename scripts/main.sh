#!/usr/bin/env bash
# The main job: builds if needed, then runs `rebound demo` - leader election
# over a Lease API on the embedded server (h2/TLS, in a child process) while
# that server is SIGKILLed and restarted. Exits 0 only when the leader kept
# its lease and the standby took over cleanly. Extra arguments go to the
# demo (--json, --svg FILE, --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
scripts/build.sh default > /dev/null
exec build/default/rebound demo "$@"
