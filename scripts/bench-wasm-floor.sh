#!/usr/bin/env bash
# The floor under scripts/bench-wasm.sh: server/benches/wasm-floor (a bell fed
# by a WebSocket, one server function, one action) built as a hydrated app with
# a router and as one island, with the workspace's Cargo.lock, toolchain and
# `--cfg erase_components`, profile wasm-release, then wasm-bindgen and
# `wasm-opt -Oz` as cargo-leptos runs them. Prints a Markdown table (Brotli 11).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
root=$PWD
crate=server/benches/wasm-floor
export CARGO_TARGET_DIR=$root/target/wasm-floor
cp Cargo.lock "$crate/Cargo.lock"
trap 'rm -f "$root/$crate/Cargo.lock"' EXIT
echo "| build | WASM bytes | WASM .br | JS .br | total .br |"
echo "|---|---|---|---|---|"
for features in hydrate hydrate,islands; do
  (cd "$crate" && RUSTFLAGS="--cfg erase_components" cargo build --quiet --lib \
    --target wasm32-unknown-unknown --profile wasm-release --features "$features")
  out=$CARGO_TARGET_DIR/out-${features/,/-}
  rm -rf "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name floor \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/wasm_floor.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$out/floor_bg.wasm" -o "$out/floor_bg.wasm"
  node -e '
const fs = require("fs"), z = require("zlib");
const br = (f) => z.brotliCompressSync(fs.readFileSync(f), { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const [wasm, js, name] = process.argv.slice(1);
console.log(`| ${name} | ${fs.statSync(wasm).size} | ${br(wasm)} | ${br(js)} | ${br(wasm) + br(js)} |`);
' "$out/floor_bg.wasm" "$out/floor.js" "$features"
done
