#!/usr/bin/env bash
# The whole test suite: formatting, the layering check, lints (server and browser builds), Rust
# unit and integration tests, the release build of the browser bundle, then
# the Playwright tests in Debian's chromium against the server binary that
# `cargo test` built and that release bundle (what users download).
#
# Every build here uses the flags of .cargo/config.toml, so the server side's
# dependencies are compiled once for clippy's check and once for the tests,
# and the browser side's once for clippy and once for the release bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cargo fmt"
cargo fmt --all -- --check

step "layers (no mutual imports, no HTTP in the service layer, no file over 600 lines)"
python3 scripts/check-layers.py

step "clippy (server side: app + server, ssr)"
cargo clippy --all-targets -- -D warnings

step "clippy (browser side: frontend + app, hydrate, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "Rust tests (also builds target/debug/server for Playwright)"
cargo test

step "scripts/build-bundle.sh --frontend-only (the bundle users get: one WASM chunk per page in a versioned directory, with .br and .gz)"
scripts/build-bundle.sh --frontend-only

step "Playwright (end2end/)"
(cd end2end && npx playwright test)
