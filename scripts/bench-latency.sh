#!/usr/bin/env bash
# Frame latency, paced at real time: for each rate, a synthesised capture (4 drones, a burst every
# 100 ms each, 10 dB) is served by the SoapySDR replay device (looped, real time) to
# `droneid live -v` for SECONDS, which reports per frame the time from the device's delivery of
# the sample ending the burst to its JSON line written (p50/p99/max); then `droneid bench
# --paced` does the same without the device (a 1 s in-memory capture delivered at real time,
# once per second of SECONDS).
#   scripts/bench-latency.sh [SECONDS] [RATE…]      e.g. scripts/bench-latency.sh 60 61.44e6
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
rates=("$@")
[ "${#rates[@]}" -gt 0 ] || rates=(61.44e6 122.88e6)
./scripts/setup.sh >/dev/null
cargo build --release -q -p droneid-cli
bin="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/droneid"
export SOAPY_SDR_PLUGIN_PATH="$PWD/target/soapy"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for rate in "${rates[@]}"; do
    echo "== $rate S/s, live through the replay device, ${secs} s"
    "$bin" synth -o "$work/cap" --sample-rate "$rate" --drones 4 --random-offsets \
        --interval-ms 100 --duration-s 1 --snr-db 10 --center-freq 2444.5e6 2>/dev/null
    "$bin" live -v --device "driver=replay,file=$work/cap.sigmf-meta,loop=1" --duration "$secs" \
        --status-interval 0 --output "$work/frames.jsonl" 2>&1 |
        grep -E "droneid live: [0-9]|candidates|latency|device:" || true
    # A 1 s capture delivered SECONDS times (at most 100), each run after a fresh pipeline start.
    runs=$((secs > 100 ? 100 : secs))
    echo "== $rate S/s, bench --paced, $runs runs of 1 s"
    "$bin" bench --sample-rate "$rate" --paced --drones 4 --seconds 1 --runs "$runs" 2>/dev/null |
        grep -E "^paced"
done
