#!/usr/bin/env python3
"""`mailrelay_exporter report` over a rotated, partly gzip'd log set.

Corpus lines (Exim and Postfix) get new timestamps and are written as five days of logs, one
file per day, the way logrotate leaves them:
  Exim     mainlog.4.gz mainlog.3.gz mainlog.2.gz mainlog.1 mainlog        (numbered)
  Postfix  mail.log-20261118.gz mail.log-20261119.gz mail.log-20261120
           mail.log-20261121.gz mail.log                                    (dateext)
Each day holds four copies of the corpus lines, one line a second, starting at 00:00, 06:00,
12:00 and 18:00 UTC. The window 2026-11-19 12:00 .. 2026-11-21 12:00 then holds exactly 8
copies: the second half of day 19, day 20 and the first half of day 21.

Checked:
  - the files are read in time order; the first day is skipped as before the window and the
    live file as after it (their time ranges are known cheaply), the three others are read;
  - lines.in_window is exactly the number of lines written inside the window, lines.read the
    number of lines in the files read;
  - every count of the report (classes, ignored, deliveries, bounces, frozen, completed, auth
    users, local users, source IPs per class, spoofing, auth failures, rejects) equals what the
    exporter's own metrics say (`--oneshot`) for exactly the lines inside the window.
The copies are 6 hours apart and the Postfix correlation TTL is 1h, so no message spans a copy
and the Postfix lines before the window cannot change what is counted inside it.

  report_rotated.py BINARY CORPUS_DIR
"""

import datetime
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

EXIM_FILES = [
    "exim-exporter/mainlog",
    "fail2ban/exim",
    "fail2ban/exim-spam",
    "crowdsec/exim-bf--exim-bf.log",
    "crowdsec/exim-logs--exim-logs.log",
    "crowdsec/exim-spam--exim-spam.log",
    "exim-testsuite/mainlog/0005",
    "exim-testsuite/mainlog/0023",
    "exim-testsuite/mainlog/0024",
    "exim-testsuite/mainlog/0130",
    "exim-testsuite/mainlog/3400",
    "exim-testsuite/mainlog/3403",
    "exim-testsuite/mainlog/3411",
    "exim-testsuite/mainlog/3415",
]
POSTFIX_FILES = [
    "crowdsec/postfix-honeypot-users--postfix-honeypot-users.log",
    "crowdsec/postfix-logs--postfix-logs.log",
    "crowdsec/postfix-relay--postfix-spam.log",
    "crowdsec/postfix-sasl-bf--postfix-sasl-bf.log",
    "crowdsec/postfix-spam--postfix-spam.log",
    "wazuh/postfix.log",
    "sshguard/postfix.log",
    "postfix-exporter/go-test-literals.log",
    "postfix-exporter/sergeymakinen-mail.log",
    "postfix-exporter/adyekjaer-mail_iso.log",
    "fail2ban/postfix",
]
EXIM_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})? ")
BSD_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ")
RFC3339_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\S+ ")

# The Postfix corpus holds no complete transaction (README "Gaps"), so each copy also gets
# transactions assembled from corpus lines with fresh queue ids: an SASL smtpd `client=` line
# (postfix_exporter literals) + a qmgr `(queue active)` line (adyekjaer mail.log) + `removed`,
# and a pickup line (postfix-grok-patterns) + qmgr + `removed`.
TRANSACTIONS = 12
QUEUE_ID = re.compile(r": [0-9A-F]{6,}: ")

DAYS = [18, 19, 20, 21, 22]
COPY_HOURS = [0, 6, 12, 18]
SINCE = datetime.datetime(2026, 11, 19, 12, 0, 0, tzinfo=datetime.timezone.utc)
UNTIL = datetime.datetime(2026, 11, 21, 12, 0, 0, tzinfo=datetime.timezone.utc)

failures = []


def check(what, expected, actual):
    if expected == actual:
        print(f"  ok   {what} = {actual}")
    else:
        print(f"  FAIL {what}: expected {expected}, got {actual}", file=sys.stderr)
        failures.append(what)


def templates(corpus, files, prefix_res):
    """Corpus lines without their timestamp, in order."""
    out = []
    for name in files:
        with open(os.path.join(corpus, name), encoding="utf-8", errors="surrogateescape") as f:
            for line in f.read().splitlines():
                for r in prefix_res:
                    m = r.match(line)
                    if m:
                        out.append(line[m.end():])
                        break
    return out


