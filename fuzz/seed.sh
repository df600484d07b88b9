#!/usr/bin/env bash
# Fills each fuzz target's working corpus (fuzz/corpus/<target>/, not committed) with its
# seeds. With --regenerate, first rewrites the committed seeds (fuzz/seeds/<target>/) from
# events/examples/ (deterministic: the same examples give the same files); regression
# inputs kept in fuzz/seeds/ (named regression-*) are left as they are.
#
#   fuzz/seed.sh [--regenerate]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--regenerate" ]]; then
    cargo run --quiet -p overens-fuzz-props --bin fuzz-seeds -- fuzz/seeds
fi

for dir in fuzz/seeds/*/; do
    target=$(basename "$dir")
    mkdir -p "fuzz/corpus/$target"
    cp -p "$dir"* "fuzz/corpus/$target/"
    echo "$target: $(ls "fuzz/corpus/$target" | wc -l) files in fuzz/corpus/$target"
done
