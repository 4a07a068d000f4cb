#!/usr/bin/env python3
"""Lint the PromQL shipped in alerts/ and dashboards/ against docs/metrics.md and docs/runbook.md.

Checks, for every expression in alerts/*.yml (rule `expr`) and dashboards/*.json (panel
`targets[].expr` and template-variable queries):
  (a) it parses: all expressions are written into one temporary rule file (one group per source,
      so an error names the file and panel/rule) and `promtool check rules` runs on it; dashboard
      variables ($__rate_interval, $job, $instance, $user, ...) are substituted first;
  (b) every metric it references (`mailrelay_...`, not recording rules with ':') is listed in
      docs/metrics.md, in a table row starting with "| `name`";
  (c) each dashboard has a uid, a title, a `datasource` variable, and every panel/target uses it;
      every panel has a description; a top-N keeps `instance`; a panel listing users or IPs (in
      its legend) links to the drilldown;
      each alert is CamelCase with the `Mail` prefix, has severity critical|warning|info, a static
      summary (capital letter, final period), a templated description, and a runbook_url whose
      anchor is a heading of docs/runbook.md;
  (d) every alert is covered by alerts/tests/*.yml: one alert_rule_test expecting it to fire and
      one expecting silence;
  (e) fleet conventions of alerts/mailrelay.rules.yml: every `mailrelay:threshold:<name>` (but the
      derived page tiers) has the one per-instance shape (instance override, role override, fleet
      override, literal); every comparison with a threshold joins `on (instance)`; every alert has
      a dashboard_url into an existing dashboard uid with var-job and var-instance, plus var-user
      and/or var-ip when its expression reads a per-user or per-IP family.

Usage: tests/lint/check_promql.py [--repo DIR] [--promtool PATH]. Exit 0 when clean, 1 with a
list of problems otherwise, 2 when the inputs cannot be read. Needs python3-yaml and promtool.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("check_promql: python3-yaml is missing (apt-get install -y python3-yaml)")

METRIC_RE = re.compile(r"(?<![A-Za-z0-9_:])mailrelay_[a-z0-9_]+(?![A-Za-z0-9_:])")
DOC_ROW_RE = re.compile(r"^\|\s*`(mailrelay_[a-z0-9_]+)`")
STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
CAMEL_RE = re.compile(r"^([A-Z]+[a-z0-9]+)+$")
SEVERITIES = {"critical", "warning", "info"}
RUNBOOK_PREFIX = "https://github.com/mailrelay-exporter/mailrelay_exporter/blob/main/docs/runbook.md#"

# Dashboard variables -> concrete values, so that the query parses as Prometheus would see it.
VARIABLES = {
    "__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
    "__range_ms": "3600000", "__interval_ms": "60000", "__scrape_interval": "15s",
    "job": "mailrelay", "instance": ".*", "user": "alice@example.com", "ip": "192.0.2.1",
    "datasource": "prometheus",
}
VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")


class Lint:
    def __init__(self):
        self.problems = []

    def fail(self, where, msg):
        self.problems.append(f"{where}: {msg}")


def substitute(expr, where, lint):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in VARIABLES:
            lint.fail(where, f"unknown dashboard variable ${name} (add it to VARIABLES in {os.path.basename(__file__)})")
            return "x"
        return VARIABLES[name]
    return VAR_RE.sub(repl, expr)


def documented_metrics(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = DOC_ROW_RE.match(line.strip())
            if m:
                names.add(m.group(1))
    return names


def github_anchors(path):
    """Anchors GitHub generates for the headings of a Markdown file (plus explicit <a id=...>)."""
    anchors, seen = set(), {}
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
                continue
            if in_code:
                continue
            for m in re.finditer(r'<a (?:id|name)="([^"]+)"', line):
                anchors.add(m.group(1))
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = m.group(1).strip().lower()
            slug = re.sub(r"[^\w\- ]", "", slug).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def load_alert_files(repo, lint):
    """Returns [(where, expr)] and the list of alert rules (with their file)."""
    exprs, alerts, records = [], [], []
    files = sorted(glob.glob(os.path.join(repo, "alerts", "*.rules.yml")))
    if not files:
        lint.fail("alerts/", "no rule files found")
    for path in files:
        rel = os.path.relpath(path, repo)
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            lint.fail(rel, f"cannot read: {e}")
            continue
        for group in (doc or {}).get("groups", []):
            for i, rule in enumerate(group.get("rules", [])):
                name = rule.get("alert") or rule.get("record") or f"rule {i}"
                where = f"{rel} group {group.get('name')} {name}"
                if "expr" not in rule:
                    lint.fail(where, "no expr")
                    continue
                exprs.append((where, str(rule["expr"])))
                if "alert" in rule:
                    alerts.append((where, rule))
                else:
                    records.append((where, rule))
    return exprs, alerts, records


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []):  # collapsed rows
            yield q


def load_dashboards(repo, lint, uids_out=None):
    exprs = []
    files = sorted(glob.glob(os.path.join(repo, "dashboards", "*.json")))
    if not files:
        lint.fail("dashboards/", "no dashboards found")
    uids = {}
    for path in files:
        rel = os.path.relpath(path, repo)
        try:
            with open(path, encoding="utf-8") as f:
                dash = json.load(f)
        except (OSError, ValueError) as e:
            lint.fail(rel, f"cannot read: {e}")
            continue
        uid, title = dash.get("uid"), dash.get("title")
        if not uid:
            lint.fail(rel, "dashboard has no uid (links break without one)")
        elif uid in uids:
            lint.fail(rel, f"uid {uid} also used by {uids[uid]}")
        else:
            uids[uid] = rel
            if uids_out is not None:
                uids_out.add(uid)
        if not title:
            lint.fail(rel, "dashboard has no title")
        variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
        ds = variables.get("datasource")
        if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
            lint.fail(rel, "no `datasource` template variable of type datasource/prometheus")
        if not any(i.get("name") == "DS_PROMETHEUS" for i in dash.get("__inputs", [])):
            lint.fail(rel, "no DS_PROMETHEUS in __inputs")
        for name, var in variables.items():
            if var.get("type") != "query":
                continue
            q = var.get("query")
            q = q.get("query", "") if isinstance(q, dict) else (q or "")
            where = f"{rel} variable ${name}"
            m = re.match(r"^\s*(?:label_values|query_result)\((.*)\)\s*$", q, re.S)
            if m:
                inner = m.group(1)
                if q.lstrip().startswith("label_values") and "," in inner:
                    inner = inner.rsplit(",", 1)[0]
                exprs.append((where, substitute(inner, where, lint)))
            elif q.strip():
                lint.fail(where, f"unsupported variable query {q!r}")
            if var.get("datasource", {}).get("uid") != "${datasource}":
                lint.fail(where, "does not use the ${datasource} variable")
        for p in panels_of(dash):
            if p.get("type") == "row":
                continue
            pwhere = f"{rel} panel {p.get('id')} {p.get('title')!r}"
            if not (p.get("description") or "").strip():
                lint.fail(pwhere, "panel has no description")
            for t in p.get("targets", []):
                e = t.get("expr", "")
                legend = t.get("legendFormat", "")
                if "topk(" in e and "instance" not in legend and t.get("format") != "table" \
                        and "by (instance" not in e:
                    lint.fail(pwhere, "a top-N must keep `instance` (in its legend): 300 servers' www-data are not one sender")
                lists_keys = (p.get("type") == "bargauge" and re.search(r"\{\{(user|ip)\}\}", legend)) or \
                    (p.get("type") == "table" and re.search(r"instance_(user|class_ip|ip):", e))
                if lists_keys and not p.get("fieldConfig", {}).get("defaults", {}).get("links"):
                    lint.fail(pwhere, "a panel listing users or IPs needs a data link to the drilldown")
            if p.get("datasource", {}).get("uid") != "${datasource}":
                lint.fail(pwhere, "panel does not use the ${datasource} variable")
            if not p.get("targets"):
                lint.fail(pwhere, "panel has no query")
            for t in p.get("targets", []):
                where = f"{pwhere} ref {t.get('refId')}"
                if t.get("datasource", {}).get("uid", "${datasource}") != "${datasource}":
                    lint.fail(where, "target does not use the ${datasource} variable")
                if not t.get("expr", "").strip():
                    lint.fail(where, "empty expr")
                    continue
                exprs.append((where, substitute(t["expr"], where, lint)))
    return exprs


def check_parse(exprs, promtool, lint):
    """(a) one group per expression, so promtool's error names the source."""
    groups, index = [], {}
    for i, (where, expr) in enumerate(exprs):
        gname = f"expr_{i}"
        index[gname] = where
        groups.append({"name": gname, "rules": [{"record": f"lint:expr_{i}", "expr": expr}]})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "exprs.rules.yml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump({"groups": groups}, f, sort_keys=False)
        try:
            res = subprocess.run([promtool, "check", "rules", "--lint=none", path],
                                 capture_output=True, text=True, check=False)
        except OSError as e:
            lint.fail("promtool", f"cannot run {promtool}: {e}")
            return
    if res.returncode != 0:
        out = (res.stdout + res.stderr).strip()
        named = False
        for gname, where in index.items():
            if re.search(rf"\b{gname}\b", out):
                line = next((l for l in out.splitlines() if re.search(rf"\b{gname}\b", l)), "")
                lint.fail(where, f"does not parse: {line.strip()}")
                named = True
        if not named:
            lint.fail("promtool check rules", out)