def corpus_line(corpus, name, pattern):
    """The first line of a corpus file matching `pattern`, without its timestamp."""
    with open(os.path.join(corpus, name), encoding="utf-8") as f:
        for line in f.read().splitlines():
            if re.search(pattern, line):
                for r in (BSD_PREFIX, RFC3339_PREFIX):
                    m = r.match(line)
                    if m:
                        return line[m.end():]
                return line
    raise SystemExit(f"no line matching {pattern} in {name}")


def postfix_transactions(corpus):
    """Functions (day, hour) -> lines of complete transactions with unique queue ids."""
    client = corpus_line(corpus, "postfix-exporter/go-test-literals.log", r"client=.*sasl_username=")
    qmgr = corpus_line(corpus, "postfix-exporter/adyekjaer-mail_iso.log", r"nrcpt=2 \(queue active\)")
    removed = corpus_line(corpus, "postfix-exporter/go-test-literals.log", r": removed$")
    pickup = "mx postfix/pickup[4242]: " + corpus_line(
        corpus, "postfix-grok-patterns/test-messages.tsv", r"^pickup_0001").split("\t")[-1]

    def lines(day, hour):
        out = []
        for i in range(TRANSACTIONS):
            qid = f"{day:02d}{hour:02d}{i:06d}"
            with_qid = lambda text: QUEUE_ID.sub(f": {qid}: ", text, count=1)
            src = pickup if i % 4 == 3 else client
            if i % 4 == 1:  # a second account and IP
                src = src.replace("sasl_username=user@domain", "sasl_username=other@domain")
                src = src.replace("[1.2.3.4]", "[5.6.7.8]")
            out += [with_qid(src), with_qid(qmgr), with_qid(removed)]
        return out
    return lines


def stamp(t, mta):
    if mta == "exim":
        return t.strftime("%Y-%m-%d %H:%M:%S ")
    return t.strftime("%b %d %H:%M:%S ")


def generate(lines, mta, extra=None):
    """{day: [(time, line)]} for every day."""
    days = {}
    for day in DAYS:
        out = []
        for hour in COPY_HOURS:
            start = datetime.datetime(2026, 11, day, hour, 0, 0, tzinfo=datetime.timezone.utc)
            copy = lines + (extra(day, hour) if extra else [])
            for i, text in enumerate(copy):
                t = start + datetime.timedelta(seconds=i)
                out.append((t, stamp(t, mta) + text))
        days[day] = out
    return days


def write(path, lines, gz):
    data = "".join(line + "\n" for _, line in lines).encode("utf-8", "surrogateescape")
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def parse_prom(text):
    """{(name, frozenset(labels)): value}"""
    series = {}
    label_re = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        if "{" in head:
            name, rest = head.split("{", 1)
            labels = {
                k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                for k, v in label_re.findall(rest)
            }
        else:
            name, labels = head, {}
        series[(name, frozenset(labels.items()))] = float(value)
    return series


def metric(series, name, **labels):
    return int(series.get((name, frozenset(labels.items())), 0))


def family(series, name, key):
    """{label value: int} of one label of a family."""
    out = {}
    for (n, labels), v in series.items():
        if n == name:
            out[dict(labels)[key]] = int(v)
    return out


def compare(report, series):
    for cls, row in report["classes"].items():
        check(f"{cls} messages", metric(series, "mailrelay_messages_received_total", **{"class": cls}), row["messages"])
        check(f"{cls} recipients", metric(series, "mailrelay_recipients_received_total", **{"class": cls}), row["recipients"])
        check(f"{cls} bytes", metric(series, "mailrelay_received_bytes_total", **{"class": cls}), row["bytes"])
        check(f"{cls} spoofed", metric(series, "mailrelay_spoofed_messages_total", **{"class": cls}), row["spoofed"])
    for reason, n in report["ignored"].items():
        check(f"ignored {reason}", metric(series, "mailrelay_messages_ignored_total", reason=reason), n)
    for result in ("delivered", "deferred", "failed"):
        check(f"deliveries {result}", metric(series, "mailrelay_deliveries_total", result=result), report["deliveries"][result])
    check("retry waits", metric(series, "mailrelay_deliveries_retry_wait_total"), report["deliveries"]["retry_wait"])
    check("bounces generated", metric(series, "mailrelay_bounces_generated_total"), report["bounces_generated"])
    check("frozen", metric(series, "mailrelay_messages_frozen_total"), report["frozen"])
    check("completed", metric(series, "mailrelay_messages_completed_total"), report["completed"])

    def table(key, rows, field="messages"):
        return {r[key]: r[field] for r in rows}

    check("auth users (messages)", family(series, "mailrelay_auth_user_messages_total", "user"), table("user", report["auth_users"]["top"]))
    check("auth users (recipients)", family(series, "mailrelay_auth_user_recipients_total", "user"), table("user", report["auth_users"]["top"], "recipients"))
    check("local users (messages)", family(series, "mailrelay_local_user_messages_total", "user"), table("user", report["local_users"]["top"]))
    for cls, t in report["source_ips"].items():
        want = {dict(l)["ip"]: int(v) for (n, l), v in series.items()
                if n == "mailrelay_source_ip_messages_total" and dict(l)["class"] == cls}
        check(f"source IPs {cls}", want, table("ip", t["top"]))
    spoofed = {}
    for r in report["spoofing"]["top"]:
        spoofed[r["identity"]] = spoofed.get(r["identity"], 0) + r["messages"]
    check("spoofing per identity", family(series, "mailrelay_spoofed_user_messages_total", "user"), spoofed)
    check("auth failures", sum(family(series, "mailrelay_auth_failures_total", "authenticator").values()), report["auth_failures"]["total"])
    check("auth failures per IP", family(series, "mailrelay_auth_failure_ip_total", "ip"),
          {r["ip"]: r["failures"] for r in report["auth_failures"]["top"] if r["ip"]})
    for reason, r in report["rejects"]["by_reason"].items():
        check(f"rejects {reason}", metric(series, "mailrelay_rejects_total", reason=reason), r["rejects"])


