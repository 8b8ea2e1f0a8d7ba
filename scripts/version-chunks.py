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
    chunks = sorted(p for p in pkg.iterdir() if p.is_file() and CHUNK.fullmatch(p.name))
    if not manifest.exists() or not chunks:
        print(f"version-chunks: no fresh chunks in {pkg}; nothing to do")
        return 0
    digest = hashlib.sha256((pkg / "hookbell.wasm").read_bytes())
    for chunk in chunks:
        digest.update(chunk.name.encode())
        digest.update(chunk.read_bytes())
    version = digest.hexdigest()[:16]
    dest = pkg / version
    dest.mkdir(exist_ok=True)
    for chunk in chunks:
        for suffix in ("", ".br", ".gz"):
            source = chunk.with_name(chunk.name + suffix)
            if source.exists():
                source.replace(dest / source.name)

    names = {c.name for c in chunks}
    for loader in pkg.glob("__wasm_split.*.js"):
        text = loader.read_text()

        def versioned(m: re.Match) -> str:
            if m.group(1) not in names:
                raise SystemExit(f"version-chunks: {loader.name} fetches {m.group(1)}, which this build did not make")
            return f'new URL("./{version}/{m.group(1)}"'

        text, count = re.subn(r'new URL\("\./((?:chunk_\d+|split_[A-Za-z0-9_]+)\.wasm)"', versioned, text)
        if count != len(chunks):
            raise SystemExit(f"version-chunks: {loader.name} fetches {count} chunks, the build made {len(chunks)}")
        loader.write_text(text)
        recompress(loader)

    entries = json.loads(manifest.read_text())
    entries = {split: [f"{version}/{chunk}" for chunk in deps] for split, deps in entries.items()}
    manifest.write_text(json.dumps(entries, indent=2))
    recompress(manifest)
    print(f"version-chunks: {len(chunks)} chunks in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "target/site/pkg")))
