#!/usr/bin/env python3
"""Builds a synthetic Postfix queue_directory for the Postfix queue benchmark.

The queue files follow Postfix's documented record format (src/global/record.c, rec_type.h:
a type byte, the length 7 bits per byte with the high bit meaning "more", the payload) and the
record order of the files the real Postfix 3.7 wrote in tests/fixtures/postfix-queue/: C (the
content length, data offset, recipient count, flags, content length, SMTPUTF8 flags, each
"%15ld"), T "<sec> <usec>", A create_time=..., then for SMTP mail A log_ident/rewrite_context/
sasl_method/sasl_username, S sender, A log_client_*/client_address..., for local mail
A rewrite_context=local, F full name, S sender; per recipient A dsn_orig_rcpt=rfc822;..., O,
R (D when delivered already); M, the content as N records (pickup mail starts with pickup's
"Received: by HOST (Postfix, from userid N)"), X, E. Maildrop files are postdrop's (no C),
owned by the submitting uid, mode 0744; the others mode 0700, owned by --owner.

Mix (deterministic with --seed): one hijacked SASL account sending a burst (40 %), 300 other
SASL accounts (Zipf-like, 35 %), sendmail/pickup as www-data, nobody and root (10 %),
unauthenticated SMTP (10 %), bounces (5 %); 1 to 5 recipients, some already delivered; bodies
of 1-4 kB, 3 % of 30 kB. Queues: deferred 90 % (hashed by the first character of the id, as
hash_queue_depth = 1 does for short ids), hold 5 %, active 3 %, incoming 1 %, maildrop 1 %.

Writes the totals `postqueue -j` and the reader must report as "key value" lines to
--manifest: messages, recipients, bytes, messages per queue, the top owner and its count.

  make_postfix_queue.py --out DIR --messages N [--seed S] [--owner USER] [--manifest FILE]
"""

import argparse
import os
import pwd
import random
import time


def rec(rtype, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    out = bytearray(rtype.encode())
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            break
    return bytes(out) + payload


LINES = []  # a pool of body lines, made once


def body_lines(size, rng):
    if not LINES:
        LINES.extend("".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(76))
                     for _ in range(1000))
    lines = []
    total = 0
    while total < size:
        line = rng.choice(LINES)
        lines.append(line)
        total += len(line) + 3
    return lines


def queue_file(qid, arrival, sender, rcpts, done, kind, owner, uid, rng, size):
    env = rec("T", "%d %d" % (arrival, rng.randrange(1000000)))
    env += rec("A", "create_time=%d" % arrival)
    if kind in ("auth", "smtp"):
        env += rec("A", "log_ident=" + qid) + rec("A", "rewrite_context=remote")
        if kind == "auth":
            env += rec("A", "sasl_method=PLAIN") + rec("A", "sasl_username=" + owner)
        env += rec("S", sender)
        ip = "198.51.100.%d" % rng.randrange(1, 255)
        for name, value in (("log_client_name", "unknown"), ("log_client_address", ip),
                            ("log_client_port", "40000"), ("log_message_origin", "unknown[%s]" % ip),
                            ("log_helo_name", "client"), ("log_protocol_name", "ESMTPA"),
                            ("client_name", "unknown"), ("client_address", ip),
                            ("client_port", "40000"), ("helo_name", "client"),
                            ("protocol_name", "ESMTPA"), ("client_address_type", "2")):
            env += rec("A", "%s=%s" % (name, value))
        first = ["Received: from client (unknown [%s])" % ip,
                 "\tby mx.example.test (Postfix) with ESMTPA id %s;" % qid,
                 "\tTue,  1 Dec 2026 10:00:00 +0000 (UTC)"]
    elif kind == "local":
        env += rec("A", "rewrite_context=local") + rec("F", owner) + rec("S", sender)
        first = ["Received: by mx.example.test (Postfix, from userid %d)" % uid,
                 "\tid %s; Tue,  1 Dec 2026 10:00:00 +0000 (UTC)" % qid]
    else:  # bounce
        env += rec("A", "log_message_origin=local") + rec("A", "trace_flags=0") + rec("S", "")
        first = ["Received: by mx.example.test (Postfix)",
                 "\tid %s; Tue,  1 Dec 2026 10:00:00 +0000 (UTC)" % qid]
    for i, r in enumerate(rcpts):
        env += rec("A", "dsn_orig_rcpt=rfc822;" + r) + rec("O", r) + rec("D" if i < done else "R", r)
    headers = first + ["Subject: offer %s" % qid, "From: <%s>" % sender, "To: <%s>" % rcpts[0], ""]
    content = b"".join(rec("N", line) for line in headers + body_lines(size, rng))
    fields = "%15d %15d %15d %15d %15d %15d"
    head_len = len(rec("C", fields % (0, 0, 0, 0, 0, 0)))
    data_offset = head_len + len(env) + 2  # after C, the envelope and M
    c = rec("C", fields % (len(content), data_offset, len(rcpts), 0, len(content), 0))
    return c + env + rec("M", "") + content + rec("X", "") + rec("E", ""), len(content)


