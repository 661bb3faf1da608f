#!/usr/bin/env bash
# droneid versus GNU Radio's polyphase channelizer on the same capture, in the same run.
#
#   scripts/compare-gnuradio.sh RATE_HZ [SECONDS]      e.g. 61.44e6 2, 122.88e6 2
#
# Synthesises a cf32 capture at RATE_HZ (3 drones on random channels, one burst each per 100 ms,
# 10 dB SNR, SECONDS long, default 2: 8·RATE·SECONDS bytes in a temporary directory, e.g. 2 GB at
# 122.88 MS/s), reads it once so it sits in the page cache, then times, best of 3 each:
#   * GNU Radio: file_source -> pfb.channelizer_ccf (M = RATE / 15.36 MHz channels,
#     oversample_rate 2, i.e. droneid's 30.72 MS/s channel grid; taps per
#     scripts/gr_channelizer.py) -> null_sinks. GNU Radio runs a thread per block;
#   * droneid's own channelizer alone (crates/channelizer/examples/channelize_file.rs, one
#     thread, same file, same grid): the like-for-like row;
#   * the whole receiver: `droneid decode PATH -q --no-progress`, bursts decoded counted
#     against the synthesiser's truth.
# and prints a Markdown table with each one's MS/s, × real time and ratio to GNU Radio.
#
# GNU Radio is only needed here, not to build or test droneid (so it is not in setup.sh):
#   apt-get install -y --no-install-recommends gnuradio
# Environment: GR_ARGS (extra gr_channelizer.py flags, e.g. "--oversample 1" or "--ntaps 60"),
# RUNS (default 3), KEEP_DIR (keep the capture in this directory instead of a temporary one),
# DECODE=0 (skip the `droneid decode` row).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 RATE_HZ [SECONDS]    (e.g. $0 61.44e6 2)" >&2
    exit 2
fi
rate="$1"
secs="${2:-2}"
runs="${RUNS:-3}"

# GNU Radio's Python modules live in the distribution's python3, which may not be the first
# python3 on PATH (pyenv, venvs).
py=""
for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'from gnuradio import filter' 2>/dev/null; then
        py="$cand"
        break
    fi
done
if [[ -z "$py" ]]; then
    echo "GNU Radio's Python modules were not found. Install them (Debian 12 / Ubuntu):" >&2
    echo "  sudo apt-get install -y --no-install-recommends gnuradio" >&2
    exit 3
fi

cargo build --release -q -p droneid-cli
cargo build --release -q -p droneid-channelizer --example channelize_file
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target/release/droneid"
chan="$target/release/examples/channelize_file"

if [[ -n "${KEEP_DIR:-}" ]]; then
    dir="$KEEP_DIR"
    mkdir -p "$dir"
else
    dir="$(mktemp -d)"
    trap 'rm -rf "$dir"' EXIT
fi
cap="$dir/capture"
"$bin" synth -o "$cap" --sample-rate "$rate" --drones 3 --random-offsets --interval-ms 100 \
    --duration-s "$secs" --snr-db 10 >&2
data="$cap.sigmf-data"
samples=$(($(stat -c %s "$data") / 8))
truth=$(wc -l <"$cap.truth.jsonl")
cat "$data" >/dev/null # into the page cache

now() { date +%s.%N; }
best_of() { # best_of CMD...: best wall time of $runs runs, seconds
    local best="" t0 t1 dt
    for _ in $(seq "$runs"); do
        t0=$(now)
        "$@"
        t1=$(now)
        dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
        echo "    $dt s" >&2
        best=$(awk -v a="$best" -v b="$dt" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    echo "$best"
}

echo "== GNU Radio pfb_channelizer_ccf" >&2
# shellcheck disable=SC2086
gr_out="$("$py" scripts/gr_channelizer.py "$data" --rate "$rate" --runs "$runs" ${GR_ARGS:-})"
gr_s="$(sed -n 's/^best_s //p' <<<"$gr_out")"
gr_taps="$(sed -n 's/^taps //p' <<<"$gr_out")"

echo "== droneid channelizer alone" >&2
ch_out="$("$chan" "$data" "$rate" "$runs")"
ch_s="$(sed -n 's/^best_s //p' <<<"$ch_out")"
ch_taps="$(sed -n 's/^taps //p' <<<"$ch_out")"

if [[ "${DECODE:-1}" != 0 ]]; then
    echo "== droneid decode" >&2
    decode() { "$bin" decode "$cap.sigmf-meta" -q --no-progress >"$dir/frames.jsonl"; }
    dec_s="$(best_of decode)"
    decoded=$(wc -l <"$dir/frames.jsonl")
fi

row() { # row NAME SECONDS [DECODED]
    awk -v name="$1" -v s="$2" -v n="$samples" -v fs="$rate" -v gr="$gr_s" -v dec="${3:-}" 'BEGIN {
        msps = n / s / 1e6; rt = (n / fs) / s
        printf "| %s | %.1f | %.2f× | %.2f× | %s |\n", name, msps, rt, gr / s, dec
    }'
}

mch=$(awk -v fs="$rate" 'BEGIN { printf "%d", fs / 15.36e6 + 0.5 }')
echo
echo "$(awk -v fs="$rate" 'BEGIN { printf "%g", fs / 1e6 }') MS/s → $mch channels × 30.72 MS/s, $samples samples ($secs s), best of $runs;" \
    "$(nproc) × $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
    "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes'):"
echo
echo "| | MS/s | × real time | ÷ GNU Radio | bursts decoded/truth |"
echo "|---|---:|---:|---:|---:|"
row "GNU Radio pfb_channelizer_ccf ($gr_taps taps${GR_ARGS:+, $GR_ARGS})" "$gr_s"
row "droneid channelizer alone ($ch_taps taps, 1 thread)" "$ch_s"
if [[ -n "${dec_s:-}" ]]; then
    row "droneid decode" "$dec_s" "$decoded/$truth"
fi
