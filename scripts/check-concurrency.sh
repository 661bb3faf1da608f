#!/usr/bin/env bash
# Checks the pipeline's lock-free code (crates/pipeline: SPSC rings, pools) under miri and
# ThreadSanitizer, with the exact commands of the doc comment at the top of
# crates/pipeline/src/lib.rs. Needs the nightly toolchain with the miri and rust-src components
# (installed here when missing). Prints a summary; exit status 1 when either check fails.
#
#   scripts/check-concurrency.sh           # both
#   scripts/check-concurrency.sh miri      # only miri
#   scripts/check-concurrency.sh tsan      # only ThreadSanitizer
#
# Builds go to target/concurrency/{miri,tsan} (override with CONCURRENCY_TARGET_DIR) so the
# instrumented std does not invalidate the normal build.
set -uo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
base="${CONCURRENCY_TARGET_DIR:-target/concurrency}"
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"

installed="$(rustup +nightly component list --installed 2>/dev/null)"
for c in miri rust-src; do
    if ! grep -q "^$c" <<<"$installed"; then
        rustup component add --toolchain nightly "$c" || exit 1
    fi
done

results=()
failed=0
run() {
    local name="$1"
    shift
    echo "== $name: $*" >&2
    local start=$SECONDS
    if "$@"; then
        results+=("$name: ok ($((SECONDS - start)) s)")
    else
        results+=("$name: FAILED ($((SECONDS - start)) s)")
        failed=1
    fi
}

if [ "$which" = all ] || [ "$which" = miri ]; then
    CARGO_TARGET_DIR="$base/miri" run miri cargo +nightly miri test -p droneid-pipeline
fi
if [ "$which" = all ] || [ "$which" = tsan ]; then
    # TSan needs the whole std instrumented (-Zbuild-std), else its atomics are invisible to it.
    CARGO_TARGET_DIR="$base/tsan" RUSTFLAGS="-Zsanitizer=thread" \
        RUSTDOCFLAGS="-Zsanitizer=thread" \
        run tsan cargo +nightly test -Zbuild-std --target "$host" \
        -p droneid-pipeline --lib --tests
fi

echo
printf '%s\n' "${results[@]}"
exit "$failed"
