#!/usr/bin/env bash
# The browser bundle users get: `cargo leptos build --release --split
# --precompress` (one WASM chunk per page, .br and .gz copies), then the chunks
# moved into a directory named after their content (scripts/version-chunks.py:
# a tab opened before a deploy never links another build's chunk). Extra
# arguments go to cargo-leptos (`--frontend-only` for the bundle alone).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo leptos build --release --split --precompress "$@"
python3 scripts/version-chunks.py target/site/pkg