def check_metrics(exprs, documented, lint):
    """(b) every mailrelay_* name outside string literals is in docs/metrics.md."""
    missing = {}
    for where, expr in exprs:
        for name in METRIC_RE.findall(STRING_RE.sub('""', expr)):
            if name not in documented:
                missing.setdefault(name, []).append(where)
    for name in sorted(missing):
        lint.fail(missing[name][0], f"metric {name} is not listed in docs/metrics.md"
                  + (f" (and {len(missing[name]) - 1} more uses)" if len(missing[name]) > 1 else ""))
    return sorted(missing)


def check_alerts(alerts, anchors, lint):
    """(c) mixin conventions and runbook anchors."""
    for where, rule in alerts:
        name = rule["alert"]
        labels, ann = rule.get("labels") or {}, rule.get("annotations") or {}
        if not CAMEL_RE.match(name) or not name.startswith("Mail"):
            lint.fail(where, "alert name must be CamelCase and start with Mail")
        if labels.get("severity") not in SEVERITIES:
            lint.fail(where, f"severity must be one of {sorted(SEVERITIES)}, got {labels.get('severity')!r}")
        summary, desc, url = ann.get("summary", ""), ann.get("description", ""), ann.get("runbook_url", "")
        if not summary:
            lint.fail(where, "no summary annotation")
        elif "{{" in summary or not re.match(r"^[A-Z].+\.$", summary):
            lint.fail(where, "summary must be a static sentence (capital letter, final period, no template)")
        if not desc:
            lint.fail(where, "no description annotation")
        elif "{{" not in desc or "$labels" not in desc:
            lint.fail(where, "description must be templated with $labels")
        if not url:
            lint.fail(where, "no runbook_url annotation")
        elif not url.startswith(RUNBOOK_PREFIX):
            lint.fail(where, f"runbook_url must start with {RUNBOOK_PREFIX}")
        else:
            anchor = url[len(RUNBOOK_PREFIX):]
            if anchor != name.lower():
                lint.fail(where, f"runbook anchor should be #{name.lower()}, got #{anchor}")
            if anchor not in anchors:
                lint.fail(where, f"docs/runbook.md has no section #{anchor}")


