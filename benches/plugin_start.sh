#!/usr/bin/env bash
# Cold vs warm start of weir with 10 plugins: the time from launch to the
# `ready` log line, with an empty compiled-component cache (cold: every
# plugin compiled) and with the cache the cold run filled (warm).
#
#   benches/plugin_start.sh [path/to/weir] [runs]
set -euo pipefail
WEIR=$(realpath "${1:-target/release/weir}")
RUNS=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > "$work/config.yaml" <<'YAML'
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:0}
processors:
  attributes: {actions: [{key: a, value: b, action: upsert}]}
  resource: {attributes: [{key: a, value: b, action: upsert}]}
  transform: {trace_statements: ['set(span.attributes["x"], "y")']}
  filter: {traces: {span: ['name == "drop"']}}
  probabilistic_sampler: {sampling_percentage: 50}
  tail_sampling: {policies: [{name: all, type: always_sample}]}
exporters:
  debug:
  file: {path: out.json}
  otlphttp: {endpoint: http://127.0.0.1:1}
  loki: {endpoint: http://127.0.0.1:1}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    traces: {receivers: [otlp], processors: [attributes, resource, transform, filter, probabilistic_sampler, tail_sampling], exporters: [debug, file, otlphttp]}
    logs: {receivers: [otlp], exporters: [loki]}
YAML

# Seconds from launch to `ready`.
start() {
  local cache=$1 log=$work/log t0
  t0=$(date +%s.%N)
  WEIR_PLUGIN_CACHE=$cache RUST_LOG=info "$WEIR" --config "$work/config.yaml" >/dev/null 2>"$log" &
  local pid=$!
  until grep -q ' ready' "$log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.005
  done
  local t1; t1=$(date +%s.%N)
  kill $pid; wait $pid 2>/dev/null || true
  grep -c 'from="\?compiled' "$log" | sed 's/^/  compiled: /' >&2
  grep -c 'from="\?disk_cache' "$log" | sed 's/^/  from disk: /' >&2
  echo "$t1 - $t0" | bc
}

for i in $(seq "$RUNS"); do
  cache=$work/cache-$i
  cold=$(start "$cache")
  warm=$(start "$cache")
  printf 'run %d: cold %.3f s, warm %.3f s\n' "$i" "$cold" "$warm"
done
