#!/usr/bin/env bash
# Every benchmark of docs/perf, on both engines, in one run (issue 9): builds everything first, so
# no compiler shares the cores with a measurement, then runs the benchmarks one after another and
# keeps their output, headed by the machine, commit and load, in target/bench-all/<UTC time>.log.
#
#   scripts/bench-all.sh            (just bench-all)      about 45 minutes, 22 of them the soak
#   SOAK_SECONDS=120 scripts/bench-all.sh                 a shorter soak
#
# PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) for the
# in-process benches, SB_PG_URL (default its server) for the multi-process ones.
set -euo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export SB_PG_URL="${SB_PG_URL:-${TEST_DATABASE_URL%/*}}"
export SOAK_SECONDS="${SOAK_SECONDS:-600}"
mkdir -p target/bench-all
log="target/bench-all/$(date -u +%Y%m%dT%H%M%SZ).log"

step() { printf '\n### %s — %s\n\n' "$1" "$(date -u +%H:%M:%S)" | tee -a "$log"; }

echo "building the release binaries and every benchmark first…" >&2
cargo build --release -p switchboard-api -p switchboard-webhook-ingest -p switchboard-billing-cron
# Each with the command line that runs it: cargo resolves features per selection, so one
# workspace-wide build would leave these to compile again later.
for target in switchboard-forwarding:hours switchboard-api:list_numbers switchboard-numbers:rentals \
    switchboard-billing:admission switchboard-webhook-ingest:ingest switchboard-webhook-ingest:stages \
    switchboard-webhook-ingest:scale_out \
    switchboard-webhook-ingest:soak; do
    cargo bench -p "${target%%:*}" --bench "${target#*:}" --no-run
done

{
    echo "# Every benchmark, one run"
    echo
    echo "- started: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr)"
    echo "- $(rustc --version), $(psql "$TEST_DATABASE_URL" -Atc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /' || echo 'PostgreSQL unreachable')"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$log"

step "opening hours (criterion)"
cargo bench -p switchboard-forwarding --bench hours -- --noplot 2>&1 | tee -a "$log"
step "GET /v1/numbers at 500 req/s"
cargo bench -p switchboard-api --bench list_numbers 2>&1 | tee -a "$log"
step "rentals, 100,000 numbers"
cargo bench -p switchboard-numbers --bench rentals 2>&1 | tee -a "$log"
step "rentals, 1,000,000 numbers"
BENCH_NUMBERS=1000000 cargo bench -p switchboard-numbers --bench rentals 2>&1 | tee -a "$log"
step "SMS admission on one hot number"
cargo bench -p switchboard-billing --bench admission 2>&1 | tee -a "$log"
step "webhook-ingest vs bare axum"
BENCH_APP__DATABASE__MAX_CONNECTIONS=24 cargo bench -p switchboard-webhook-ingest --bench ingest 2>&1 | tee -a "$log"
step "webhook-ingest's database stages alone"
cargo bench -p switchboard-webhook-ingest --bench stages 2>&1 | tee -a "$log"
step "scale-out"
cargo bench -p switchboard-webhook-ingest --bench scale_out 2>&1 | tee -a "$log"
step "soak, ${SOAK_SECONDS} s per engine"
cargo bench -p switchboard-webhook-ingest --bench soak 2>&1 | tee -a "$log"

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
echo "figures in $log" >&2
