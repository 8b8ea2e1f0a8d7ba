#!/usr/bin/env bash
# The whole test suite: formatting, lints (server and browser builds), Rust
# unit and integration tests, the release build of the browser bundle, then
# the Playwright tests in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cargo fmt"
cargo fmt --all -- --check

step "clippy (server side: app + server, ssr)"
cargo clippy --all-targets -- -D warnings

step "clippy (browser side: frontend + app, hydrate, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "Rust tests"
cargo test

step "cargo leptos build --release --frontend-only --precompress (the bundle users get, with its .br and .gz)"
cargo leptos build --release --frontend-only --precompress

step "cargo leptos build"
cargo leptos build

step "Playwright (end2end/)"
(cd end2end && npx playwright test)
