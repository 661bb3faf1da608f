#!/usr/bin/env bash
# Soak test of the live path: `droneid live` against the SoapySDR replay device, paced at real time
# and looping a synthesised 3-drone capture, for SECONDS (default 600). Every 10 s it samples the
# process's resident memory; at the end it prints the RSS series, the frames decoded against the
# bursts served, lost samples and the rings' high-water marks (from the live summary).
#   scripts/soak.sh [SECONDS] [RATE_HZ]      e.g. scripts/soak.sh 600 61.44e6
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
rate="${2:-61.44e6}"
./scripts/setup.sh >/dev/null
cargo build --release -q -p droneid-cli
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target/release/droneid"
export SOAPY_SDR_PLUGIN_PATH="$PWD/target/soapy"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 2 s loop: 3 drones, a burst every 200 ms each, so 30 bursts per loop.
"$bin" synth -o "$work/loop" --sample-rate "$rate" --drones 3 --random-offsets --interval-ms 200 \
    --jitter-ms 0 --duration-s 2 --snr-db 10 --center-freq 2444.5e6 2>/dev/null
per_loop=$(wc -l < "$work/loop.truth.jsonl")

"$bin" live --device "driver=replay,file=$work/loop.sigmf-meta,loop=1" --duration "$secs" \
    --status-interval 10 --output "$work/frames.jsonl" 2> "$work/live.log" &
pid=$!
echo "soak: ${secs} s at ${rate} S/s, ${per_loop} bursts per 2 s loop (pid $pid)"
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "  t=$(date +%H:%M:%S) rss_kb=$rss"
    sleep 10
done
wait "$pid" && status=0 || status=$?
frames=$(wc -l < "$work/frames.jsonl")
expected=$(awk -v s="$secs" -v p="$per_loop" 'BEGIN { printf "%d", s / 2 * p }')
echo "soak: exit $status, frames $frames, bursts served ≈ $expected"
grep -E "droneid live:|candidates|pipeline:|ring " "$work/live.log" || true
