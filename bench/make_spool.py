#!/usr/bin/env python3
"""Builds a synthetic Exim spool (input/ with <id>-H and <id>-D files) for the queue benchmark.

The files copy what Exim 4.96 writes (src/src/spool_out.c; real files in
../shared/corpus/exim-testsuite/spool-input/ and those of the private Exim of
tests/e2e/lib/exim_env.sh): line 1 "<id>-H", "<login> <uid> <gid>", "<sender>",
"<time> <warnings>", the "-name value" lines in Exim's order ("--name" for tainted values),
ACL variables ("-aclc/-aclm <name> <len>" + value, possibly multi-line, sometimes before
"-frozen"), the non-recipients tree (a valid binary search tree in pre-order, "XX" if empty),
the recipients (plain, or with the DSN suffix " orcpt len,flags errors_to len,pno#3"), a blank
line and the headers as "<len><flag> <text>" with exact lengths; the -D file starts with
"<id>-D".  Ids are Exim 4.96 ids (base62 time-pid-fraction), consistent with the received time.

Mix (deterministic with --seed): authenticated SMTP from a few thousand accounts with a
Zipf-like spread plus one hijacked account sending to many recipients, unauthenticated SMTP,
local submissions (--ident of www-data and friends), locally generated bounces (null sender,
-localerror, mostly frozen) and remote bounces; some messages frozen, some partly delivered.

Writes the expected totals (what `exim -bpc`/`-bp` and the exporter must report) as
"key value" lines to --manifest.

  make_spool.py --out DIR --messages N [--split] [--seed S] [--manifest FILE]
"""

import argparse
import os
import random
import sys
import time

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    s = []
    for _ in range(width):
        s.append(B62[n % 62])
        n //= 62
    return "".join(reversed(s))


def header(flag, text):
    """One header entry as spool_out.c writes it: "%03d%c %s" with the length of the text."""
    data = text.encode()
    return b"%03d%c %s" % (len(data), ord(flag), data)


def tree_lines(addresses):
    """The non-recipients tree: a balanced BST (Exim looks addresses up with strcmpic) in
    pre-order, each node "<L><R> <address>" with Y when that subtree follows."""
    out = []

    def walk(items):
        if not items:
            return
        mid = len(items) // 2
        left, right = items[:mid], items[mid + 1:]
        out.append("%s%s %s" % ("Y" if left else "N", "Y" if right else "N", items[mid]))
        walk(left)
        walk(right)

    walk(sorted(addresses, key=str.lower))
    return out


