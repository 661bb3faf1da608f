#!/usr/bin/env bash
# Fails when a crate of the workspace declares a dependency it does not use, or exports an item
# that nothing uses.
#
# 1. Dependencies. Tool: cargo-machete (https://crates.io/crates/cargo-machete), which looks for
#    each declared dependency's name in the crate's sources (fast, stable toolchain, no build).
#    Installed on first use with `cargo install cargo-machete --locked`. A false positive (a
#    dependency used only through a macro or a feature) goes into that crate's
#    `[package.metadata.cargo-machete] ignored = [...]`, with a comment saying why.
#
# 2. Exported items. The compiler's dead-code lint (`cargo clippy --release --workspace
#    --all-targets`) covers private items and modules, not `pub` ones. Here every `pub` fn,
#    struct, enum, const, static, trait, type and mod under crates/*/src and python/src must
#    have its name (a whole word, outside `//` comments) somewhere else than its own
#    definition: in the product, its tests, benches, fuzz targets or the Python package. A name
#    shared by several items (`new`, `config`, …) counts for all of them, so this finds only
#    items whose name is used nowhere; the rest was checked by hand (see README, "Checks").
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-machete >/dev/null 2>&1; then
    cargo install cargo-machete --locked
fi
# The workspace and the separate fuzz workspace.
cargo machete . fuzz
echo "check-deps: no unused dependencies"

# Known unused exported items in files whose owners are still working on them ("file name").
# Each is to be used or deleted there; an entry that is no longer unused is reported as stale.
# None at present.
KNOWN=(
)
DEF='^\s*pub\s+(?:(?:const|async|unsafe)\s+)*(?:fn|struct|enum|static|trait|type|mod|union|const)\s+([A-Za-z_]\w*)'
found=()
while IFS=: read -r file line name; do
    uses=$(git grep -h -w --untracked -e "$name" -- crates benches tests python fuzz |
        grep -cvE '^\s*//' || true)
    if [ "$uses" -le 1 ]; then
        found+=("$file $name")
        known=no
        for k in "${KNOWN[@]}"; do [ "$k" = "$file $name" ] && known=yes; done
        if [ "$known" = no ]; then
            echo "check-deps: unused exported item: $file:$line $name" >&2
            failed=1
        fi
    fi
done < <(git grep -n --untracked -P "$DEF" -- ':(glob)crates/*/src/**/*.rs' ':(glob)python/src/**/*.rs' |
    perl -ne "print \"\$1:\$2:\$3\\n\" if /^([^:]+):(\\d+):${DEF#^}/")
for k in "${KNOWN[@]}"; do
    stale=yes
    for f in "${found[@]}"; do [ "$f" = "$k" ] && stale=no; done
    if [ "$stale" = yes ]; then
        echo "check-deps: no longer unused, remove from KNOWN: $k" >&2
    fi
done
if [ "${failed:-0}" = 1 ]; then
    exit 1
fi
echo "check-deps: every exported item is used (${#KNOWN[@]} known exceptions listed in the script)"
