#!/usr/bin/env bash
# Profiles the khaosat server under one khaosat-bench scenario with perf (CPU samples with call
# graphs), and prints the hottest functions. Needs perf (Debian: linux-perf) and root, or
# kernel.perf_event_paranoid <= 1. The release profile keeps line tables, so symbols resolve.
#
#   bash bench/profile.sh journey            # scenario 1 (default)
#   bash bench/profile.sh submit             # scenario 2
#   bash bench/profile.sh healthz            # scenario 4
#   SECONDS_TO_RECORD=15 bash bench/profile.sh journey --duration 20
#
# Output: $OUT (default /tmp/khaosat-profile.<scenario>.data) and a flat and a caller report
# on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-journey}
shift || true
target=${CARGO_TARGET_DIR:-target}
bench="$target/release/khaosat-bench"
record=${SECONDS_TO_RECORD:-10}
out=${OUT:-/tmp/khaosat-profile.$scenario.data}
[ -x "$bench" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }

log=$(mktemp)
"$bench" "$scenario" --no-write "$@" >"$log" 2>&1 &
bench_pid=$!
# The load starts once the bench announces it; the server is the bench's khaosat child.
for _ in $(seq 1 600); do
    grep -qE "respondents for|timing the submissions|users for" "$log" && break
    sleep 0.1
done
server_pid=$(pgrep -P "$bench_pid" -x khaosat | tail -1)
[ -n "$server_pid" ] || { echo "no khaosat server found"; cat "$log"; exit 1; }
perf record -F 499 -g --call-graph dwarf,16384 -p "$server_pid" -o "$out" -- sleep "$record" >/dev/null 2>&1 || true
wait "$bench_pid" || true
tail -5 "$log"
echo "== flat profile (self time), top 40"
perf report -i "$out" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40
echo "== inclusive (children), top 60"
perf report -i "$out" --children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -60
