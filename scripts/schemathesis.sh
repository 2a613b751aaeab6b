#!/usr/bin/env bash
# Generated requests against every operation of the OpenAPI document (schemathesis), on a
# throwaway switchboard-api: zero 5xx and every response as documented, or a non-zero exit.
#
#   scripts/schemathesis.sh [sqlite|postgres|both]
#
# Default engine: `both` when TEST_DATABASE_URL is set (postgres://…; a fresh database is created
# on that server and dropped afterwards), else `sqlite`. Knobs: ST_EXAMPLES (examples per operation
# and phase, default 50), ST_SEED (default 1), ST_PHASES (default every phase), ST_ARGS (extra
# `st run` arguments). Schemathesis comes from PATH, else it is installed into a venv under the
# target directory. Reports (JUnit, and the failures as pytest) land in $target/schemathesis-<engine>/.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
EXAMPLES=${ST_EXAMPLES:-50}
SEED=${ST_SEED:-1}
PHASES=${ST_PHASES:-examples,coverage,fuzzing,stateful}
TARGET=${CARGO_TARGET_DIR:-target}
engine=${1:-$([[ -n ${TEST_DATABASE_URL:-} ]] && echo both || echo sqlite)}
case $engine in sqlite | postgres | both) ;; *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;; esac

if command -v st >/dev/null && st --version | grep -q "$ST_VERSION"; then
    ST=st
else
    venv=$TARGET/schemathesis-venv
    if [[ ! -x $venv/bin/st ]] || ! "$venv/bin/st" --version | grep -q "$ST_VERSION"; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "schemathesis==$ST_VERSION"
    fi
    ST=$venv/bin/st
fi

cargo build -q -p switchboard-api
BIN=$TARGET/debug/switchboard-api

server_pid=
pg_admin=
pg_db=
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    server_pid=
    if [[ -n $pg_db ]]; then psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true; fi
    pg_db=
}
trap cleanup EXIT

# One `st run` against the server on port $1 with the configuration $2, reports into $3, further
# arguments appended.
st_run() {
    local port=$1 config=$2 reports=$3
    shift 3
    mkdir -p "$reports"
    # From the report folder: schemathesis keeps a `.schemathesis/` cache in the working directory.
    # positive_data_acceptance is left out: the schema cannot say every rule a valid request meets
    # (names not blank, E.164 numbers, ids of existing resources, opaque cursors), so a 422 there
    # is right. Every other check runs.
    # shellcheck disable=SC2086
    (cd "$reports" && "$ST" --config-file "$config" run "http://127.0.0.1:$port/openapi.json" \
        --checks all --exclude-checks positive_data_acceptance --phases "$PHASES" \
        --max-examples "$EXAMPLES" --seed "$SEED" --generation-database none --workers 1 \
        --report junit,pytest --report-dir . "$@" ${ST_ARGS:-})
}

# Runs schemathesis against a fresh server on the database URL $2; engine name in $1.
run_one() {
    local name=$1 url=$2
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$TARGET"
    local out
    out=$(cd "$TARGET" && pwd)/schemathesis-$name
    rm -rf "$out" && mkdir -p "$out"
    export APP__DATABASE__URL=$url APP__HTTP__ADDR=127.0.0.1:$port APP__DEMO__SEED=false \
        APP__PROVIDERS__MODE=sandbox APP__LOG__FILTER=info,sqlx=warn,sea_orm=warn APP__LOG__FORMAT=json
    SB_ADMIN_TOKEN=st-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    export SB_ADMIN_TOKEN APP__AUTH__ADMIN_TOKEN=$SB_ADMIN_TOKEN
    SB_API_KEY=$("$BIN" seed | sed -n 's/.*Owner API key (shown once, store it now): \(sk_[^ ]*\).*/\1/p')
    [[ -n $SB_API_KEY ]] || { echo "seeding printed no owner key" >&2; return 1; }
    export SB_API_KEY
    "$BIN" >"$out/server.log" 2>&1 &
    server_pid=$!
    local tries=0
    until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
        tries=$((tries + 1))
        if ((tries > 150)) || ! kill -0 "$server_pid" 2>/dev/null; then
            echo "switchboard-api did not become ready; see $out/server.log" >&2
            return 1
        fi
        sleep 0.2
    done
    # The committed configuration plus the ids of one resource of each kind, made now.
    local fixtures
    fixtures=$(python3 scripts/schemathesis_fixtures.py "http://127.0.0.1:$port") || return 1
    { cat scripts/schemathesis.toml; echo "$fixtures"; } >"$out/schemathesis.toml"
    echo "== schemathesis $ST_VERSION on $name (seed $SEED, $EXAMPLES examples per operation and phase)"
    local rc=0 revoke='DELETE /v1/api-keys/{id}'
    # Revoking keys comes last and alone: schemathesis learns key ids from the responses and would
    # otherwise revoke the very key it authenticates with, leaving every later request a 401.
    st_run "$port" "$out/schemathesis.toml" "$out/main" --exclude-name "$revoke" || rc=$?
    st_run "$port" "$out/schemathesis.toml" "$out/revoke" --include-name "$revoke" || rc=$?
    if grep -q '"level":"ERROR"' "$out/server.log"; then
        echo "the server logged errors (5xx causes); see $out/server.log" >&2
        rc=1
    fi
    return "$rc"
}

status=0
if [[ $engine == sqlite || $engine == both ]]; then
    dir=$(mktemp -d)
    run_one sqlite "sqlite://$dir/st.db?mode=rwc" || status=1
    cleanup
    rm -rf "$dir"
fi
if [[ $engine == postgres || $engine == both ]]; then
    base=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
    base=${base%%\?*}
    pg_admin=${base%/*}/postgres
    pg_db=sb_st_$$
    psql -q "$pg_admin" -c "CREATE DATABASE $pg_db"
    run_one postgres "${base%/*}/$pg_db" || status=1
    cleanup
fi
exit $status
