#!/usr/bin/env bash
# API fuzzing from the served OpenAPI document. Builds the release binary, installs a pinned
# schemathesis into target/schemathesis-venv, and runs it twice against /openapi.json of
# `overens serve --demo` (the example log, its test registrar) on a free port, each time
# from a fresh temporary data directory:
#
#   1. open reads (the demo as it runs by default);
#   2. reads behind a bearer token (OVERENS_READ_TOKEN), sent with every request, so
#      `ignored_auth` checks that a request without it is refused.
#
# Every check but `positive_data_acceptance` (a schema-valid body is not a signed envelope,
# and `from` > `to` is schema-valid but not a range: refusing those is right). Phases:
# examples, coverage, fuzzing, and stateful (links inferred from the document). Exits
# non-zero on any failure or on any 5xx the server logs; each server is stopped with
# SIGTERM and its directory deleted either way.
#
#   tests/campaigns/schemathesis.sh [MAX_EXAMPLES]        (default 100 per operation)
#
# Environment: OVERENS_BIN (a binary to test instead of building target/release/overens),
# SCHEMATHESIS_SEED (default 1: reproducible), SCHEMATHESIS_PHASES (default
# examples,coverage,fuzzing,stateful). Reports: target/schemathesis-report/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

version=4.32.5
examples=${1:-100}
seed=${SCHEMATHESIS_SEED:-1}
phases=${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
venv=target/schemathesis-venv
report=target/schemathesis-report

bin=${OVERENS_BIN:-}
if [[ -z "$bin" ]]; then
    cargo build --release --quiet -p overens --bin overens
    bin=target/release/overens
fi

if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != *"$version"* ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work=$(mktemp -d)
server=
stop_server() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server"
        wait "$server" || true
    fi
    server=
}
trap 'stop_server; rm -rf "$work"' EXIT

# run_pass NAME [TOKEN]: one server, one schemathesis run; returns its failure status.
run_pass() {
    local name=$1 token=${2:-} dir="$work/$1" url= status=0
    mkdir -p "$dir"
    local env=(env -u OVERENS_READ_TOKEN)
    [[ -n "$token" ]] && env+=("OVERENS_READ_TOKEN=$token")
    "${env[@]}" "$bin" serve --demo --data "$dir/data" --listen 127.0.0.1:0 \
        > "$dir/stdout" 2> "$dir/server.log" &
    server=$!
    for _ in $(seq 300); do
        url=$(grep -o -m1 'listening on http://[^ ]*' "$dir/stdout" | cut -d' ' -f3 || true)
        [[ -n "$url" ]] && break
        kill -0 "$server" 2>/dev/null || { cat "$dir/server.log" >&2; return 2; }
        sleep 0.1
    done
    [[ -n "$url" ]] || { echo "the server did not start" >&2; return 2; }
    echo "== $name: schemathesis $version against $url/openapi.json," \
        "$examples examples per operation, seed $seed, phases $phases"
    local auth=()
    [[ -n "$token" ]] && auth=(--header "Authorization: Bearer $token")
    # From the run's own directory: schemathesis keeps its cache (.schemathesis/) in the
    # working directory, and a fresh one keeps runs reproducible from the seed alone.
    (cd "$dir" && "$root/$venv/bin/schemathesis" run "$url/openapi.json" \
        --url "$url" \
        "${auth[@]}" \
        --checks all --exclude-checks positive_data_acceptance \
        --phases "$phases" \
        --max-examples "$examples" \
        --seed "$seed" \
        --workers 1 \
        --request-timeout 10 \
        --report junit,ndjson --report-dir "$root/$report/$name") \
        || status=$?
    stop_server
    # A 5xx is also logged by the server: show them, whatever schemathesis said.
    if grep -q 'request failed' "$dir/server.log"; then
        echo "$name: server errors logged:" >&2
        grep 'request failed' "$dir/server.log" | head -20 >&2
        status=1
    fi
    return "$status"
}

failed=0
run_pass open || failed=1
run_pass token "schemathesis-token-$RANDOM$RANDOM" || failed=1
exit "$failed"