def check_tests(repo, alerts, lint):
    """(d) each alert has a firing and a quiet alert_rule_test."""
    fires, quiet = set(), set()
    for path in glob.glob(os.path.join(repo, "alerts", "tests", "*.yml")):
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            lint.fail(os.path.relpath(path, repo), f"cannot read: {e}")
            continue
        for test in doc.get("tests", []):
            for art in test.get("alert_rule_test", []) or []:
                (fires if art.get("exp_alerts") else quiet).add(art.get("alertname"))
    for name in sorted({r["alert"] for _, r in alerts}):
        if name not in fires:
            lint.fail(f"alerts/tests: {name}", "no test expects it to fire")
        if name not in quiet:
            lint.fail(f"alerts/tests: {name}", "no test expects it to stay quiet")


THRESHOLD_SHAPE = """min by (instance) (mailrelay:threshold_override:{n}{{instance!=""}})
or on (instance)
min by (instance) (mailrelay:instance_role * on (mail_role) group_left () min by (mail_role) (mailrelay:threshold_override:{n}{{instance="", mail_role!=""}}))
or on (instance)
mailrelay:instance * on () group_left () min (mailrelay:threshold_override:{n}{{instance="", mail_role=""}})
or on (instance)
mailrelay:instance * """
DASH_PREFIX = '{{ with query "mailrelay:grafana_url" }}{{ . | first | label "url" }}{{ end }}/d/'
DASH_QUERY = "?var-job={{ $labels.job }}&var-instance={{ $labels.instance | urlquery }}"


