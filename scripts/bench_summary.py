"""Reads the outputs scripts/bench-all.sh kept and prints one Markdown table
of the performance issue's figures against their targets."""

import re
import sys
from pathlib import Path


def rows(text, first_cell):
    """Markdown table rows whose first cell starts with `first_cell`, as lists of cells."""
    found = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            found.append(cells)
    return found


def main(out):
    out = Path(out)
    read = lambda name: (out / name).read_text() if (out / name).exists() else ""
    table = []

    sqlite = read("ingest-sqlite.txt")
    health = rows(sqlite, "GET /api/webhooks/health")
    health_rps = float(health[0][3]) if health else None
    for cells in rows(sqlite, "POST /api/webhooks/orders"):
        rps, p99 = float(cells[3]), float(cells[6])
        scheme = "Standard Webhooks" if "Standard" in cells[0] else "X-Webhook-Signature"
        ratio = f"{rps / health_rps:.2f} × health ({health_rps:.0f}/s)" if health_rps else "?"
        table.append((f"ingest {scheme}: orders/s vs health", "≥ 0.5 × health", ratio,
                      health_rps and rps >= 0.5 * health_rps))
        table.append((f"ingest {scheme}: orders/s", "≥ 3 × 2,370 = 7,110", f"{rps:.0f}", rps >= 7110))
        table.append((f"ingest {scheme}: p99", "≤ 15 ms", f"{p99:.2f} ms", p99 <= 15))
    mongo = read("ingest-mongodb.txt")
    for line in mongo.splitlines():
        m = re.match(r"store operations per webhook, (.*): ([\d.]+) \((.*)\)", line)
        if m:
            table.append((f"MongoDB round trips per webhook ({m.group(1)})", "one per document written",
                          f"{m.group(2)}: {m.group(3)}", None))

    fanout = read("fanout.txt")
    p99_at_1000 = {}
    for block in fanout.split("fan-out: ")[1:]:
        who = "Node.js" if block.startswith("Node.js") else "hookbell"
        for cells in rows(block, ""):
            if not cells[0].isdigit():
                continue
            clients, rate, missed, p99 = cells[0], cells[1], cells[4], float(cells[6])
            if (clients, rate) == ("1000", "100"):
                p99_at_1000[who] = p99
            target = "≤ 15 ms, 0 missed, ahead of Node.js" if (clients, rate) == ("1000", "100") else "figure"
            ok = (p99 <= 15 and missed == "0") if target.startswith("≤") and who == "hookbell" else None
            table.append((f"fan-out {who} {clients} clients × {rate}/s: p99, missed", target,
                          f"{p99:.2f} ms, {missed}", ok))
        m = re.search(r"([\d.]+) KiB per connection", block)
        if m:
            kib = float(m.group(1))
            table.append((f"idle connection, {who}", "≤ 10 KiB", f"{kib:.2f} KiB",
                          kib <= 10 if who == "hookbell" else None))

    if len(p99_at_1000) == 2:
        ours, theirs = p99_at_1000["hookbell"], p99_at_1000["Node.js"]
        table.append(("fan-out 1000 × 100/s: hookbell p99 vs Node.js p99", "hookbell ahead",
                      f"{ours:.2f} ms vs {theirs:.2f} ms", ours < theirs))

    wasm = read("wasm.txt")
    total = rows(wasm, "total")
    if total:
        br = int(total[0][5])
        table.append(("browser download, heaviest first page (WASM + JS + CSS, Brotli)", "≤ 200 KB", f"{br / 1000:.1f} KB", br <= 200_000))

    floor = read("wasm-floor.txt")
    for cells in rows(floor, "hydrate"):
        way = "islands" if "islands" in cells[0] else "hydrated app"
        table.append((f"browser download floor, {way} (server/benches/wasm-floor)", "figure",
                      f"{int(cells[4]) / 1000:.1f} KB", None))

    print("| measure | target | figure | met |")
    print("|---|---|---|---|")
    for name, target, figure, ok in table:
        met = "" if ok is None else ("yes" if ok else "no")
        print(f"| {name} | {target} | {figure} | {met} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench-all")
