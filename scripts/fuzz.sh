#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 600), one after the other at
# the lowest CPU priority, and prints a summary table: executions, execs/s, coverage (libFuzzer
# `cov`/`ft`), corpus size, crashes (crash/leak/timeout/oom files) and slow units. Needs the nightly toolchain and cargo-fuzz
# (`rustup toolchain install nightly; cargo install cargo-fuzz`).
#
#   scripts/fuzz.sh            # 10 minutes per target
#   scripts/fuzz.sh 60         # 1 minute per target
#   TARGETS="sigmf_meta fec_decode" scripts/fuzz.sh 120
#
# Corpora grow in fuzz/corpus/TARGET (seeded from signals/ on the first run), crashes land in
# fuzz/artifacts/TARGET, logs in fuzz/logs/TARGET.log (all git-ignored). A crash becomes a
# regression test with its bytes inline in tests/tests/fuzz_regressions.rs. Exit status 1 when any
# target crashed. FUZZ_TARGET_DIR overrides the build folder (default fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
targets="${TARGETS:-payload_parse sigmf_meta decode_bytes fec_decode}"
target_dir="${FUZZ_TARGET_DIR:-fuzz/target}"
mkdir -p fuzz/logs

# Seeds: the bundled SigMF metadata, the transport blocks of signals/expected.jsonl, and a
# slice of a real burst's samples (byte 0 = mode: 4 = cf32, tiled).
seed() {
    local dir="fuzz/corpus/$1"
    [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && return 0
    mkdir -p "$dir"
    case "$1" in
        sigmf_meta) cp signals/*.sigmf-meta "$dir"/ ;;
        payload_parse)
            local i=0
            for hex in $(sed -n 's/.*"block_hex": *"\([0-9a-f]*\)".*/\1/p' signals/expected.jsonl); do
                printf '%s' "$hex" | xxd -r -p >"$dir/block$i"
                i=$((i + 1))
            done ;;
        decode_bytes)
            { printf '\x04'; head -c 24383 signals/synthetic-kz-8sym-15m36.cf32 | tail -c 16383; } \
                >"$dir/kz-cf32-tiled" ;;
        *) ;;
    esac
}

cargo +nightly fuzz build --target-dir "$target_dir" >&2

declare -A max_len=([decode_bytes]=16384 [fec_decode]=28800)
rows=()
failed=0
for t in $targets; do
    seed "$t"
    log="fuzz/logs/$t.log"
    echo "== $t: ${seconds} s (log $log)" >&2
    status=ok
    nice -n 19 cargo +nightly fuzz run --target-dir "$target_dir" "$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -max_len="${max_len[$t]:-4096}" \
        -timeout=20 -rss_limit_mb=4096 >"$log" 2>&1 || status=CRASH
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    corp="$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")"
    crashes="$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'leak-*' \
        -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | wc -l)"
    slow="$(find "fuzz/artifacts/$t" -type f -name 'slow-unit-*' 2>/dev/null | wc -l)"
    [ "$status" = ok ] || failed=1
    rows+=("| $t | $seconds | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes | $slow | $status |")
done

echo
echo "| target | seconds | executions | execs/s | cov | ft | corpus (units/size) | crashes | slow units (> 10 s) | result |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
