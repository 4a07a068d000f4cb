#!/usr/bin/env python3
"""Synthetic fleet for alerts/bench/rule_cost.sh (OpenMetrics text for promtool's backfill).

  synthetic_fleet.py INSTANCES KEYS STEP_S START END OUT

Writes up{job="mailrelay"} for INSTANCES servers and, for each of the ten per-key families the
recording rules of alerts/mailrelay.rules.yml read, KEYS keys per server: counters sampled every
STEP_S seconds from START to END (Unix seconds). 1 key in 100 sends 6 recipients a minute (over
every limit); the others one every 10 samples.
"""
import random, sys
n_inst, keys, step, start, end, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
fams = [("mailrelay_auth_user_messages", "user"), ("mailrelay_auth_user_recipients", "user"),
        ("mailrelay_source_ip_messages", "ip"), ("mailrelay_source_ip_recipients", "ip"),
        ("mailrelay_local_user_messages", "user"), ("mailrelay_local_user_recipients", "user"),
        ("mailrelay_spoofed_user_messages", "user"), ("mailrelay_auth_failure_ip", "ip"),
        ("mailrelay_auth_failure_user", "user"), ("mailrelay_reject_ip", "ip")]
times = list(range(start, end + 1, step))
rnd = random.Random(1)
with open(out, "w", buffering=1 << 22) as f:
    f.write("# TYPE up gauge\n")
    for i in range(n_inst):
        lab = f'job="mailrelay",instance="host{i:03d}:9225"'
        f.write("".join(f"up{{{lab}}} 1 {t}\n" for t in times))
    for name, key in fams:
        f.write(f"# TYPE {name} counter\n")
        extra = {"mailrelay_source_ip_messages": ',class="authrelay"', "mailrelay_source_ip_recipients": ',class="authrelay"',
                 "mailrelay_reject_ip": ',reason="relay_denied"'}.get(name, "")
        for i in range(n_inst):
            for k in range(keys):
                kv = f"user{k:04d}@customer{i:03d}.example" if key == "user" else f"10.{i % 250}.{k // 250}.{k % 250}"
                lab = f'job="mailrelay",instance="host{i:03d}:9225"{extra},{key}="{kv}"'
                # 1 key in 100 sends 6 a minute (over every limit); the others one every 5 minutes
                hot = rnd.random() < 0.01
                v = 0
                lines = []
                for n, t in enumerate(times):
                    v += 3 if hot else (1 if n % 10 == 0 else 0)
                    lines.append(f"{name}_total{{{lab}}} {v} {t}\n")
                f.write("".join(lines))
    f.write("# EOF\n")
