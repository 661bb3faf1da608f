#!/usr/bin/env bash
# Regenerates docs/sensitivity.md: the receiver's decode success rate versus in-band SNR for every
# impairment profile (awgn, multipath, ppm, cfo-wide), 200 bursts per SNR point, +10 … −6 dB.
# Extra arguments go to `droneid bench --sensitivity` (e.g. --bursts-per-point 50 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p droneid-cli -- bench --sensitivity --profile all --output docs/sensitivity.md "$@"
echo "wrote docs/sensitivity.md" >&2
