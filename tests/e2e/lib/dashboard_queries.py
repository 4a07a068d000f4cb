#!/usr/bin/env python3
"""Run every Grafana dashboard panel query against a live Prometheus; fail on empty results.

    dashboard_queries.py --prometheus http://127.0.0.1:9090 --out results.json \
        --var job=mailrelay --var instance=127.0.0.1:9225 \
        --var user=bob@mx.example.test --var user=carol --var ip=127.0.0.3 \
        [--allow-empty 'DASHBOARD_UID/PANEL_ID=why'] [--range-seconds 600] \
        dashboards/*.json

Template variables are substituted the way Grafana's Prometheus data source does it:
`$var`, `${var}`, `${var:fmt}` and `[[var]]`; a variable given several times (multi-value) or a
multi/includeAll variable becomes `(v1|v2)` with regex metacharacters escaped; the built-ins
`$__rate_interval` (1m), `$__interval` (15s) and `$__range` (1h) get fixed values.  A `$name`
left in an expression after substitution is an error (the test would be vacuous).

Every target runs as an instant query (/api/v1/query) and must return a non-empty result
unless its panel is listed with --allow-empty (with a reason).  Targets of time series panels
(and state timelines) also run as a range query over the last --range-seconds, for the preview renderer
(render_dashboards.py).  The results go to --out as JSON.  Exit status 1 on any failure.
Python 3 standard library only.
"""

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600"}
VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)")
REGEX_META = re.compile(r"([\\^$.|?*+()\[\]{}])")


def walk_panels(panels):
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def regex_escape(value):
    # Grafana's prometheusSpecialRegexEscape: a backslash before each regex metacharacter,
    # doubled because the result sits inside a PromQL double-quoted string.
    return REGEX_META.sub(r"\\\\\1", value)


def format_value(name, values, multi):
    if name in BUILTINS:
        return BUILTINS[name]
    if len(values) > 1 or multi:
        escaped = [regex_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    return values[0]


def substitute(expr, variables, multi_vars):
    missing = []

    def repl(m):
        name = m.group(1) or m.group(3) or m.group(5)
        if name in BUILTINS:
            return BUILTINS[name]
        if name not in variables:
            missing.append(name)
            return m.group(0)
        return format_value(name, variables[name], name in multi_vars)

    out = VAR_RE.sub(repl, expr)
    return out, missing


class Prometheus:
    def __init__(self, base, timeout):
        self.base = base.rstrip("/")
        self.timeout = timeout

    def _get(self, path, params):
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                body = {"status": "error", "error": f"HTTP {e.code}"}
        if body.get("status") != "success":
            raise RuntimeError(f"{body.get('errorType', 'error')}: {body.get('error')}")
        return body["data"]

    def instant(self, expr, at):
        return self._get("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})

    def range(self, expr, start, end, step):
        return self._get("/api/v1/query_range",
                         {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": step})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dashboards", nargs="+")
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="template variable value; repeat a name for a multi-value selection")
    ap.add_argument("--allow-empty", action="append", default=[], metavar="UID/PANEL_ID=REASON",
                    help="a panel that legitimately has no data in this run (reason required)")
    ap.add_argument("--range-seconds", type=float, default=600)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    variables = {}
    for v in args.var:
        name, sep, value = v.partition("=")
        if not sep or not name:
            ap.error(f"--var wants NAME=VALUE: {v!r}")
        variables.setdefault(name, []).append(value)
    allowed = {}
    for a in args.allow_empty:
        key, sep, reason = a.partition("=")
        if not sep or not reason.strip():
            ap.error(f"--allow-empty wants UID/PANEL_ID=REASON: {a!r}")
        allowed[key] = reason

    prom = Prometheus(args.prometheus, args.timeout)
    now = time.time()
    start = now - args.range_seconds
    step = max(1, int(args.range_seconds // 240))
    failures = []
    used_allow = set()
    report = {"prometheus": args.prometheus, "time": now, "range": {"start": start, "end": now, "step": step},
              "variables": variables, "dashboards": []}
    total = passed = 0

    for path in args.dashboards:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        uid = dash.get("uid") or path
        multi_vars = {v["name"] for v in dash.get("templating", {}).get("list", [])
                      if v.get("multi") or v.get("includeAll")}
        dreport = {"file": path, "uid": uid, "title": dash.get("title", uid), "panels": []}
        report["dashboards"].append(dreport)
        for panel in walk_panels(dash.get("panels")):
            preport = {k: panel.get(k) for k in ("id", "type", "title", "gridPos", "description")}
            defaults = panel.get("fieldConfig", {}).get("defaults", {})
            preport["unit"] = defaults.get("unit")
            preport["thresholds"] = (defaults.get("thresholds") or {}).get("steps") or []
            preport["mappings"] = defaults.get("mappings") or []
            preport["targets"] = []
            dreport["panels"].append(preport)
            key = f"{uid}/{panel.get('id')}"
            title = f"{uid} #{panel.get('id')} {panel.get('title')!r}"
            for target in panel.get("targets") or []:
                raw = target.get("expr")
                if not raw:
                    continue
                total += 1
                expr, missing = substitute(raw, variables, multi_vars)
                t = {"refId": target.get("refId"), "raw": raw, "expr": expr,
                     "legendFormat": target.get("legendFormat", ""), "instant": [], "range": []}
                preport["targets"].append(t)
                label = f"{title} {t['refId']}"
                if missing:
                    failures.append(f"{label}: no value for template variable(s) {sorted(set(missing))}")
                    continue
                try:
                    data = prom.instant(expr, now)
                    result = data["result"]
                    if data["resultType"] == "scalar":
                        result = [{"metric": {}, "value": result}]
                    t["instant"] = result
                    if panel.get("type") in ("timeseries", "state-timeline"):
                        t["range"] = prom.range(expr, start, now, f"{step}s")["result"]
                except (RuntimeError, OSError, KeyError, ValueError) as e:
                    failures.append(f"{label}: query failed: {e}\n      {expr}")
                    continue
                if result:
                    passed += 1
                    vals = ", ".join(f"{r['value'][1]}" for r in result[:4])
                    more = f" (+{len(result) - 4})" if len(result) > 4 else ""
                    print(f"  ok    {label}: {len(result)} series [{vals}{more}]")
                elif key in allowed:
                    used_allow.add(key)
                    passed += 1
                    print(f"  empty {label}: allowed: {allowed[key]}")
                else:
                    failures.append(f"{label}: empty result\n      {expr}")

    for key in sorted(set(allowed) - used_allow):
        failures.append(f"--allow-empty {key}: that panel has data (or does not exist); drop the exception")

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    for msg in failures:
        print(f"  FAIL  {msg}", file=sys.stderr)
    print(f"dashboard queries: {total} run, {passed} with data or allowed empty, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
