#!/usr/bin/env bash
# Fan-out benchmark: Socket.IO clients in one tenant room receiving notification
# webhooks at a steady rate, then memory per idle connection; prints a Markdown
# table per server (see BENCHMARKS.md). The benchmark's clients run pinned to
# core 0 and the server to core 1 (taskset), so that the figures are the
# server's; the same run goes to hookbell and to the minimal Node.js socket.io
# server of server/benches/node. Settings: HOOKBELL_BENCH_FANOUT
# (1000@100,10000@10), HOOKBELL_BENCH_SECONDS (10), HOOKBELL_BENCH_IDLE (10000),
# HOOKBELL_BENCH_TARGETS (hookbell,node).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# One socket per client, plus the server's: raise the open-files limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
targets="${HOOKBELL_BENCH_TARGETS:-hookbell,node}"
if [[ ",$targets," == *",node,"* ]]; then
  (cd server/benches/node && npm ci --no-audit --no-fund --silent)
fi
bin=$(cargo bench -p server --bench fanout --no-run 2>&1 | grep -o 'target/release/deps/fanout-[0-9a-f]*' | tail -1)
cores=$(nproc)
run() {
  if [ "$cores" -ge 2 ]; then
    HOOKBELL_BENCH_WRAPPER="taskset -c 1" taskset -c 0 "$bin" --bench
  else
    "$bin" --bench
  fi
}
for target in ${targets//,/ }; do
  # The runs, then memory per idle connection on a fresh server of its own.
  HOOKBELL_BENCH_TARGET="$target" HOOKBELL_BENCH_IDLE=0 run
  echo
  HOOKBELL_BENCH_TARGET="$target" HOOKBELL_BENCH_FANOUT="" run
  echo
done
