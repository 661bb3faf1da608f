#!/usr/bin/env bash
# Throughput versus cores: `droneid bench` (the whole threaded pipeline on an in-memory capture,
# 4 drones, best of 3) pinned with taskset to 1, 2 and all cores, with as many decode threads
# as cores (the three stage threads always run). Prints a Markdown table.
#   scripts/bench-scaling.sh [RATE] [SECONDS]      e.g. scripts/bench-scaling.sh 122.88e6 1
# Timing depends on what else runs: on a shared machine, run it more than once.
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-122.88e6}"
secs="${2:-1}"
cargo build --release -q -p droneid-cli
bin="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/droneid"
all=$(nproc)
counts=(1)
[ "$all" -ge 2 ] && counts+=(2)
[ "$all" -gt 2 ] && counts+=("$all")

rows=()
for n in "${counts[@]}"; do
    echo "== $n core(s)" >&2
    out="$(taskset -c "0-$((n - 1))" "$bin" bench --sample-rate "$rate" --seconds "$secs" \
        --drones 4 --threads "$n" | tee /dev/stderr)"
    best="$(grep '^best of' <<<"$out")"
    sps="$(sed -n 's/.*capture, \([0-9.e+]*\) samples\/s.*/\1/p' <<<"$best")"
    rt="$(sed -n 's/.*samples\/s, \([0-9.]*\)× real time.*/\1/p' <<<"$best")"
    dec="$(sed -n 's/.*bursts decoded \([0-9]*\/[0-9]*\).*/\1/p' <<<"$best")"
    rows+=("| $n | $sps | ${rt}× | $dec |")
done

echo
echo "Throughput versus cores at $rate S/s ($all × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)):"
echo
echo "| cores (= decode threads) | samples/s | × real time | bursts decoded/total |"
echo "|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
