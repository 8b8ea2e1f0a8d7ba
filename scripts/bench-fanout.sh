#!/usr/bin/env bash
# Fan-out benchmark: Socket.IO clients in one tenant room receiving notification
# webhooks at a steady rate, then memory per idle connection; prints a Markdown
# table (see BENCHMARKS.md). Settings: HOOKBELL_BENCH_FANOUT (1000@100,5000@20),
# HOOKBELL_BENCH_SECONDS (10), HOOKBELL_BENCH_IDLE (10000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# One socket per client, plus the server's: raise the open-files limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo bench -p server --bench fanout
