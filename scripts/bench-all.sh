#!/usr/bin/env bash
# Every benchmark of the performance issue in one go, then one summary table
# against its targets. Each benchmark's own output is kept in target/bench-all/
# (and printed as it runs). Settings are those of each script, plus
# HOOKBELL_BENCH_MONGO_REQUESTS (300: SecantusDB is a Python server; the figure there is the round trips per webhook).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-all
mkdir -p "$out"
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"

echo "== ingest, SQLite"
scripts/bench-ingest.sh | tee "$out/ingest-sqlite.txt"

echo "== ingest, MongoDB (SecantusDB)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/secantusd-py --port "$port" --storage-path :memory: >/dev/null 2>&1 &
db_pid=$!
trap 'kill $db_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
HOOKBELL_BENCH_MONGODB_URI="mongodb://127.0.0.1:$port/hookbell_bench" \
  HOOKBELL_BENCH_REQUESTS="${HOOKBELL_BENCH_MONGO_REQUESTS:-300}" \
  scripts/bench-ingest.sh | tee "$out/ingest-mongodb.txt"
kill $db_pid 2>/dev/null || true

echo "== fan-out and idle connections, hookbell and Node.js"
scripts/bench-fanout.sh | tee "$out/fanout.txt"

echo "== browser download"
scripts/bench-wasm.sh | tee "$out/wasm.txt"
scripts/bench-wasm-floor.sh | tee "$out/wasm-floor.txt"

echo
python3 scripts/bench_summary.py "$out"
