#!/usr/bin/env bash
# Store hot-path benchmark on both stores; prints a Markdown table (see BENCHMARKS.md).
# Starts SecantusDB (installed by setup.sh --test) on a free port for the MongoDB figures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/secantusd-py --port "$port" --storage-path :memory: >/dev/null 2>&1 &
db_pid=$!
trap 'kill $db_pid 2>/dev/null' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
HOOKBELL_BENCH_MONGODB_URI="mongodb://127.0.0.1:$port/hookbell_bench" cargo bench -p server --bench store
