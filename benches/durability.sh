#!/usr/bin/env bash
# Durability figures of issue #8, by one command: persistent-queue write
# throughput for each fsync policy (benches/queue.rs), replay throughput
# after a restart and duplicates per kill -9 (host/tests/e2e_crash.rs), and
# peak RSS under overload (host/tests/e2e_overload.rs). Writes
# benches/RESULTS-durability.md (see benches/durability.py).
#
#   benches/durability.sh                      # debug build, 60 s overload
#   benches/durability.sh --release            # what the closing note quotes
#   benches/durability.sh --overload-secs 10 --replay-records 20000
#   NO_BUILD=1 CARGO_TARGET_DIR=/path benches/durability.sh   # reuse built binaries
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
profile=()
for arg in "$@"; do
  [[ "$arg" == --release ]] && profile=(--release)
done
if [[ "${NO_BUILD:-}" != 1 ]]; then
  if [[ ${#profile[@]} -eq 0 ]]; then
    cargo bench -p weir --bench queue --profile dev --no-run
  else
    cargo bench -p weir --bench queue --no-run
  fi
  cargo test -p weir "${profile[@]}" --test e2e_crash --test e2e_overload --no-run
fi
exec python3 "$root/benches/durability.py" --target-dir "$CARGO_TARGET_DIR" \
  --command "benches/durability.sh $*" "$@"
