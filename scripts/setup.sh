#!/usr/bin/env bash
# Installs the system packages droneid needs on Debian 12. Idempotent and non-interactive.
# Rust itself (stable >= 1.80, tested with 1.95) is expected to be installed via rustup.
set -euo pipefail

# hdf5: --hdf5 output (libhdf5-dev) and h5dump in tests (hdf5-tools); mosquitto: the MQTT broker
# and mosquitto_sub used by the MQTT tests; soapysdr: `droneid live` and the replay module;
# openssl: the tests' throw-away CA and certificates (MQTT over TLS, CoT over TLS);
# python3-venv: target/pyenv with takproto, which the CoT tests use to read our events as TAK does.
PACKAGES=(build-essential pkg-config cmake libhdf5-dev hdf5-tools mosquitto mosquitto-clients
  libsoapysdr-dev soapysdr-tools openssl python3 python3-venv)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup.sh: cargo not found. Install Rust with rustup (https://rustup.rs), then re-run." >&2
  exit 1
fi
echo "setup.sh: system packages present; Rust $(rustc --version | cut -d' ' -f2)"

# The SoapySDR "replay" module (scripts/soapy-replay): lets `droneid live` and its tests stream a
# recording without hardware. Built into target/soapy/; cmake rebuilds only when the source changed.
# Use it with SOAPY_SDR_PLUGIN_PATH=<repo>/target/soapy.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmake -S "$REPO/scripts/soapy-replay" -B "$REPO/target/soapy/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$REPO/target/soapy/build" >/dev/null
echo "setup.sh: SoapySDR replay module in target/soapy/"

# takproto (PyPI): the TAK ecosystem's CoT XML -> protobuf converter; the CoT tests feed our events
# through it (crates/outputs/tests/tak/check_cot.py). In its own venv, never the system Python.
if [ ! -x "$REPO/target/pyenv/bin/python3" ] || ! "$REPO/target/pyenv/bin/python3" -c "import takproto" 2>/dev/null; then
  python3 -m venv "$REPO/target/pyenv"
  "$REPO/target/pyenv/bin/pip" install -q takproto==3.0.1 \
    || echo "setup.sh: warning: pip could not install takproto; the CoT takproto test will say it skipped" >&2
fi
echo "setup.sh: takproto in target/pyenv"

# sigmf (PyPI): validates `decode --annotate` output against the official SigMF schema in the
# tests (crates/cli/tests/annotate.rs); maturin, numpy and pytest build and test the Python
# package (`pip install ./python`, python/tests). Same venv as takproto.
if ! "$REPO/target/pyenv/bin/python3" -c "import sigmf, numpy, pytest, maturin" 2>/dev/null; then
  [ -x "$REPO/target/pyenv/bin/python3" ] || python3 -m venv "$REPO/target/pyenv"
  "$REPO/target/pyenv/bin/pip" install -q --disable-pip-version-check \
    "sigmf>=1.2" "numpy>=1.20" "pytest>=7" "maturin>=1.5,<2"
fi
echo "setup.sh: sigmf, numpy, pytest, maturin in target/pyenv"

# The `droneid` Python package (python/: PyO3 + maturin, one abi3 wheel for CPython >= 3.9) into
# target/pyenv, so that `target/pyenv/bin/python -c "import droneid"` works after this script.
# Built with the release profile into the workspace's target/ (unless CARGO_TARGET_DIR says
# otherwise), where it shares the registry crates' builds with cargo's. Skipped when the
# installed package is newer than every source and manifest it is built from; the first build
# takes a few minutes (the droneid crates are compiled once more for the extension module).
PY_STAMP="$REPO/target/pyenv/.droneid-package-installed"
py_sources_changed() {
  [ ! -f "$PY_STAMP" ] && return 0
  [ -n "$(find "$REPO/python/src" "$REPO"/crates/*/src "$REPO/python/Cargo.toml" \
    "$REPO/python/Cargo.lock" "$REPO/python/pyproject.toml" "$REPO"/crates/*/Cargo.toml \
    "$REPO/Cargo.toml" -newer "$PY_STAMP" -print -quit 2>/dev/null)" ]
}
if py_sources_changed || ! "$REPO/target/pyenv/bin/python3" -c "import droneid" 2>/dev/null; then
  echo "setup.sh: building the droneid Python package into target/pyenv (pip install ./python)"
  touch "$PY_STAMP.new"  # sources edited during the build make the next run build again
  # The venv's bin/ goes first on PATH: maturin 1.16's build hook runs `maturin` from PATH,
  # not from its own venv (seen in CI: "No such file or directory: 'maturin'").
  PATH="$REPO/target/pyenv/bin:$PATH" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}" \
    "$REPO/target/pyenv/bin/pip" install -q \
    --disable-pip-version-check --no-build-isolation "$REPO/python"
  mv "$PY_STAMP.new" "$PY_STAMP"
fi
echo "setup.sh: droneid Python package in target/pyenv"
