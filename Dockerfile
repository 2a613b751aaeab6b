# syntax=docker/dockerfile:1.7
#
# Images of Switchboard's binaries, one target each (docs/operations.md, "Container images"):
#
#   docker build --target api            -t switchboard-api .
#   docker build --target webhook-ingest -t switchboard-webhook-ingest .
#   docker build --target billing-cron   -t switchboard-billing-cron .
#   docker build --target migrations     -t switchboard-migrations .
#
# Without --target the last stage (api) is built. Needs BuildKit (the cache mounts below).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------- builder
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# Nothing to apt-get: TLS is rustls + ring (no OpenSSL), SQLite is compiled in (bundled), and the
# slim image already has the C compiler ring and SQLite need.
COPY . .
# The registry and target/ live in cache mounts, so a rebuild after a source change recompiles
# only the workspace crates; the binaries are copied out because a cache mount is not part of the
# image.
RUN --mount=type=cache,id=switchboard-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=switchboard-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=switchboard-target,target=/src/target,sharing=locked \
    cargo build --release --locked \
        -p switchboard-api -p switchboard-webhook-ingest -p switchboard-billing-cron \
        -p switchboard-migrations \
 && mkdir -p /out \
 && cp target/release/switchboard-api target/release/switchboard-webhook-ingest \
       target/release/switchboard-billing-cron target/release/switchboard-migrations /out/

# ---------------------------------------------------------------------------------- runtime
# The binaries need only glibc, libgcc_s and libm (`ldd`), all in debian:bookworm-slim, whose
# glibc is the builder's. ca-certificates: the SES client (aws-smithy-http-client) trusts the
# system's roots. Time zones are compiled in (chrono-tz), so no tzdata.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 switchboard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin switchboard \
 && mkdir -p /app/data \
 && chown switchboard:switchboard /app/data
WORKDIR /app
# config/production.toml sets providers.mode = "live", JSON logs and no demo seed; without the
# file a binary started with APP_ENV=production refuses to start (it names APP_CONFIG_DIR).
COPY config/ /app/config/
ENV APP_ENV=production \
    APP_CONFIG_DIR=/app/config
USER 10001:10001

FROM runtime AS migrations
COPY --from=builder /out/switchboard-migrations /usr/local/bin/
# DATABASE_URL (or --database-url) names the database; `up` is the deploy step.
ENTRYPOINT ["/usr/local/bin/switchboard-migrations"]
CMD ["up"]

FROM runtime AS billing-cron
COPY --from=builder /out/switchboard-billing-cron /usr/local/bin/
# One run, then exit (a scheduler starts it); pass `--loop 15m` to keep it running instead.
ENTRYPOINT ["/usr/local/bin/switchboard-billing-cron"]

FROM runtime AS webhook-ingest
COPY --from=builder /out/switchboard-webhook-ingest /usr/local/bin/
ENV APP__HTTP__ADDR=0.0.0.0:8081
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/switchboard-webhook-ingest"]

FROM runtime AS api
COPY --from=builder /out/switchboard-api /usr/local/bin/
# MALLOC_ARENA_MAX=2: glibc would otherwise keep freed memory in an arena per thread, and the
# API's RSS creeps up while its live heap stays flat (docs/operations.md, "Memory").
ENV APP__HTTP__ADDR=0.0.0.0:8080 \
    MALLOC_ARENA_MAX=2
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/switchboard-api"]
