"""One table of the benchmark suite's results (bench/out/*.json, written by the bench/*.sh
scripts): throughput, p50, p99, peak RSS and the ratio to the baseline measured in the same
run; written as summary.txt, summary.json and summary.svg (bars: throughput as a share of
the baseline; the growth curve: uncached tracking p50/p99 by database size)."""
import glob, json, os, platform, re, sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
started = sys.argv[2] if len(sys.argv) > 2 else ""
# The size of the database the parts after tracking ran on (bench/run.sh passes it).
seeded = int(sys.argv[3]) if len(sys.argv) > 3 else None


def load(name):
    path = os.path.join(out, f"{name}.json")
    return json.load(open(path)) if os.path.exists(path) else None


def row(what, svc, base, rss=None):
    ratio = svc.get("per_s") / base["per_s"] if svc.get("per_s") and base.get("per_s") else None
    return {"what": what, "per_s": svc.get("per_s"), "p50_ms": svc.get("p50_ms"),
            "p99_ms": svc.get("p99_ms"), "peak_rss_mb": rss if rss is not None else svc.get("peak_rss_mb"),
            "baseline": base["what"], "baseline_per_s": base.get("per_s"),
            "baseline_p50_ms": base.get("p50_ms"), "baseline_p99_ms": base.get("p99_ms"), "ratio": ratio}


rows = []
t = load("tracking")
if t:
    r = {x["what"]: x for x in t["rows"]}
    rss = t.get("serve_peak_rss_mb")
    bare = r.get("bare actix-web handler (baseline)")
    rb = r["redis-benchmark GET (baseline)"]
    n = t["deliveries"]
    if bare:
        rows.append(row(f"tracking, uncached, {n:,} deliveries", r["uncached (PostgreSQL)"], bare, rss))
    rows.append(row("tracking, cached in Redis", r["cached, Redis"], rb, rss))
    rows.append(row("tracking, cached in process", r["cached, in process"], rb, rss))
i = load("intake")
if i:
    rows.append(row("intake, POST /v1/deliveries", i["rows"][0], i["rows"][1]))
w = load("webhooks")
if w:
    rows.append(row("courier webhooks", w["rows"][0], w["rows"][1]))
d = load("dispatch")
if d:
    svc = dict(d["rows"][0])
    svc.update({k: d["rows"][1][k] for k in ("p50_ms", "p99_ms")})
    rows.append(row("dispatch, 2 workers (orders)", svc, d["rows"][2]))
nt = load("notify")
if nt:
    rows.append(row("notifications, 2 workers (SMS + email)", {"per_s": nt["per_s"], "peak_rss_mb": nt.get("peak_rss_mb")},
                    {"what": "SMS gateway simulator alone", "per_s": nt["simulator_per_s"]}))

growth = []
for path in sorted(glob.glob(os.path.join(out, "tracking-*.json")), key=lambda p: int(re.findall(r"\d+", p)[-1])):
    g = json.load(open(path))
    u = next(x for x in g["rows"] if x["what"].startswith("uncached"))
    growth.append({"deliveries": g["deliveries"], "per_s": u["per_s"], "p50_ms": u["p50_ms"], "p99_ms": u["p99_ms"]})

fmt = lambda v, f: format(v, f) if v is not None else "-"
machine = (f"{os.cpu_count()} cores, "
           f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, {platform.platform()}")
lines = [f"civicpost benchmark suite, {started}; machine: {machine}", "",
         f"{'what':42} {'per s':>8} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7}  {'baseline':34} {'per s':>8} {'ratio':>6}"]
for r in rows:
    lines.append(f"{r['what']:42} {fmt(r['per_s'], '8.0f'):>8} {fmt(r['p50_ms'], '7.2f'):>7} "
                 f"{fmt(r['p99_ms'], '7.2f'):>7} {fmt(r['peak_rss_mb'], '7.0f'):>7}  {r['baseline']:34} "
                 f"{fmt(r['baseline_per_s'], '8.0f'):>8} {fmt(r['ratio'], '6.2f'):>6}")
if seeded:
    lines += ["", f"intake, webhooks, dispatch and notifications ran on the tracking database of "
              f"{seeded:,} deliveries ({10 * seeded:,} events)"]
if growth:
    lines += ["", "growth: uncached tracking reads by database size (10 events per delivery)",
              f"{'deliveries':>12} {'per s':>8} {'p50 ms':>7} {'p99 ms':>7}"]
    lines += [f"{g['deliveries']:>12,} {g['per_s']:8.0f} {g['p50_ms']:7.2f} {g['p99_ms']:7.2f}" for g in growth]
fuzz = os.path.join(out, "fuzz.txt")
if os.path.exists(fuzz):
    lines += ["", "fuzzing (target, seconds, runs, corpus, outcome)"] + open(fuzz).read().splitlines()
text = "\n".join(lines)
print(text)
open(os.path.join(out, "summary.txt"), "w").write(text + "\n")
json.dump({"started": started, "machine": machine, "seeded_deliveries": seeded, "rows": rows, "growth": growth},
          open(os.path.join(out, "summary.json"), "w"), indent=2)

# The chart: one bar per measurement, its throughput as a share of its baseline; and the
# growth curve's p50 and p99 by size. Plain SVG, no library.
bars = [r for r in rows if r["ratio"] is not None]
width, bar_h, left = 760, 22, 300
height = 60 + len(bars) * (bar_h + 8) + (200 if growth else 0)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<text x="10" y="20" font-size="14">civicpost: throughput as a share of its baseline ({started[:10]}, {os.cpu_count()} cores)</text>']
top = 40
scale = max([1.0] + [r["ratio"] for r in bars])
for k, r in enumerate(bars):
    y = top + k * (bar_h + 8)
    w_px = (width - left - 80) * r["ratio"] / scale
    svg.append(f'<text x="10" y="{y + 15}">{r["what"]}</text>')
    svg.append(f'<rect x="{left}" y="{y}" width="{w_px:.1f}" height="{bar_h}" fill="#2b6cb0"/>')
    svg.append(f'<text x="{left + w_px + 6:.1f}" y="{y + 15}">{r["ratio"]:.2f}</text>')
if growth:
    gy = top + len(bars) * (bar_h + 8) + 30
    gh, gw = 140, width - left - 80
    peak = max(g["p99_ms"] for g in growth) or 1
    svg.append(f'<text x="10" y="{gy}">uncached tracking latency by deliveries (p50 solid, p99 dashed)</text>')
    for key, dash in (("p50_ms", ""), ("p99_ms", ' stroke-dasharray="5,4"')):
        pts = " ".join(f"{left + gw * k / max(1, len(growth) - 1):.1f},{gy + gh - gh * g[key] / peak:.1f}"
                       for k, g in enumerate(growth))
        svg.append(f'<polyline points="{pts}" fill="none" stroke="#c05621" stroke-width="2"{dash}/>')
    for k, g in enumerate(growth):
        x = left + gw * k / max(1, len(growth) - 1)
        svg.append(f'<text x="{x:.1f}" y="{gy + gh + 16}" text-anchor="middle">{g["deliveries"]:,}</text>')
        svg.append(f'<text x="{x:.1f}" y="{gy + gh - gh * g["p99_ms"] / peak - 6:.1f}" text-anchor="middle">{g["p99_ms"]:.1f} ms</text>')
svg.append("</svg>")
open(os.path.join(out, "summary.svg"), "w").write("\n".join(svg) + "\n")
print(f"\nwritten: {out}/summary.txt, summary.json, summary.svg")
