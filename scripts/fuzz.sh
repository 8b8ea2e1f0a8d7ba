#!/usr/bin/env bash
# Fuzzes the webhook pipeline (headers + body → outcome) for a bounded time.
# Not part of CI. Usage: scripts/fuzz.sh [seconds]   (default 120)
# Installs the nightly toolchain and cargo-fuzz when missing. Crashes land in
# fuzz/artifacts/webhook_pipeline/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-120}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/webhook_pipeline
cd fuzz
cargo +nightly fuzz run webhook_pipeline corpus/webhook_pipeline -- -max_total_time="$seconds" -rss_limit_mb=4096
