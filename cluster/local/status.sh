#!/usr/bin/env bash
# Shows the processes recorded under _output/run/pids (running or not) with their memory.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
print_status
