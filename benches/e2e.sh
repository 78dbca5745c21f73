#!/usr/bin/env bash
# End-to-end benchmark: builds release `weir` and `weir-loadgen`, then runs
# generator → weir → sink on loopback for each pipeline (see benches/e2e.py
# for the pipelines, the options and how each figure is taken) and writes
# benches/RESULTS.md (and RESULTS.json) with the command that made them.
#
#   benches/e2e.sh                          # everything, defaults
#   benches/e2e.sh --pipelines passthrough,attributes --tls plain --count 1000000
#   benches/e2e.sh --help
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
if [[ "${NO_BUILD:-}" != 1 ]]; then
  cargo build --release -p weir -p weir-loadgen
fi
exec python3 "$root/benches/e2e.py" --target-dir "$CARGO_TARGET_DIR" \
  --command "benches/e2e.sh $*" "$@"
