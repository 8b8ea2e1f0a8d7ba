#!/usr/bin/env bash
# Size of what a browser downloads to run the dashboard: the release build of
# the WASM (wasm-opt'd, profile wasm-release) and its JS glue, raw, gzipped
# (-9), and as the server sends it to browsers that accept Brotli (the .br file
# `--precompress` writes). Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
cargo leptos build --release --frontend-only --precompress >/dev/null
pkg=target/site/pkg
echo "| file | bytes | gzip -9 bytes | served as .br |"
echo "|---|---|---|---|"
total=0
total_br=0
for f in "$pkg/hookbell.wasm" "$pkg/hookbell.js" "$pkg/hookbell.css"; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  br=$(stat -c %s "$f.br")
  total=$((total + gz))
  total_br=$((total_br + br))
  echo "| $(basename "$f") | $raw | $gz | $br |"
done
echo "| total | | $total | $total_br |"