def maildrop_file(arrival, sender, rcpts, owner, rng, size):
    env = rec("T", "%d %d" % (arrival, rng.randrange(1000000)))
    env += rec("A", "rewrite_context=local") + rec("F", owner) + rec("S", sender)
    for r in rcpts:
        env += rec("R", r)
    content = b"".join(rec("N", line) for line in ["Subject: md", ""] + body_lines(size, rng))
    return env + rec("M", "") + content + rec("X", "") + rec("E", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--owner", default="mail", help="owner of the queue files and directories")
    ap.add_argument("--manifest")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    owner_pw = pwd.getpwnam(a.owner)
    locals_ = [("www-data", 33), ("nobody", 65534), ("root", 0)]
    accounts = ["user%03d@example.net" % i for i in range(300)]
    weights = [1.0 / (i + 1) for i in range(len(accounts))]
    queues = ["maildrop", "incoming", "active", "deferred", "hold"]
    for q in queues:
        os.makedirs(os.path.join(a.out, q), mode=0o700, exist_ok=True)
    now = int(time.time())
    totals = {"messages": 0, "recipients": 0, "bytes": 0}
    per_queue = dict.fromkeys(queues, 0)
    per_owner = {}
    made_dirs = set()
    for n in range(a.messages):
        # Distinct short queue ids (upper-case hex, 11 characters), spread over the hash.
        qid = "%011X" % ((n * 2654435761 + 12345) % 16**11)
        p = rng.random()
        if p < 0.40:
            kind, owner, uid = "auth", "leaked@example.net", -1
        elif p < 0.75:
            kind, owner, uid = "auth", rng.choices(accounts, weights)[0], -1
        elif p < 0.85:
            kind = "local"
            owner, uid = rng.choice(locals_)
        elif p < 0.95:
            kind, owner, uid = "smtp", "", -1
        else:
            kind, owner, uid = "bounce", "", -1
        q = rng.random()
        queue = ("deferred" if q < 0.90 else "hold" if q < 0.95 else "active" if q < 0.98
                 else "incoming" if q < 0.99 else "maildrop")
        if queue == "maildrop" and kind != "local":
            queue = "deferred"
        sender = "" if kind == "bounce" else "sender%d@example.org" % rng.randrange(5000)
        rcpts = ["rcpt%d@example.com" % rng.randrange(100000) for _ in range(rng.randint(1, 5))]
        done = rng.randint(0, len(rcpts) - 1) if len(rcpts) > 1 and rng.random() < 0.1 else 0
        size = 30000 if rng.random() < 0.03 else rng.randint(1000, 4000)
        arrival = now - rng.randrange(86400)
        if queue == "maildrop":
            data = maildrop_file(arrival, sender, rcpts, owner, rng, size)
            path = os.path.join(a.out, queue, qid)
            msg_size = len(data)  # no size record: showq reports the file size
            done = 0
        else:
            data, msg_size = queue_file(qid, arrival, sender, rcpts, done, kind, owner, uid, rng,
                                        size)
            if queue == "deferred":
                sub = os.path.join(a.out, queue, qid[0])
                if sub not in made_dirs:
                    os.makedirs(sub, mode=0o700, exist_ok=True)
                    os.chown(sub, owner_pw.pw_uid, owner_pw.pw_gid)
                    made_dirs.add(sub)
                path = os.path.join(sub, qid)
            else:
                path = os.path.join(a.out, queue, qid)
        with open(path, "wb") as f:
            f.write(data)
        if queue == "maildrop":
            os.chmod(path, 0o744)
            os.chown(path, uid, -1)
        else:
            os.chmod(path, 0o700)
            os.chown(path, owner_pw.pw_uid, owner_pw.pw_gid)
        if queue == "deferred":  # the next retry time, as qmgr sets it
            os.utime(path, (now + 3600, now + 3600))
        totals["messages"] += 1
        totals["recipients"] += len(rcpts) - done
        totals["bytes"] += msg_size
        per_queue[queue] += 1
        if owner:
            per_owner[owner] = per_owner.get(owner, 0) + 1
    for q in queues:
        os.chown(os.path.join(a.out, q), owner_pw.pw_uid, owner_pw.pw_gid)
    os.chmod(os.path.join(a.out, "maildrop"), 0o1733)
    top = max(per_owner.items(), key=lambda kv: (kv[1], kv[0]))
    if a.manifest:
        with open(a.manifest, "w") as f:
            for k, v in totals.items():
                f.write("%s %d\n" % (k, v))
            for q in queues:
                f.write("queue_%s %d\n" % (q, per_queue[q]))
            f.write("top_owner %s\n" % top[0])
            f.write("top_owner_messages %d\n" % top[1])
            f.write("owners %d\n" % len(per_owner))


if __name__ == "__main__":
    main()
