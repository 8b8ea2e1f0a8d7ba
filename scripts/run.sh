#!/usr/bin/env bash
# Builds and starts hookbell on http://127.0.0.1:5000 on the embedded store.
# `scripts/run.sh --release` builds optimised (runs wasm-opt).
set -euo pipefail
cd "$(dirname "$0")/.."
release=()
setup_args=()
if [ "${1:-}" = "--release" ]; then release=(--release); setup_args=(--release); fi
scripts/setup.sh "${setup_args[@]}"
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
# --split: every page is a lazily loaded WASM chunk (app/src/pages/routes.rs).
exec cargo leptos serve --split "${release[@]}"
