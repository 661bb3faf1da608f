#!/usr/bin/env bash
# Regenerates docs/sensitivity.md: the receiver's decode success rate versus in-band SNR for every
# impairment profile (awgn, multipath, ppm, cfo-wide), 200 bursts per SNR point, +10 … −6 dB,
# then appends the real-air tables (narrow captures, DC spike, interferers, pairs; 200 bursts per
# point through `droneid synth` + `droneid decode`, scripts/real_air_tables.py).
# Extra arguments go to `droneid bench --sensitivity` (e.g. --bursts-per-point 50 for a quick look).
# REAL_AIR=0 skips the real-air tables (about 6 minutes on a 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p droneid-cli
target/release/droneid bench --sensitivity --profile all --output docs/sensitivity.md "$@"
if [ "${REAL_AIR:-1}" != 0 ]; then
  python3 scripts/real_air_tables.py target/release/droneid docs/sensitivity.md
fi
echo "wrote docs/sensitivity.md" >&2