def check_fleet(alerts, records, uids, lint):
    """(e) per-instance thresholds, joins on instance, dashboard links."""
    for where, rule in records:
        name = rule["record"]
        if not name.startswith("mailrelay:threshold:") or name.endswith("_page"):
            continue
        n = name[len("mailrelay:threshold:"):]
        expr = "\n".join(l.strip() for l in str(rule["expr"]).strip().splitlines())
        shape = THRESHOLD_SHAPE.format(n=n)
        if not expr.startswith(shape) or not re.fullmatch(r"[0-9.]+", expr[len(shape):]):
            lint.fail(where, "threshold must have the per-instance shape (instance, role, fleet override, literal)")
    for where, rule in alerts:
        expr = str(rule["expr"])
        join = "on (instance) group_left () "
        for m in re.finditer(r"mailrelay:threshold:\w+", expr):
            if expr[max(0, m.start() - len(join)):m.start()] != join:
                lint.fail(where, f"compare with {m.group(0)} as `> {join}{m.group(0)}` (one value per instance)")
        url = (rule.get("annotations") or {}).get("dashboard_url", "")
        if not url.startswith(DASH_PREFIX):
            lint.fail(where, "dashboard_url must start with the mailrelay:grafana_url query and /d/")
            continue
        uid, _, query = url[len(DASH_PREFIX):].partition("?")
        if uid not in uids:
            lint.fail(where, f"dashboard_url names uid {uid!r}, which no dashboard has")
        if not ("?" + query).startswith(DASH_QUERY):
            lint.fail(where, "dashboard_url must pass var-job and var-instance from the labels")
        if re.search(r"\buser!?[=~]", expr) and "&var-user=" not in query:
            lint.fail(where, "per-user alert: dashboard_url must pass var-user")
        if re.search(r"\bip!?[=~]", expr) and "&var-ip=" not in query:
            lint.fail(where, "per-IP alert: dashboard_url must pass var-ip")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default=os.path.normpath(os.path.join(here, "..", "..")))
    ap.add_argument("--promtool", default=os.environ.get("PROMTOOL", "promtool"))
    args = ap.parse_args()
    lint = Lint()
    try:
        documented = documented_metrics(os.path.join(args.repo, "docs", "metrics.md"))
        anchors = github_anchors(os.path.join(args.repo, "docs", "runbook.md"))
    except OSError as e:
        print(f"check_promql: {e}", file=sys.stderr)
        return 2
    alert_exprs, alerts, records = load_alert_files(args.repo, lint)
    uids = set()
    dash_exprs = load_dashboards(args.repo, lint, uids)
    exprs = alert_exprs + dash_exprs
    check_parse(exprs, args.promtool, lint)
    missing = check_metrics(exprs, documented, lint)
    check_alerts(alerts, anchors, lint)
    check_tests(args.repo, alerts, lint)
    check_fleet(alerts, records, uids, lint)
    if lint.problems:
        for p in lint.problems:
            print(f"FAIL {p}", file=sys.stderr)
        if missing:
            print(f"check_promql: {len(missing)} metric name(s) missing from docs/metrics.md: "
                  + ", ".join(missing), file=sys.stderr)
        print(f"check_promql: {len(lint.problems)} problem(s) in {len(exprs)} expressions", file=sys.stderr)
        return 1
    print(f"check_promql: OK: {len(exprs)} expressions ({len(alert_exprs)} rules, {len(dash_exprs)} dashboard queries), "
          f"{len(alerts)} alerts, {len(documented)} documented metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
