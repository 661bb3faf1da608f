#!/usr/bin/env bash
# Receiver throughput at the common SDR rates: synthesises a capture in memory per rate (2 drones,
# one burst each per ~100 ms, 10 dB in-band SNR), times the single-threaded receiver over it (best
# of 3) and prints a Markdown table. Extra arguments go to every `droneid bench` run
# (e.g. --seconds 1 to use less memory: a 2 s capture at 122.88 MS/s takes 2 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p droneid-cli
bin="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/droneid"

rows=()
for rate in 15.36e6 30.72e6 61.44e6 122.88e6; do
    echo "== $rate S/s" >&2
    out="$("$bin" bench --sample-rate "$rate" "$@" | tee /dev/stderr)"
    best="$(grep '^best of' <<<"$out")"
    # best of 3: 61.44 MS/s capture, 1.234e8 samples/s, 2.01× real time, bursts decoded 40/40
    msps="$(sed -n 's/.*: \([0-9.]*\) MS\/s capture.*/\1/p' <<<"$best")"
    sps="$(sed -n 's/.*capture, \([0-9.e+]*\) samples\/s.*/\1/p' <<<"$best")"
    rt="$(sed -n 's/.*samples\/s, \([0-9.]*\)× real time.*/\1/p' <<<"$best")"
    dec="$(sed -n 's/.*bursts decoded \([0-9]*\/[0-9]*\).*/\1/p' <<<"$best")"
    rows+=("| $msps MS/s | $sps | ${rt}× | $dec |")
done

echo
echo "Receiver throughput ($(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)):"
echo
echo "| rate | samples/s | × real time | bursts decoded/total |"
echo "|-----:|----------:|------------:|---------------------:|"
printf '%s\n' "${rows[@]}"
