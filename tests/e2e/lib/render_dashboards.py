#!/usr/bin/env python3
"""Render the dashboards' panels to PNG from the query results of an e2e run.

    render_dashboards.py RESULTS.json OUT_DIR [--chromium /usr/bin/chromium]

RESULTS.json is what dashboard_queries.py wrote.  For each dashboard this writes
OUT_DIR/<uid>.html, a self-contained page that lays the panels out on Grafana's 24-column grid
(gridPos) in a dark theme, with inline SVG: stat panels show the last value coloured by the
panel's thresholds, time series panels draw the range query (threshold series dashed), bar
gauges and tables show the instant result, state timelines draw one row per series coloured by
the panel's value mappings.  Then headless Chromium (Debian's `chromium`)
screenshots it to OUT_DIR/<uid>.png.  It is a preview of what the NOC wall would show, not a
Grafana re-implementation.  Exit status 1 if Chromium is missing or a PNG is not written.
Python 3 standard library only.
"""

import argparse
import datetime
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

WIDTH = 1600
ROW_H = 34  # pixels per gridPos height unit
HEADER_H = 70
PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#37872d", "#fade2a",
           "#8ab8ff", "#f2495c", "#96d98d", "#ffb357", "#ca95e5"]
NAMED = {"green": "#73bf69", "red": "#f2495c", "orange": "#ff9830", "yellow": "#fade2a",
         "blue": "#5794f2", "purple": "#b877d9", "text": "#ccccdc"}
LEGEND_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def esc(s):
    return html.escape(str(s), quote=True)


def color(name):
    return NAMED.get(name, name or "#73bf69")


def fmt(value, unit=None):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "NaN"
    if unit == "s":
        a = abs(v)
        for div, suffix in ((86400, " day"), (3600, " hour"), (60, " min")):
            if a >= div:
                return f"{v / div:.1f}{suffix}"
        if 0 < a < 1e-3:
            return f"{v * 1e6:.0f} µs"
        if 0 < a < 1:
            return f"{v * 1e3:.0f} ms"
        return f"{v:.1f} s" if a < 10 and v != int(v) else f"{v:.0f} s"
    if unit in ("bytes", "Bps"):
        suffix = "/s" if unit == "Bps" else ""
        for div, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(v) >= div:
                return f"{v / div:.1f} {name}{suffix}"
        return f"{v:.0f} B{suffix}"
    if unit == "percentunit":
        return f"{v * 100:.1f}%"
    if v == int(v) and abs(v) < 1e12:
        return f"{int(v)}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def nice_step(raw):
    """1, 2, 2.5 or 5 times a power of ten, >= raw (axis tick spacing)."""
    if raw <= 0 or math.isnan(raw):
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * base >= raw * 0.999:
            return m * base
    return 10 * base


def threshold_color(steps, value):
    c = "#73bf69"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return c
    for s in steps or []:
        if s.get("value") is None or v >= float(s["value"]):
            c = color(s.get("color"))
    return c


def legend(target, metric):
    lf = target.get("legendFormat") or ""
    if lf and lf != "__auto":
        return LEGEND_RE.sub(lambda m: metric.get(m.group(1), ""), lf).strip() or target.get("refId", "")
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    if not labels:
        return metric.get("__name__", target.get("refId", ""))
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def is_threshold(target):
    return target.get("refId") == "T" or ":threshold:" in (target.get("expr") or "")


def render_stat(panel, w, h):
    t = panel["targets"][0] if panel["targets"] else {}
    res = t.get("instant") or []
    if not res:
        return '<div class="nodata">No data</div>'
    value = res[0]["value"][1]
    bg = threshold_color(panel.get("thresholds"), value)
    size = max(18, min(int(h * 0.45), int(w / max(3, len(fmt(value, panel.get("unit")))) * 1.3)))
    return (f'<div class="stat" style="background:{bg}"><span style="font-size:{size}px">'
            f'{esc(fmt(value, panel.get("unit")))}</span></div>')


