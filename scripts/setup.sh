#!/usr/bin/env bash
# Installs everything hookbell needs, idempotently: the pinned Rust toolchain,
# cargo-leptos, wasm-bindgen-cli at the version in Cargo.lock, OpenSSL headers
# and pkg-config, make and a C compiler, and, with --test, the end2end npm packages, SecantusDB (a
# MongoDB wire-protocol server, for the MongoDB store's tests), schemathesis
# (the OpenAPI test), curl, openssl, Python and Node.js (the README's signing
# examples are run), Debian's chromium and a running Redis (started here when
# none answers on 127.0.0.1:6379); with --release, binaryen's wasm-opt. Each
# step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
want_release=false
for arg in "$@"; do
  case "$arg" in
    --test) want_test=true ;;
    --release) want_release=true ;;
    *) echo "usage: scripts/setup.sh [--test] [--release]" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.11
SECANTUSDB_VERSION=0.7.0b3
SCHEMATHESIS_VERSION=4.32.5
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  if [ ! -f /tmp/.hookbell-apt-updated ]; then
    $SUDO apt-get update -qq && touch /tmp/.hookbell-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

# 1. Rust toolchain (rust-toolchain.toml), with the wasm target, rustfmt and clippy.
if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup is required (https://rustup.rs); it is not on PATH" >&2
  exit 1
fi
if ! rustup toolchain list | grep -q "^${TOOLCHAIN}-"; then
  say "installing Rust ${TOOLCHAIN}"
fi
rustup toolchain install "$TOOLCHAIN" --profile minimal \
  --component rustfmt --component clippy --target wasm32-unknown-unknown >/dev/null 2>&1 ||
  rustup toolchain install "$TOOLCHAIN" --profile minimal \
    --component rustfmt --component clippy --target wasm32-unknown-unknown

# 2. cargo-leptos (slow to build: ~12 minutes; cached in ~/.cargo/bin).
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (takes a while, once)"
  cargo install cargo-leptos --locked --force --version "$CARGO_LEPTOS_VERSION"
fi

# 2b. OpenSSL headers and pkg-config: rust_socketio (the Socket.IO client of
# `server selftest` and the tests) links OpenSSL through native-tls.
if ! pkg-config --exists openssl 2>/dev/null; then
  say "installing pkg-config and libssl-dev (Debian packages)"
  apt_install pkg-config libssl-dev
fi

# 2c. A C compiler and make: tikv-jemalloc-sys builds jemalloc, the server binary's
# allocator, with its configure script and make (the bundled SQLite needs the compiler too).
if ! command -v make >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1; then
  say "installing make and gcc (Debian packages)"
  apt_install make gcc
fi

# 3. wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  say "installing wasm-bindgen-cli ${WBG_VERSION}"
  # --force: cargo's own record may say it is installed when the binary is gone.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --locked --force ||
    cargo install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

# 4. Release builds run wasm-opt (npm package binaryen, installed into .tools/).
if $want_release; then
  if ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
  if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
    say "installing binaryen (wasm-opt)"
    npm install --prefix .tools --no-audit --no-fund binaryen >/dev/null
  fi
fi

# 5. Browser tests: npm packages of end2end, and Debian's chromium.
if $want_test; then
  if ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
  if [ ! -d end2end/node_modules/@playwright/test ] ||
     [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing end2end npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  # SecantusDB: a MongoDB wire-protocol server (PyPI) for the MongoDB store's tests.
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  if [ ! -x .venv/bin/secantusd-py ]; then
    say "installing SecantusDB into .venv"
    python3 -m venv .venv 2>/dev/null || { apt_install python3-venv && python3 -m venv .venv; }
    .venv/bin/pip install --quiet --disable-pip-version-check --pre "secantusdb==${SECANTUSDB_VERSION}"
  fi
  # schemathesis (PyPI): tests the live server against its OpenAPI document.
  if [ "$(.venv/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
    say "installing schemathesis ${SCHEMATHESIS_VERSION} into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}"
  fi
  # curl and openssl run the README's shell signing example (sdk/signing-examples/).
  for tool in curl openssl; do
    command -v "$tool" >/dev/null 2>&1 || { say "installing $tool (Debian package)"; apt_install "$tool"; }
  done
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing chromium (Debian package)"
    apt_install chromium
  fi
  # redis-server: the readiness test starts (and stops) one of its own on a free port.
  command -v redis-server >/dev/null 2>&1 || { say "installing redis-server (Debian package)"; apt_install redis-server; }
  # Redis 7 (RESP3) on 127.0.0.1:6379 for the multi-node test: started when nothing answers there.
  if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    say "starting redis-server on 127.0.0.1:6379 (nothing kept on disk)"
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
  fi
fi
say "ready"