class Gen:
    DOMAINS = ["example.com", "example.net", "example.org", "mail.example", "corp.example"]
    LOCAL_USERS = [("www-data", 33, 33), ("nobody", 65534, 65534), ("cpuser1", 1001, 1001),
                   ("cpuser2", 1002, 1002), ("backup", 34, 34)]

    def __init__(self, seed, now):
        self.rnd = random.Random(seed)
        self.now = now
        self.accounts = ["user%04d@mx.example.test" % i for i in range(3000)]
        # Zipf-like weights: a few accounts fill most of the queue.
        self.weights = [1.0 / (i + 1) ** 1.1 for i in range(len(self.accounts))]
        self.hijacked = "sales@mx.example.test"
        self.ids = set()

    def new_id(self, t):
        while True:
            pid = self.rnd.randrange(1, 4194304)
            frac = self.rnd.randrange(0, 2000)  # 4.96: usec / 500 (id_resolution)
            mid = "%s-%s-%s" % (base62(t, 6), base62(pid, 6), base62(frac, 2))
            if mid not in self.ids:
                self.ids.add(mid)
                return mid

    def remote_rcpts(self, n):
        """n distinct remote addresses (Exim de-duplicates delivered addresses anyway)."""
        out = []
        while len(out) < n:
            a = self.remote_rcpt()
            if a not in out:
                out.append(a)
        return out

    def remote_rcpt(self):
        return "%s%d@%s" % (self.rnd.choice(["info", "sales", "john", "anna", "office", "hr"]),
                            self.rnd.randrange(100000), self.rnd.choice(self.DOMAINS))

    def acl_vars(self):
        """0-2 ACL variables as spool_out.c writes them (value may contain newlines)."""
        lines = []
        for _ in range(self.rnd.choice([0, 0, 0, 1, 1, 2])):
            kind = self.rnd.choice("cm")
            name = self.rnd.choice(["0", "1", "_spamscore", "_outgoing", "_dkim"])
            value = self.rnd.choice(["1", "yes", "spam=5.1 (threshold 5)",
                                     "line one\nline two -frozen 1\nXX", "-frozen 123"])
            lines.append("-acl%s %s %d" % (kind, name, len(value.encode())))
            lines.append(value)
        return lines

    def message(self):
        r = self.rnd
        age = int(r.expovariate(1.0 / 86400.0)) % (10 * 86400)  # most of it recent
        t = self.now - age
        mid = self.new_id(t)
        usec = r.randrange(1000000)
        kind = r.choices(["auth", "hijack", "smtp", "local", "bounce_local", "bounce_remote"],
                         weights=[53, 12, 12, 12, 8, 3])[0]
        opts = ["-received_time_usec .%06d" % usec,
                "-received_time_complete %d.%06d" % (t, (usec + 9000) % 1000000)]
        owner = ""
        login, uid, gid = "Debian-exim", 107, 110
        frozen = False
        hostport = "[198.51.100.%d]:%d" % (r.randrange(1, 255), r.randrange(1024, 65535))
        iface = "[203.0.113.5]:%d" % r.choice([25, 465, 587])
        helo = r.choice(["client.example.net", "laptop", "[192.0.2.7]", "mail.example.org"])
        if kind in ("auth", "hijack"):
            user = self.hijacked if kind == "hijack" else r.choices(self.accounts, self.weights)[0]
            owner = user
            sender = user if r.random() < 0.9 else "ceo@bank.example"
            nrcpt = r.randrange(20, 200) if kind == "hijack" else r.choice([1, 1, 1, 2, 3, 5])
            mech = r.choice([("dovecot_plain", "PLAIN"), ("dovecot_login", "LOGIN")])
            opts += ["--helo_name " + helo, "-host_address " + hostport,
                     "-host_auth " + mech[0], "-host_auth_pubname " + mech[1],
                     "-interface_address " + iface, "-received_protocol esmtpsa"]
            rcpts = self.remote_rcpts(nrcpt)
        elif kind == "smtp":
            sender = "%s@%s" % (r.choice(["news", "alerts", "noreply"]), r.choice(self.DOMAINS))
            opts += ["--helo_name " + helo, "-host_address " + hostport,
                     "-interface_address " + iface, "-received_protocol esmtps"]
            rcpts = self.remote_rcpts(r.choice([1, 1, 2]))
        elif kind == "local":
            login, uid, gid = r.choice(self.LOCAL_USERS)
            owner = login
            sender = "%s@mx.example.test" % login
            opts += ["--ident " + login, "-received_protocol local"]
            rcpts = self.remote_rcpts(r.choice([1, 1, 2, 4]))
        elif kind == "bounce_local":
            owner = "Debian-exim"
            sender = ""
            opts += ["-ident Debian-exim", "-received_protocol local"]
            rcpts = [self.remote_rcpt()]
        else:  # a bounce received from elsewhere
            sender = ""
            opts += ["--helo_name " + helo, "-host_address " + hostport,
                     "-interface_address " + iface, "-received_protocol esmtp"]
            rcpts = [self.remote_rcpt()]
        body_lines = r.randrange(1, 80)
        body = "".join("Line %d of a message body, padded to look like text.\n" % i
                       for i in range(body_lines))
        opts += ["-body_linecount %d" % body_lines, "-max_received_linelength %d" % r.randrange(40, 120)]
        if kind in ("auth", "hijack"):
            opts.append("--auth_id " + owner)
        if kind in ("local", "bounce_local"):
            opts += ["-allow_unqualified_recipient", "-allow_unqualified_sender"]
        opts += self.acl_vars()  # ACL variables come before -frozen (anchors.md 2.1)
        if kind == "bounce_local":
            frozen = r.random() < 0.7
        else:
            frozen = r.random() < 0.03
        if frozen:
            opts.append("-frozen %d" % (t + r.randrange(1, 600)))
        if kind == "bounce_local":
            opts.append("-localerror")
        if kind in ("local", "bounce_local"):
            opts.append("-local")
        opts.append("-tls_resumption A")

        # Partly delivered: some recipients in the non-recipients tree.
        delivered = []
        if len(rcpts) > 1 and r.random() < 0.3:
            delivered = r.sample(rcpts, r.randrange(1, len(rcpts)))
        rcpt_lines = []
        dsn = r.random() < 0.05
        for a in rcpts:
            if dsn:
                orcpt = "rfc822;" + a
                rcpt_lines.append("%s %s %d,%d  0,-1#3" % (a, orcpt, len(orcpt), 0x0a))
            else:
                rcpt_lines.append(a)

        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        shown = sender or "Mailer-Daemon@mx.example.test"
        hdrs = [
            header("P", "Received: from [%s] (port=%s helo=%s)\n\tby mx.example.test with %s "
                        "(Exim 4.96)\n\t(envelope-from <%s>)\n\tid %s;\n\t%s\n"
                   % (hostport.split("]")[0][1:], hostport.split(":")[-1], helo,
                      "esmtpsa" if owner and kind != "local" else "esmtp", sender, mid, date)),
            header(" ", "Date: %s\n" % date),
            header("T", "To: %s\n" % ",".join(rcpts[:3])),
            header("F", "From: %s\n" % shown),
            header(" ", "Subject: %s\n" % r.choice(["Quarterly report", "Invoice %d" % r.randrange(9999),
                                                    "Mail delivery failed: returning message to sender",
                                                    "Re: meeting"])),
            header("I", "Message-Id: <E1%s@mx.example.test>\n" % mid),
        ]
        if r.random() < 0.1:
            hdrs.append(header("*", "X-Spam-Flag: old value\n"))
        if r.random() < 0.2:
            hdrs.append(header(" ", "X-Mailer: Something 1.0\n"))

        lines = ["%s-H" % mid, "%s %d %d" % (login, uid, gid), "<%s>" % sender,
                 "%d %d" % (t, r.choice([0, 0, 0, 1])), *opts]
        lines += tree_lines(delivered) if delivered else ["XX"]
        lines.append(str(len(rcpts)))
        lines += rcpt_lines
        lines.append("")
        h = ("\n".join(lines) + "\n").encode() + b"".join(hdrs)
        d = ("%s-D\n" % mid + body).encode()
        info = {"id": mid, "frozen": frozen, "bounce": sender == "", "owner": owner,
                "sender": sender or "<>", "undelivered": len(rcpts) - len(delivered)}
        return mid, h, d, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="spool directory to create (input/ goes inside)")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--split", action="store_true", help="split_spool_directory layout input/<c>/")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", type=int, default=int(time.time()))
    ap.add_argument("--manifest", help="write expected totals here")
    args = ap.parse_args()

    inp = os.path.join(args.out, "input")
    if os.path.exists(inp):
        sys.exit("make_spool.py: %s exists" % inp)
    os.makedirs(inp, mode=0o750)
    for sub in ("msglog", "db"):
        os.makedirs(os.path.join(args.out, sub), mode=0o750, exist_ok=True)
    g = Gen(args.seed, args.now)
    tot = {"messages": 0, "frozen": 0, "bounces": 0, "frozen_bounces": 0, "recipients": 0}
    owners, senders = {}, {}
    for _ in range(args.messages):
        mid, h, d, info = g.message()
        where = inp
        if args.split:
            where = os.path.join(inp, mid[5])
            if not os.path.isdir(where):
                os.mkdir(where, 0o750)
        for suffix, data in (("-D", d), ("-H", h)):  # Exim writes -D first, -H last
            fd = os.open(os.path.join(where, mid + suffix), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, data)
            os.close(fd)
        tot["messages"] += 1
        tot["frozen"] += info["frozen"]
        tot["bounces"] += info["bounce"]
        tot["frozen_bounces"] += info["frozen"] and info["bounce"]
        tot["recipients"] += info["undelivered"]
        if info["owner"]:
            owners[info["owner"]] = owners.get(info["owner"], 0) + 1
        senders[info["sender"]] = senders.get(info["sender"], 0) + 1
    top = sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))
    out = ["%s %d" % kv for kv in tot.items()]
    out.append("owners %d" % len(owners))
    out.append("senders %d" % len(senders))
    out.append("top_owner %s" % top[0][0])
    out.append("top_owner_messages %d" % top[0][1])
    out.append("layout %s" % ("split" if args.split else "flat"))
    text = "\n".join(out) + "\n"
    if args.manifest:
        with open(args.manifest, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
