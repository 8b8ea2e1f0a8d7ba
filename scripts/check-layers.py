#!/usr/bin/env python3
"""The layering rules test.sh checks (issue: one clear boundary per layer).

1. No two modules import each other: in every crate, module A importing
   (`crate::`, `super::`, `self::` paths) from module B while B imports from A
   is refused, for top-level modules and for their direct children.
2. The service layer names no HTTP type (`axum`, `HeaderMap`, `Parts`) in
   server/src/service/, and no service function takes untyped JSON
   (`Map<String, Value>`): the services take typed inputs.
3. No source file is over 600 lines.

Exits 1 naming each breach. Comments are ignored; `#[cfg(test)] mod tests`
blocks at the end of a file are not counted as imports.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CRATES = ["core/src", "app/src", "sdk/src", "server/src", "frontend/src"]
MAX_LINES = 600
failures = []


def modules(src_root):
    mods = {}
    for dirpath, _, files in os.walk(src_root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src_root)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            with open(path, encoding="utf-8") as fh:
                mods["::".join(rel)] = (path, fh.read())
    return mods


def resolve(mods, current, path):
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] == "super":
        base, segs = (current.split("::")[:-1] if current else []), segs[1:]
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        base, segs = (current.split("::") if current else []), segs[1:]
    else:
        return None
    for i in range(len(segs), -1, -1):
        candidate = "::".join(base + segs[:i])
        if candidate in mods:
            return candidate
    return None


def code_of(text):
    lines = [l for l in text.split("\n") if not l.strip().startswith("//")]
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", "\n".join(lines), flags=re.S)


def check_cycles(src_root):
    mods = modules(os.path.join(ROOT, src_root))
    edges = set()
    for name, (_, text) in mods.items():
        code = code_of(text)
        paths = re.findall(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", code)
        for prefix, group in re.findall(r"\b(crate|super)::\{([^}]*)\}", code):
            paths += [prefix + "::" + item.strip().split("::")[0] for item in group.split(",") if item.strip()]
        for p in paths:
            target = resolve(mods, name, p)
            if target is None or target == name:
                continue
            if target.startswith(name + "::") or name.startswith(target + "::") or target == "":
                continue
            edges.add((name, target))
    for depth in (1, 2):
        cut = lambda m: "::".join(m.split("::")[:depth])
        collapsed = {(cut(a), cut(b)) for a, b in edges if cut(a) != cut(b)}
        for a, b in sorted(collapsed):
            if (b, a) in collapsed and a < b:
                failures.append(f"{src_root}: modules {a} and {b} import each other")


def check_service_has_no_http():
    service = os.path.join(ROOT, "server/src/service")
    for dirpath, _, files in os.walk(service):
        for f in files:
            path = os.path.join(dirpath, f)
            with open(path, encoding="utf-8") as fh:
                code = code_of(fh.read())
            for word in ("axum", "HeaderMap", "request::Parts"):
                if word in code:
                    failures.append(f"{os.path.relpath(path, ROOT)}: the service layer names `{word}`")
            for params in re.findall(r"\bfn\s+\w+\s*(?:<[^>]*>)?\s*\(([^)]*)\)", code, flags=re.S):
                if re.search(r"Map<String,\s*Value>|\bParts\b|HeaderMap", params):
                    failures.append(f"{os.path.relpath(path, ROOT)}: a service function takes ({' '.join(params.split())})")


def check_file_sizes():
    for top in CRATES + ["server/tests", "server/benches", "end2end/tests"]:
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "node_modules"]  # (installed packages are not ours)
            for f in files:
                if f.endswith((".rs", ".ts", ".js")):
                    path = os.path.join(dirpath, f)
                    with open(path, encoding="utf-8") as fh:
                        n = sum(1 for _ in fh)
                    if n > MAX_LINES:
                        failures.append(f"{os.path.relpath(path, ROOT)}: {n} lines (at most {MAX_LINES})")


for crate in CRATES:
    if os.path.isdir(os.path.join(ROOT, crate)):
        check_cycles(crate)
check_service_has_no_http()
check_file_sizes()
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("layers: no mutual imports, no HTTP in the service layer, no file over 600 lines")
