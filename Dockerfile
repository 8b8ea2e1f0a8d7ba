# hookbell: the release server and its site (WASM, CSS) in a slim image.
# Not exercised by the test command (no Docker daemon on the CI machines).
#
#   docker build -t hookbell .
#   docker run -p 5000:5000 -e HOOKBELL_SECRET_KEY=$(openssl rand -base64 32) hookbell

# Build: the toolchain of rust-toolchain.toml, cargo-leptos, wasm-bindgen-cli and wasm-opt,
# installed by the project's own setup script, then one release build.
FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY rust-toolchain.toml Cargo.lock ./
COPY scripts/setup.sh scripts/
RUN scripts/setup.sh --release
COPY . .
# The server and the bundle, its chunks in a directory named after their content.
RUN scripts/build-bundle.sh

# Run: the server binary and the site, as a user of its own.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/hookbell --create-home hookbell
COPY --from=build /src/target/release/server /usr/local/bin/hookbell
COPY --from=build /src/target/site /srv/hookbell/site
ENV LEPTOS_SITE_ROOT=/srv/hookbell/site \
    LEPTOS_SITE_ADDR=0.0.0.0:5000 \
    LEPTOS_OUTPUT_NAME=hookbell \
    HOOKBELL_ENV=production \
    DATABASE_PATH=/var/lib/hookbell/hookbell.sqlite3
USER hookbell
WORKDIR /var/lib/hookbell
EXPOSE 5000
# SIGTERM drains (see the README's "Operating hookbell"); give it more than HOOKBELL_SHUTDOWN_GRACE_SECS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hookbell"]