def render_timeseries(panel, w, h, rng):
    series = []
    for t in panel["targets"]:
        for r in t.get("range") or []:
            pts = [(float(ts), float(v)) for ts, v in r["values"] if v not in ("NaN", "+Inf", "-Inf")]
            if pts:
                series.append((legend(t, r["metric"]), pts, is_threshold(t)))
    if not series:
        return '<div class="nodata">No data</div>'
    unit = panel.get("unit")
    legend_rows = min(len(series), max(1, int((h * 0.4 - 22) // 15)))
    lh = 15 * (legend_rows + 1 + (len(series) > legend_rows)) + 8
    ch = max(40, h - lh)  # chart height
    left, right, top, bottom = 58, 8, 6, 18
    pw, ph = w - left - right, ch - top - bottom
    t0, t1 = rng["start"], rng["end"]
    vals = [v for _, pts, _ in series for _, v in pts]
    vmin = min(0.0, min(vals))
    tick = nice_step((max(vals) - vmin) / 4)
    vmax = vmin + tick * max(1, math.ceil((max(vals) - vmin) / tick - 1e-9))
    if vmax <= max(vals):
        vmax += tick

    def x(ts):
        return left + (ts - t0) / max(1e-9, t1 - t0) * pw

    def y(v):
        return top + ph - (v - vmin) / (vmax - vmin) * ph

    out = [f'<svg width="{w}" height="{ch}" xmlns="http://www.w3.org/2000/svg">']
    v = vmin
    while v <= vmax + tick / 2:  # horizontal grid + labels
        yy = y(v)
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{yy:.1f}" y2="{yy:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 4}" y="{yy + 4:.1f}" class="axis" text-anchor="end">{esc(fmt(v, unit))}</text>')
        v += tick
    for i in range(5):  # time labels
        ts = t0 + (t1 - t0) * i / 4
        label = datetime.datetime.fromtimestamp(ts).strftime("%H:%M:%S")
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(f'<text x="{x(ts):.1f}" y="{ch - 4}" class="axis" text-anchor="{anchor}">{label}</text>')
    ci = 0
    rows = []
    for name, pts, thr in series:
        if thr:
            c, dash, sw = "#f2495c", ' stroke-dasharray="6,4"', 1.5
        else:
            c, dash, sw = PALETTE[ci % len(PALETTE)], "", 1.8
            ci += 1
        path = " ".join(f"{x(ts):.1f},{y(v):.1f}" for ts, v in pts)
        if not thr:
            area = f"{x(pts[0][0]):.1f},{y(max(vmin, 0)):.1f} {path} {x(pts[-1][0]):.1f},{y(max(vmin, 0)):.1f}"
            out.append(f'<polygon points="{area}" fill="{c}" fill-opacity="0.12" stroke="none"/>')
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="{sw}"{dash}/>')
        last, peak = pts[-1][1], max(v for _, v in pts)
        rows.append(f'<tr><td><span class="sw" style="background:{c}"></span>{esc(name)}</td>'
                    f'<td>{esc(fmt(last, unit))}</td><td>{esc(fmt(peak, unit))}</td></tr>')
    out.append("</svg>")
    more = f'<tr><td colspan="3">… {len(rows) - legend_rows} more</td></tr>' if len(rows) > legend_rows else ""
    out.append('<table class="legend"><tr><th></th><th>Last</th><th>Max</th></tr>'
               + "".join(rows[:legend_rows]) + more + "</table>")
    return "".join(out)


def render_state_timeline(panel, w, h, rng):
    mappings = {}
    for m in panel.get("mappings") or []:
        for value, opt in (m.get("options") or {}).items():
            mappings[value] = (opt.get("text", value), color(opt.get("color")))
    rows = []
    for t in panel["targets"]:
        for r in t.get("range") or []:
            rows.append((legend(t, r["metric"]), [(float(ts), v) for ts, v in r["values"]]))
    if not rows:
        return '<div class="nodata">No data</div>'
    rows.sort()
    t0, t1 = rng["start"], rng["end"]
    step = float(rng.get("step") or 1)
    label_w, legend_h = 160, 20
    row_h = max(8, min(26, (h - legend_h) // max(1, len(rows))))
    pw = w - label_w - 4
    out = [f'<svg width="{w}" height="{row_h * len(rows) + legend_h}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, pts) in enumerate(rows):
        y = i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + row_h * 0.7:.1f}" class="axis" text-anchor="end">{esc(name)}</text>')
        for ts, v in pts:
            key = str(int(float(v))) if v not in ("NaN", "+Inf", "-Inf") else v
            c = mappings.get(key, (key, "#8e8e9e"))[1]
            x = label_w + (ts - t0) / max(1e-9, t1 - t0) * pw
            bw = max(1.0, step / max(1e-9, t1 - t0) * pw + 0.5)
            out.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{bw:.1f}" height="{row_h - 2}" fill="{c}"/>')
    ly = row_h * len(rows) + 14
    lx = label_w
    for text, c in mappings.values():
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{lx + 14}" y="{ly}" class="axis">{esc(text)}</text>')
        lx += 24 + 7 * len(text)
    out.append("</svg>")
    return "".join(out)


def render_bargauge(panel, w, h):
    items = []
    for t in panel["targets"]:
        for r in t.get("instant") or []:
            items.append((legend(t, r["metric"]), float(r["value"][1])))
    if not items:
        return '<div class="nodata">No data</div>'
    items.sort(key=lambda kv: -kv[1])
    steps = panel.get("thresholds") or []
    top_step = max([float(s["value"]) for s in steps if s.get("value") is not None] or [0])
    vmax = max(max(v for _, v in items), top_step, 1e-9)
    bar_h = max(14, min(30, (h - 4) // max(1, len(items)) - 6))
    out = []
    for name, v in items:
        pct = max(0.0, v / vmax * 100)
        c = threshold_color(steps, v)
        out.append(f'<div class="bar" style="height:{bar_h}px"><div class="bname">{esc(name)}</div>'
                   f'<div class="btrack"><div class="bfill" style="width:{pct:.1f}%;background:linear-gradient(90deg,#37872d,{c})"></div></div>'
                   f'<div class="bval" style="color:{c}">{esc(fmt(v, panel.get("unit")))}</div></div>')
    return "".join(out)


def render_table(panel, w, h):
    rows = []
    for t in panel["targets"]:
        rows.extend(t.get("instant") or [])
    if not rows:
        return '<div class="nodata">No data</div>'
    cols = sorted({k for r in rows for k in r["metric"] if k != "__name__"})
    rows.sort(key=lambda r: -float(r["value"][1]))
    out = ['<table class="tbl"><tr>' + "".join(f"<th>{esc(c)}</th>" for c in cols) + "<th>Value</th></tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{esc(r['metric'].get(c, ''))}</td>" for c in cols)
                   + f"<td>{esc(fmt(r['value'][1], panel.get('unit')))}</td></tr>")
    out.append("</table>")
    return "".join(out)


CSS = """
body{margin:0;background:#111217;color:#ccccdc;font-family:'DejaVu Sans',Arial,sans-serif;font-size:12px}
.hdr{height:%(hh)dpx;padding:10px 16px;box-sizing:border-box;border-bottom:1px solid #2c2d33}
.hdr h1{margin:0;font-size:20px;color:#fff}.hdr .vars{margin-top:6px;color:#8e8e9e}
.vars b{color:#ccccdc;background:#22252b;padding:1px 6px;border-radius:2px;margin-right:10px}
.grid-area{position:relative}
.panel{position:absolute;background:#181b1f;border:1px solid #2c2d33;border-radius:3px;box-sizing:border-box;overflow:hidden}
.panel .title{height:24px;line-height:24px;padding:0 8px;font-weight:bold;color:#ccccdc;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row{position:absolute;font-size:15px;font-weight:bold;color:#fff;padding:6px 4px;box-sizing:border-box;border-bottom:1px solid #2c2d33}
.stat{position:absolute;left:4px;right:4px;top:28px;bottom:4px;display:flex;align-items:center;justify-content:center;border-radius:2px;color:#fff;font-weight:bold}
.nodata{color:#8e8e9e;text-align:center;padding-top:30px}
.grid{stroke:#2c2d33;stroke-width:1}.axis{fill:#8e8e9e;font-size:10px}
.legend{width:100%%;border-collapse:collapse;font-size:11px}.legend td,.legend th{padding:0 6px;white-space:nowrap;height:15px;text-align:right;color:#8e8e9e}
.legend td:first-child{text-align:left;color:#ccccdc;overflow:hidden;max-width:300px;text-overflow:ellipsis}
.sw{display:inline-block;width:12px;height:4px;margin-right:6px;vertical-align:middle}
.bar{display:flex;align-items:center;margin:4px 8px}.bname{width:38%%;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding-right:6px}
.btrack{flex:1;background:#22252b;height:70%%}.bfill{height:100%%}.bval{width:60px;text-align:right;font-weight:bold;font-size:14px}
.tbl{width:100%%;border-collapse:collapse}.tbl th{text-align:left;color:#6e9fff;border-bottom:1px solid #2c2d33;padding:3px 8px}
.tbl td{padding:3px 8px;border-bottom:1px solid #22252b;white-space:nowrap}
""" % {"hh": HEADER_H}


def render_dashboard(dash, report):
    col = WIDTH / 24
    bottom = 0
    body = []
    for p in dash["panels"]:
        gp = p.get("gridPos") or {"x": 0, "y": bottom, "w": 24, "h": 8}
        left, top = gp["x"] * col + 4, gp["y"] * ROW_H + 4
        w, h = gp["w"] * col - 8, gp["h"] * ROW_H - 8
        bottom = max(bottom, gp["y"] + gp["h"])
        if p["type"] == "row":
            body.append(f'<div class="row" style="left:{left:.0f}px;top:{top:.0f}px;width:{w:.0f}px">'
                        f'{esc(p.get("title", ""))}</div>')
            continue
        inner_w, inner_h = int(w - 10), int(h - 30)
        if p["type"] == "stat":
            content = render_stat(p, inner_w, inner_h)
        elif p["type"] == "timeseries":
            content = render_timeseries(p, inner_w, inner_h, report["range"])
        elif p["type"] == "bargauge":
            content = render_bargauge(p, inner_w, inner_h)
        elif p["type"] == "state-timeline":
            content = render_state_timeline(p, inner_w, inner_h, report["range"])
        else:
            content = render_table(p, inner_w, inner_h)
        body.append(f'<div class="panel" style="left:{left:.0f}px;top:{top:.0f}px;width:{w:.0f}px;height:{h:.0f}px">'
                    f'<div class="title">{esc(p.get("title", ""))}</div><div style="padding:0 5px">{content}</div></div>')
    height = HEADER_H + bottom * ROW_H + 10
    variables = "".join(f'{esc(k)} <b>{esc(" + ".join(v))}</b>' for k, v in report["variables"].items())
    when = datetime.datetime.fromtimestamp(report["time"]).strftime("%Y-%m-%d %H:%M:%S")
    span = int(report["range"]["end"] - report["range"]["start"])
    page = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(dash["title"])}</title>'
            f"<style>{CSS}</style></head><body>"
            f'<div class="hdr"><h1>{esc(dash["title"])}</h1><div class="vars">{variables} '
            f"time range: last {span} s up to {when} · preview from mailrelay_exporter e2e "
            f"(tests/e2e/lib/render_dashboards.py)</div></div>"
            f'<div class="grid-area" style="height:{bottom * ROW_H}px">{"".join(body)}</div></body></html>')
    return page, height


def chromium_cmd(chromium, html_path, png_path, height, profile):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png_path}",
            f"--window-size={WIDTH},{height}", "file://" + os.path.abspath(html_path)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("out_dir")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = ap.parse_args()
    chromium = shutil.which(args.chromium)
    if not chromium:
        print(f"render_dashboards: {args.chromium} not found (Debian package chromium; scripts/install-deps.sh)",
              file=sys.stderr)
        return 1
    with open(args.results, encoding="utf-8") as f:
        report = json.load(f)
    os.makedirs(args.out_dir, exist_ok=True)
    jobs = []
    with tempfile.TemporaryDirectory(prefix="render-dash-") as tmp:
        # One Chromium per dashboard, in parallel (each takes a few seconds to start).
        for i, dash in enumerate(report["dashboards"]):
            page, height = render_dashboard(dash, report)
            name = re.sub(r"[^A-Za-z0-9._-]", "_", dash["uid"])
            html_path = os.path.join(args.out_dir, name + ".html")
            png_path = os.path.join(args.out_dir, name + ".png")
            log_path = os.path.join(args.out_dir, name + ".chromium.log")
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(page)
            if os.path.exists(png_path):
                os.unlink(png_path)
            with open(log_path, "w", encoding="utf-8") as log:
                proc = subprocess.Popen(chromium_cmd(chromium, html_path, png_path, height, f"{tmp}/profile{i}"),
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            jobs.append((proc, png_path, log_path, height))
        failed = 0
        for proc, png_path, log_path, height in jobs:
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "timeout"
            size = os.path.getsize(png_path) if os.path.exists(png_path) else 0
            if rc != 0 or size == 0:
                print(f"render_dashboards: chromium exit {rc}, {png_path} {size} bytes; see {log_path}",
                      file=sys.stderr)
                failed += 1
            else:
                print(f"  {png_path} ({WIDTH}x{height}, {size} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
