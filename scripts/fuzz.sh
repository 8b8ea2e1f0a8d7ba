#!/usr/bin/env bash
# Fuzzes for a bounded time or number of inputs. Not part of CI.
# Usage: scripts/fuzz.sh [seconds] [target]      (default 120 s, webhook_pipeline)
#        scripts/fuzz.sh --runs N [target]       (stop after N inputs)
# Targets:
#   webhook_pipeline   the whole pipeline (headers + body → outcome) on a real SQLite store (fuzz/)
#   signature_headers  the signature and header parsers alone, fast (fuzz/signature/)
# Installs the nightly toolchain and cargo-fuzz when missing. Crashes land in
# the target's fuzz directory under artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
limit=(-max_total_time="${1:-120}")
if [ "${1:-}" = "--runs" ]; then
  limit=(-runs="${2:?--runs takes a number}")
  shift 2
else
  shift $(( $# > 0 ? 1 : 0 ))
fi
target=${1:-webhook_pipeline}
case "$target" in
  webhook_pipeline) dir=fuzz ;;
  signature_headers) dir=fuzz/signature ;;
  *) echo "unknown target $target (webhook_pipeline or signature_headers)" >&2; exit 2 ;;
esac
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p "$dir/corpus/$target"
cargo +nightly fuzz run --fuzz-dir "$dir" "$target" "$dir/corpus/$target" -- "${limit[@]}" -rss_limit_mb=4096
