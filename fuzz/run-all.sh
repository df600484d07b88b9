#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after the other (libFuzzer's
# -max_total_time), at the lowest CPU priority, and prints one line per target: runs,
# executions per second, corpus size and crashes. Exits non-zero if any target crashed
# (its input is in fuzz/artifacts/<target>/; reproduce with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`).
#
#   fuzz/run-all.sh SECONDS [TARGET…]      (default: every target; needs cargo-fuzz and nightly)
#
# FUZZ_SANITIZER (default none): the code is safe Rust (unsafe is forbidden) and the C of
# SQLite is not instrumented anyway, so AddressSanitizer would mostly halve the speed; set
# FUZZ_SANITIZER=address to use it. Overflow checks and debug assertions are always on.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: fuzz/run-all.sh SECONDS [TARGET...]}
sanitizer=${FUZZ_SANITIZER:-none}
shift
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Build everything first, so the timed runs fuzz rather than compile.
nice -n 19 cargo +nightly fuzz build --sanitizer "$sanitizer" || exit 2
fuzz/seed.sh > /dev/null

mkdir -p fuzz/logs fuzz/tmp
summary=()
failed=0
for target in "${targets[@]}"; do
    log="fuzz/logs/$target.log"
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    before=$(ls "fuzz/artifacts/$target" | wc -l)
    started=$(date +%s)
    # The write target keeps a temporary data directory per process: under fuzz/tmp,
    # cleaned below.
    TMPDIR="$PWD/fuzz/tmp" nice -n 19 cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" \
        "fuzz/corpus/$target" -- -max_total_time="$seconds" -print_final_stats=1 \
        > "$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - started ))
    rm -rf fuzz/tmp/overens-fuzz-write-*
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "fuzz/corpus/$target" | wc -l)
    crashes=$(( $(ls "fuzz/artifacts/$target" | wc -l) - before ))
    if [[ $status -ne 0 || $crashes -gt 0 ]]; then
        failed=1
        crashes="$crashes (exit $status, see $log)"
    fi
    summary+=("$(printf '%-9s %6ss %12s %10s %8s  %s' "$target" "$elapsed" "${runs:-?}" "${speed:-?}" "$corpus" "$crashes")")
done

printf '%-9s %7s %12s %10s %8s  %s\n' target time runs exec/s corpus crashes
printf '%s\n' "${summary[@]}"
exit $failed