def run_case(binary, work, mta, days, names, gz_days):
    print(f"== {mta}")
    for day, name in zip(DAYS, names):
        write(os.path.join(work, name), days[day], day in gz_days)
    in_window = [line for day in DAYS for t, line in days[day] if SINCE <= t < UNTIL]
    read_lines = sum(len(days[d]) for d in (19, 20, 21))
    env = dict(os.environ, TZ="UTC")
    common = ["--relay.include-interface-addresses=false", "--postfix.correlation-ttl=1h"]
    log_flag = ["--mta=exim", f"--exim.mainlog={work}/{names[-1]}"] if mta == "exim" else \
        ["--mta=postfix", f"--postfix.log={work}/{names[-1]}"]
    out = subprocess.run([binary, "report", *log_flag, *common, "--no-queue", "--top=10000",
                          "--format=json", "--since=2026-11-19 12:00:00",
                          "--until=2026-11-21T12:00:00Z"],
                         env=env, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    check("files in time order", names, [os.path.basename(l["path"]) for l in report["logs"]])
    check("file verdicts", ["before_window", "read", "read", "read", "after_window"],
          [l["status"] for l in report["logs"]])
    check("lines in the window", len(in_window), report["lines"]["in_window"])
    check("lines read", read_lines, report["lines"]["read"])

    # The oracle: the exporter's metrics over exactly the lines inside the window.
    with open(os.path.join(work, f"{mta}-window.log"), "wb") as f:
        f.write("".join(l + "\n" for l in in_window).encode("utf-8", "surrogateescape"))
    oneshot_log = ["--mta=exim", f"--exim.mainlog={work}/{mta}-window.log", "--exim.rejectlog=none"] \
        if mta == "exim" else ["--mta=postfix", f"--postfix.log={work}/{mta}-window.log"]
    prom = subprocess.run([binary, "--oneshot", *oneshot_log, *common,
                           "--metrics.max-series-per-family=1000000"],
                          env=env, check=True, capture_output=True, text=True).stdout
    series = parse_prom(prom)
    log_name = "exim_mainlog" if mta == "exim" else "postfix"
    check("oneshot lines", len(in_window), metric(series, "mailrelay_log_lines_total", log=log_name))
    compare(report, series)
    arrivals = sum(r["messages"] for r in report["classes"].values())
    if arrivals == 0 or report["auth_failures"]["total"] == 0 or report["rejects"]["total"] == 0:
        failures.append(f"{mta}: the data set exercises too little")
        print(f"  FAIL {mta}: no arrivals, auth failures or rejects in the window", file=sys.stderr)


def main():
    binary, corpus = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory() as work:
        exim = generate(templates(corpus, EXIM_FILES, [EXIM_PREFIX]), "exim")
        run_case(binary, work, "exim", exim,
                 ["mainlog.4.gz", "mainlog.3.gz", "mainlog.2.gz", "mainlog.1", "mainlog"],
                 {18, 19, 20})
        postfix = generate(templates(corpus, POSTFIX_FILES, [BSD_PREFIX, RFC3339_PREFIX]), "postfix",
                           postfix_transactions(corpus))
        run_case(binary, work, "postfix", postfix,
                 ["mail.log-20261118.gz", "mail.log-20261119.gz", "mail.log-20261120",
                  "mail.log-20261121.gz", "mail.log"],
                 {18, 19, 21})
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        return 1
    print("report over rotated logs: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
