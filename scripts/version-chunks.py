#!/usr/bin/env python3
"""Gives the lazily loaded WASM chunks of one `cargo leptos build --split` a
directory of their own, named after their content: target/site/pkg/<version>/.

cargo-leptos names the chunks chunk_<n>.wasm and split_<route>.wasm whatever
the build, and the loader (__wasm_split.*.js) fetches them next to itself. A tab
opened before a deploy keeps the old main WASM in memory; navigating to a page
it has not loaded yet, it would fetch the new build's chunk of the same name
and link it against the old code. Here the loader fetches ./<version>/<chunk>,
and the manifest the server reads for its preload links names the same paths,
so an old tab asks for its own build's chunks: served while the old directory
is kept, else a 404 the loader reports, never another build's code.

Run after the build (scripts/build-bundle.sh does); the .br and .gz copies of
the files it changes are written again. Usage: version-chunks.py [pkg dir]."""

import gzip
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

CHUNK = re.compile(r"(chunk_\d+|split_[A-Za-z0-9_]+)\.wasm")


def recompress(path: Path) -> None:
    """The .gz and .br copies cargo-leptos's --precompress would have written."""
    data = path.read_bytes()
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 9))
    brotli = (
        "const z=require('zlib'),fs=require('fs');"
        "fs.writeFileSync(process.argv[2],z.brotliCompressSync(fs.readFileSync(process.argv[1]),"
        "{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}))"
    )
    subprocess.run(["node", "-e", brotli, str(path), str(path) + ".br"], check=True)


def main(pkg: Path) -> int:
    manifest = pkg / "__wasm_split_manifest.json"
    loaders = sorted(pkg.glob("__wasm_split.*.js"))
    fetches = re.compile(r'new URL\("\./(' + CHUNK.pattern + r')"')
    # The chunks of this build: those its loader fetches from beside itself (a
    # loader already versioned fetches none; files of an earlier build that
    # this one did not write again are left where they are).
    names = sorted({m.group(1) for loader in loaders for m in fetches.finditer(loader.read_text())})
    if not manifest.exists() or not names:
        print(f"version-chunks: no unversioned chunks in {pkg}; nothing to do")
        return 0
    missing = [name for name in names if not (pkg / name).is_file()]
    if missing:
        raise SystemExit(f"version-chunks: the loader fetches {', '.join(missing)}, which {pkg} does not have")
    digest = hashlib.sha256((pkg / "hookbell.wasm").read_bytes())
    for name in names:
        digest.update(name.encode())
        digest.update((pkg / name).read_bytes())
    version = digest.hexdigest()[:16]
    dest = pkg / version
    dest.mkdir(exist_ok=True)
    for name in names:
        for suffix in ("", ".br", ".gz"):
            source = pkg / (name + suffix)
            if source.exists():
                source.replace(dest / source.name)

    for loader in loaders:
        text = fetches.sub(lambda m: f'new URL("./{version}/{m.group(1)}"', loader.read_text())
        loader.write_text(text)
        recompress(loader)

    entries = json.loads(manifest.read_text())
    entries = {split: [f"{version}/{chunk}" for chunk in deps] for split, deps in entries.items()}
    manifest.write_text(json.dumps(entries, indent=2))
    recompress(manifest)
    print(f"version-chunks: {len(names)} chunks in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "target/site/pkg")))
