# Switchboard — common tasks. `just --list` shows them all.

set shell := ["bash", "-cu"]

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

# Start the API on 127.0.0.1:8080 (embedded default: SQLite under ./data, sandbox providers).
run:
    cargo run -p switchboard-api

# All three binaries against one database; Ctrl-C stops them all.
dev:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -p switchboard-api -p switchboard-webhook-ingest -p switchboard-billing-cron
    trap 'kill 0' EXIT
    ./target/debug/switchboard-api &
    until curl -sf http://127.0.0.1:8080/readyz >/dev/null; do sleep 0.2; done
    ./target/debug/switchboard-webhook-ingest &
    ./target/debug/switchboard-billing-cron --loop 1m &
    wait

# Every test on SQLite.
test:
    cargo test --workspace

# Every test on SQLite and PostgreSQL (TEST_DATABASE_URL, default the local server).
test-pg:
    TEST_DATABASE_URL={{pg_url}} cargo test --workspace

# Apply migrations (DATABASE_URL, default the embedded SQLite file); `just migrate status`, `reset`, …
migrate *args="up":
    cargo run -p switchboard-migrations -- {{args}}

# Create a new demo workspace from fixtures/demo.toml and print its owner key.
seed:
    cargo run -p switchboard-api -- seed

# Every benchmark; figures are recorded in docs/perf/ (PostgreSQL too when TEST_DATABASE_URL is set).
bench:
    cargo bench --workspace

# Every benchmark on both engines in one run, built first, into target/bench-all/ (~40 min).
bench-all:
    scripts/bench-all.sh

# Opening-hours evaluation throughput (criterion).
bench-hours:
    cargo bench -p switchboard-forwarding --bench hours

# GET /v1/numbers latency under open-loop load (BENCH_RATE, BENCH_SECONDS, BENCH_NUMBERS).
bench-numbers:
    cargo bench -p switchboard-api --bench list_numbers

# billing-cron's rental renewal of 100,000 due numbers (BENCH_NUMBERS=1000000 for the million).
bench-rentals:
    cargo bench -p switchboard-numbers --bench rentals

# SMS admission decisions per second on one hot number from 64 tasks.
bench-admission:
    cargo bench -p switchboard-billing --bench admission

# Signed inbound-SMS throughput of the real webhook-ingest binary vs a bare axum handler.
bench-ingest:
    cargo bench -p switchboard-webhook-ingest --bench ingest

# The ingest path's database stages alone (store; process), in process, no HTTP: its ceiling.
bench-stages:
    cargo bench -p switchboard-webhook-ingest --bench stages

# Schemathesis against every API operation on a throwaway server: no 5xx, every answer as documented
# (`sqlite`, `postgres` or `both`; default both when TEST_DATABASE_URL is set). Not part of CI.
fuzz-api engine="":
    scripts/schemathesis.sh {{engine}}

# Formatting and lints as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Write the OpenAPI document to docs/openapi.json.
openapi:
    cargo run -q -p switchboard-api -- openapi > docs/openapi.json

# What CI runs.
ci:
    bash .ci/run

# Fuzz one parser of hostile input for SECONDS (`cargo install cargo-fuzz` and a nightly toolchain;
# targets and properties in docs/fuzzing.md). Crashes land in fuzz/artifacts/TARGET/.
fuzz TARGET SECONDS="60":
    #!/usr/bin/env bash
    set -euo pipefail
    cd fuzz
    dict=()
    if [ -e dicts/{{TARGET}}.dict ]; then dict=(-dict=dicts/{{TARGET}}.dict); fi
    CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" cargo +nightly fuzz run --sanitizer none {{TARGET}} corpus/{{TARGET}} -- \
        -max_total_time={{SECONDS}} -timeout=10 -print_final_stats=1 "${dict[@]}"

# Every fuzz target in turn, SECONDS each.
fuzz-all SECONDS="60":
    #!/usr/bin/env bash
    set -euo pipefail
    for target in $(cd fuzz && cargo +nightly fuzz list); do just fuzz "$target" {{SECONDS}}; done

# Scale-out proof: 2 webhook-ingest + 2 api processes and 2 concurrent billing-cron runs on one fresh
# PostgreSQL database `sb_scale` (server SB_PG_URL, default the local one); fails if an invariant breaks.
scale-out:
    cargo build --release -p switchboard-api -p switchboard-webhook-ingest -p switchboard-billing-cron
    cargo bench -p switchboard-webhook-ingest --bench scale_out

# Soak: api + webhook-ingest + billing-cron --loop under a steady mixed load on SQLite and PostgreSQL,
# RSS and latency every 10 s; fails on any error or RSS growth > 20 % after warm-up (SOAK_SECONDS=600).
soak:
    cargo build --release -p switchboard-api -p switchboard-webhook-ingest -p switchboard-billing-cron
    SOAK_SECONDS="${SOAK_SECONDS:-600}" cargo bench -p switchboard-webhook-ingest --bench soak
