#!/usr/bin/env bash
# Fails when a crate of the workspace declares a dependency it does not use.
#
# Tool: cargo-machete (https://crates.io/crates/cargo-machete), which looks for each declared
# dependency's name in the crate's sources (fast, stable toolchain, no build). Installed on
# first use with `cargo install cargo-machete --locked`. A false positive (a dependency used
# only through a macro or a feature) goes into that crate's
# `[package.metadata.cargo-machete] ignored = [...]`, with a comment saying why.
#
# Unused code (modules, exported items) is checked by the compiler: `cargo clippy --release
# --workspace --all-targets` warns on dead code, and every crate's public items are used by
# the product or its tests (see README, "Checks").
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-machete >/dev/null 2>&1; then
    cargo install cargo-machete --locked
fi
# The workspace and the separate fuzz workspace.
cargo machete . fuzz
echo "check-deps: no unused dependencies"
