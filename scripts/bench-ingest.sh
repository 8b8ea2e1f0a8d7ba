#!/usr/bin/env bash
# Ingest benchmark: signed order webhooks against the release `server` binary
# over loopback, beside GET /api/webhooks/health; prints a Markdown table (see BENCHMARKS.md).
# Settings: HOOKBELL_BENCH_REQUESTS (50000), HOOKBELL_BENCH_CONNECTIONS (64),
# HOOKBELL_BENCH_SCHEMES (hex,standard).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo bench -p server --bench ingest
