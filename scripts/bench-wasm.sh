#!/usr/bin/env bash
# Size of what a browser downloads to run the dashboard: the release build of
# the WASM (wasm-opt'd, profile wasm-release) and its JS glue, raw and gzipped
# (-9). Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo leptos build --release --frontend-only >/dev/null
pkg=target/site/pkg
echo "| file | bytes | gzip -9 bytes |"
echo "|---|---|---|"
total=0
for f in "$pkg/hookbell.wasm" "$pkg/hookbell.js" "$pkg/hookbell.css"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  echo "| $(basename "$f") | $raw | $gz |"
done
echo "| total (gzipped) | | $total |"
