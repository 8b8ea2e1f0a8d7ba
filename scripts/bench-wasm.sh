#!/usr/bin/env bash
# Size of what a browser downloads to run the dashboard: the release build of
# the WASM (wasm-opt'd, profile wasm-release, split into one lazily loaded
# chunk per page by `--split`), its JS glue and the CSS: raw, gzipped (-9),
# and as the server sends them to browsers that accept Brotli (the .br files
# `--precompress` writes). A first visit downloads the shared files plus the
# chunks its page needs (__wasm_split_manifest.json lists them); the tables
# are Markdown for BENCHMARKS.md. The "total" row is the heaviest first visit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --release
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
scripts/build-bundle.sh --frontend-only >/dev/null
python3 - target/site/pkg <<'PY'
import gzip, json, sys
from pathlib import Path

pkg = Path(sys.argv[1])
size = lambda p: p.stat().st_size
br = lambda p: size(p.with_name(p.name + ".br"))
gz = lambda p: len(gzip.compress(p.read_bytes(), 9))

shared = [pkg / "hookbell.wasm", pkg / "hookbell.js", pkg / "hookbell.css"]
shared += sorted(pkg.glob("__wasm_split.*.js"))
print("| shared file | bytes | gzip -9 bytes | served as .br |")
print("|---|---|---|---|")
for f in shared:
    print(f"| {f.name} | {size(f)} | {gz(f)} | {br(f)} |")
shared_gz, shared_br = sum(map(gz, shared)), sum(map(br, shared))
print(f"| shared, in all | | {shared_gz} | {shared_br} |")

# The manifest's keys are the split points: the lazy view of each route
# (app/src/pages/routes.rs), named after its type.
paths = {
    "dashboard": "/", "login": "/login", "notifications": "/notifications",
    "api_keys": "/settings/api-keys", "webhook_settings": "/settings/webhooks",
    "integrations": "/settings/integrations", "notification_settings": "/settings/notifications",
    "members": "/settings/members", "account": "/account", "invite": "/invite",
}
manifest = json.loads((pkg / "__wasm_split_manifest.json").read_text())
print()
print("| first visit to | chunks | chunks gzip -9 | chunks .br | total gzip -9 | total .br |")
print("|---|---|---|---|---|---|")
heaviest = None
for key, chunks in sorted(manifest.items()):
    name = key.strip("_").rsplit("_view_", 1)[0]
    files = [pkg / f"{c}.wasm" for c in chunks]
    c_gz, c_br = sum(map(gz, files)), sum(map(br, files))
    row = (shared_gz + c_gz, shared_br + c_br)
    print(f"| {paths.get(name, name)} | {len(files)} | {c_gz} | {c_br} | {row[0]} | {row[1]} |")
    if heaviest is None or row[1] > heaviest[2]:
        heaviest = (paths.get(name, name), *row)
print(f"| total (heaviest first visit: {heaviest[0]}) | | | | {heaviest[1]} | {heaviest[2]} |")
PY
