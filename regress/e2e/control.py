"""lurkctl against a running lurkd (regress/e2e/control.t).

Usage: control.py work DIR [OTHER_UID]    the workload; DIR/done.json
       control.py hold DIR                 one connection, held open
       control.py check WHAT DIR           lurkctl -j WHAT against done.json
       control.py garbage DIR              bytes lurkd must survive

The workload's operations are counted here, and every number lurkctl
shows is checked against these counts and the configuration control.t
wrote (DIR/facts.json).
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, spawn_as  # noqa

SUCCESS, UNAUTHORIZED, UNKNOWN_KEY, TEMPORARY = 1, 9, 8, 7
LURKCTL = os.environ["LURKCTL"]
cmd = sys.argv[1]
d = sys.argv[3] if cmd == "check" else sys.argv[2]


def kid(name):
    with open(os.path.join(d, name + ".spki"), "rb") as f:
        return hashlib.sha256(f.read()).digest()


def sign13(name, ident, client=False):
    ctx = b"client" if client else b"server"
    tbs = b" " * 64 + b"TLS 1.3, " + ctx + b" CertificateVerify\x00" + bytes(32)
    scheme = 0x0403 if name == "p256" else 0x0804
    p = kid(name) + scheme.to_bytes(2, "big") + len(tbs).to_bytes(2, "big") + tbs
    return hdr(192, 1, 2, 0, ident, len(p)) + p


def premaster(name, ident):
    ct = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey",
                         os.path.join(d, name + ".pub")],
                        input=b"\x03\x03" + bytes(46),
                        capture_output=True, check=True).stdout
    p = kid(name) + b"\x03\x03\x03\x03" + len(ct).to_bytes(2, "big") + ct
    return hdr(192, 1, 4, 0, ident, len(p)) + p


def ask(s, msgs):
    """Pipelined requests; their statuses by id."""
    s.sendall(b"".join(msgs))
    got = {}
    for _ in msgs:
        h, p, raw = recv_msg(s)
        got[h[4]] = (h[3], p)
    return got


def lurkctl(*args):
    r = subprocess.run([LURKCTL, "-j", "-s", facts()["ctl"]] + list(args),
                       capture_output=True)
    return r.returncode, r.stdout, r.stderr


_facts = None
# around the lurkctl run: its time(3), whole seconds, is between
t_before = t_after = 0.0


def facts():
    global _facts
    if _facts is None:
        with open(os.path.join(d, "facts.json")) as f:
            _facts = json.load(f)
    return _facts


def done():
    with open(os.path.join(d, "done.json")) as f:
        return json.load(f)


def work(other):
    n = {"conns": 0}
    s = connect()
    n["conns"] += 1
    r = ask(s, [sign13("p256", 100 + i) for i in range(7)])
    n["p256_ok"] = sum(1 for v in r.values() if v[0] == SUCCESS)
    r = ask(s, [hdr(0, 1, 1, 0, 200 + i, 0) for i in range(4)] +
            [hdr(0, 1, 0, 0, 210, 0)])
    n["pings"], n["caps"] = 4, 1
    r = ask(s, [hdr(192, 1, 1, 0, 220 + i, 6) + b"\x01\x04p256"
                for i in range(2)])
    n["keyinfo_ok"] = sum(1 for v in r.values() if v[0] == SUCCESS)
    bogus = bytes(32)
    tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)
    p = bogus + b"\x04\x03" + len(tbs).to_bytes(2, "big") + tbs
    r = ask(s, [hdr(192, 1, 2, 0, 230 + i, len(p)) + p for i in range(2)])
    n["unknown"] = sum(1 for v in r.values() if v[0] == UNKNOWN_KEY)
    r = ask(s, [premaster("rsa", 240 + i) for i in range(8)])
    n["kex_ok"] = sum(1 for v in r.values() if v[0] == SUCCESS)
    n["kex_rate"] = sum(1 for v in r.values() if v[0] == TEMPORARY)
    # sign-tls12 on a key whose operations do not have it
    tbs12 = bytes(64) + b"\x03\x00\x17\x41" + bytes([4]) + bytes(64)
    p = kid("rsa") + b"\x04\x01" + len(tbs12).to_bytes(2, "big") + tbs12
    r = ask(s, [hdr(192, 1, 3, 0, 250, len(p)) + p])
    n["op_refused"] = sum(1 for v in r.values() if v[0] == 10)
    # content keyproc refuses: a client CertificateVerify
    r = ask(s, [sign13("p256", 260, client=True)])
    n["content"] = sum(1 for v in r.values() if v[0] == 11)
    s.close()
    n["unauth"] = 0
    if other is not None:
        def as_other():
            s = connect()
            r = ask(s, [sign13("p256", 300 + i) for i in range(3)])
            return all(v[0] == UNAUTHORIZED for v in r.values())
        pid = spawn_as(other, as_other)
        ok(os.waitpid(pid, 0)[1] == 0,
           "uid %d: 3 sign-tls13 with p256, unauthorized" % other)
        n["unauth"] = 3
        n["conns"] += 1
    ok(n["p256_ok"] == 7 and n["keyinfo_ok"] == 2 and n["unknown"] == 2 and
       n["kex_ok"] == 5 and n["kex_rate"] == 3 and n["op_refused"] == 1 and
       n["content"] == 1,
       "the workload: 7 signatures, 2 key_info, 2 unknown keys, 5 of 8 "
       "rsa-kex (limit 5), 1 operation refused, 1 content refused")
    with open(os.path.join(d, "done.json"), "w") as f:
        json.dump(n, f)


def hold():
    """3 pings and 2 sign-tls13 on p256, then wait with the connection
    open until DIR/hold/stop appears (DIR/hold is the holder's to write)."""
    s = connect()
    ask(s, [hdr(0, 1, 1, 0, 400 + i, 0) for i in range(3)] +
        [sign13("p256", 410 + i) for i in range(2)])
    open(os.path.join(d, "hold", "ready"), "w").close()
    for _ in range(600):
        if os.path.exists(os.path.join(d, "hold", "stop")):
            break
        time.sleep(0.1)
    s.close()


def expected():
    """What lurkd must count: the workload, and the holder's 5 requests
    (its 2 signatures unauthorized if it is another uid)."""
    n, f = done(), facts()
    hold_ok = 0 if f["holder_other"] else 2
    e = {
        ("p256", "sign-tls13", "success"): n["p256_ok"] + hold_ok,
        ("p256", "sign-tls13", "unauthorized"): n["unauth"] + 2 - hold_ok,
        ("p256", "sign-tls13", "invalid_content"): n["content"],
        ("p256", "key-info", "success"): n["keyinfo_ok"],
        ("rsa", "rsa-kex", "success"): n["kex_ok"],
        ("rsa", "rsa-kex", "temporary_failure"): n["kex_rate"],
        ("rsa", "sign-tls12", "operation_refused"): n["op_refused"],
    }
    e = {k: v for k, v in e.items() if v > 0}
    req = {"ping": n["pings"] + 3, "capabilities": n["caps"],
           "key-info": 2,
           "sign-tls13": 7 + n["unknown"] + n["content"] + 2 + n["unauth"],
           "sign-tls12": 1, "rsa-kex": 8, "other": 0}
    ref = {"unauthorized": n["unauth"] + 2 - hold_ok,
           "unknown_key": n["unknown"], "key_rate": n["kex_rate"],
           "operation_refused": n["op_refused"],
           "invalid_content": n["content"]}
    return e, req, ref, n


def cert_times(name):
    out = subprocess.run(["openssl", "x509", "-in",
                          os.path.join(d, name + ".crt"), "-noout",
                          "-startdate", "-enddate", "-dateopt", "iso_8601"],
                         capture_output=True, text=True, check=True).stdout
    t = {}
    for line in out.splitlines():
        k, v = line.split("=", 1)
        t[k] = int(time.mktime(time.strptime(v.strip(), "%Y-%m-%d %H:%M:%SZ"))
                   - time.timezone)
    return t["notBefore"], t["notAfter"]


def check_status(j):
    f = facts()
    ok(j["version"] == f["version"] and j["ready"] is True,
       "status: version %s, ready" % j["version"])
    ok(j["mode"] == ("root" if os.geteuid() == 0 else "unprivileged"),
       "status: mode %s" % j["mode"])
    with open(f["conf"], "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    ok(j["config_file"] == os.path.realpath(f["conf"]) and
       j["config_sha256"] == sha,
       "status: the configuration file and its SHA-256")
    ok(j["parent_pid"] == f["pid"] and j["generation"] >= 1,
       "status: the parent's pid, the generation")
    kp = j["keyprocs"]
    ok(len(kp) == f["keyprocs"] and
       all(k["state"] == "running" and
           open("/proc/%d/stat" % k["pid"]).read().split()[3] ==
           str(f["pid"]) for k in kp),
       "status: %d keyprocs, running, children of lurkd" % f["keyprocs"])
    want = sorted(tuple(x) for x in f["listeners"])
    got = sorted((x["kind"], x["address"]) for x in j["listeners"])
    ok(got == want and all(x["state"] == "listening"
                           for x in j["listeners"]),
       "status: every listener, of its kind, listening")
    ok(0 <= j["uptime_seconds"] <= time.time() - f["started"] + 2 and
       j["log_format"] == "text",
       "status: uptime %ds, log format text" % j["uptime_seconds"])


def check_keys(j):
    e, req, ref, n = expected()
    f = facts()
    keys = {k["name"]: k for k in j["keys"]}
    ok(sorted(keys) == ["p256", "rsa"], "keys: p256 and rsa")
    for name, typ, bits, curve in (("p256", "ec", 256, "P-256"),
                                   ("rsa", "rsa", 2048, None)):
        k = keys[name]
        h = kid(name).hex()
        nb, na = cert_times(name)
        ok(k["type"] == typ and k["bits"] == bits and k["curve"] == curve,
           "keys: %s is %s %d %s" % (name, typ, bits, curve))
        ok(k["spki_sha256"] == h and k["sha256_32"] == h[:8],
           "keys: %s's SPKI SHA-256 and sha256_32" % name)
        ok(k["subject"] == "CN=%s.test" % name and
           k["issuer"] == k["subject"],
           "keys: %s's certificate subject and issuer" % name)
        ok(k["not_after_unix"] == na and
           k["not_after"] == time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                           time.gmtime(na)) and
           k["not_before"] == time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                            time.gmtime(nb)) and
           k["days_left"] in ((na - int(t_before)) // 86400,
                              (na - int(t_after)) // 86400),
           "keys: %s's not-before, not-after (%s) and days left (%d)" %
           (name, k["not_after"], k["days_left"]))
        ok(k["allowed_uids"] == f["allow"][name]["uids"] and
           k["allowed_gids"] == f["allow"][name]["gids"] and
           k["allowed_truncated"] is False,
           "keys: %s's allowed peers" % name)
        ok(k["operations"] == f["ops"][name] and
           k["limits"] == f["limits"][name],
           "keys: %s's operations %s and limits" % (name, k["operations"]))
        for op in ("key-info", "sign-tls13", "sign-tls12", "rsa-kex"):
            key = op.replace("-", "_")
            uses = e.get((name, op, "success"), 0)
            refused = sum(v for (kn, o, r), v in e.items()
                          if kn == name and o == op and r != "success")
            ok(k["uses"][key] == uses and k["refusals"][key] == refused,
               "keys: %s %s: %d uses, %d refusals" % (name, op, uses,
                                                     refused))
    ok(keys["rsa"]["rate_refusals"]["rsa_kex"] == n["kex_rate"],
       "keys: rsa's refusals over its rate: %d" % n["kex_rate"])


def check_clients(j):
    f = facts()
    c = [x for x in j["clients"] if x["uid"] == f["holder_uid"]]
    ok(len(c) == 1, "clients: the holder's uid %d" % f["holder_uid"])
    if not c:
        return
    c = c[0]
    refused = 2 if f["holder_other"] else 0
    ok(c["transport"] == "unix" and c["identity"] ==
       "uid %d" % f["holder_uid"] and c["gid"] == f["holder_gid"] and
       c["connections"] == 1 and c["requests"] == 5 and
       c["refusals"] == refused and c["in_flight"] == 0 and
       c["backlog_bytes"] == 0,
       "clients: uid %d, unix, 1 connection, 5 requests, %d refusals, "
       "none in flight" % (f["holder_uid"], refused))


def check_stats(j):
    e, req, ref, n = expected()
    got = {(o["key"], o["operation"], o["result"]): o["count"]
           for o in j["operations"]}
    ok(got == e, "stats: operations by key, operation and result: %s" %
       sorted(got.items()))
    c = j["counters"]
    ok(c["requests"] == {k.replace("-", "_"): v for k, v in req.items()},
       "stats: requests by operation: %s" % c["requests"])
    want = {k: 0 for k in c["refusals"]}
    want.update(ref)
    ok(c["refusals"] == want, "stats: refusals by reason")
    ok(c["connections_accepted"]["unix"] == n["conns"] + 1 and
       c["connections_open"]["unix"] == 1,
       "stats: %d connections accepted, 1 open" % (n["conns"] + 1))
    ok(c["limit_connections"] == 4096 and c["clients"] >= 1 and
       c["log_lines_dropped"] == 0 and c["operations_in_flight"] == 0,
       "stats: limits, clients, log lines dropped")


def samples(j):
    return {(s["name"], tuple(sorted(s["labels"].items()))): s["value"]
            for s in j["samples"]}


def check_metrics(j):
    e, req, ref, n = expected()
    s = samples(j)
    got = {}
    for (name, labels), v in s.items():
        if name == "lurkd_operations_total" and v > 0:
            lb = dict(labels)
            got[(lb["key"], lb["operation"], lb["result"])] = v
    ok(got == e, "metrics: lurkd_operations_total equals the operations done")
    ok(all(s[("lurkd_requests_total", (("operation", k),))] == v
           for k, v in req.items()),
       "metrics: lurkd_requests_total by operation")
    ok(all(s[("lurkd_refusals_total", (("reason", k),))] == v
           for k, v in ref.items()) and
       sum(v for (name, lb), v in s.items()
           if name == "lurkd_refusals_total") == sum(ref.values()),
       "metrics: lurkd_refusals_total by reason")
    # answered by keyproc: successes and its refusals
    for op, want in (("sign-tls13", e.get(("p256", "sign-tls13", "success"),
                                          0) + n["content"]),
                     ("rsa-kex", n["kex_ok"])):
        cnt = s[("lurkd_operation_duration_seconds_count",
                 (("operation", op),))]
        inf = s[("lurkd_operation_duration_seconds_bucket",
                 (("le", "+Inf"), ("operation", op)))]
        ok(cnt == want and inf == want,
           "metrics: %s latency histogram counts %d" % (op, want))
    for name in ("p256", "rsa"):
        nb, na = cert_times(name)
        ok(s[("lurkd_certificate_not_after_timestamp_seconds",
              (("key", name),))] == na,
           "metrics: %s's certificate not-after" % name)
    ok(s[("lurkd_keys", ())] == 2 and s[("lurkd_keyprocs", ())] ==
       facts()["keyprocs"] and s[("lurkd_keyproc_restarts_total", ())] == 0
       and s[("lurkd_key_rate_limit", (("key", "rsa"),
                                       ("operation", "rsa-kex")))] == 5,
       "metrics: keys, keyprocs, restarts, the key's rate limit")


def check_health(j):
    f = facts()
    ok(j["healthy"] is True and j["ready"] is True and j["keys"] == 2 and
       j["listeners"] == len(f["listeners"]) and
       j["listening"] == len(f["listeners"]),
       "health: healthy, 2 keys, %d listeners" % len(f["listeners"]))


def check(what):
    args = {"status": ["show", "status"], "keys": ["show", "keys"],
            "clients": ["show", "clients"], "stats": ["show", "stats"],
            "metrics": ["show", "metrics"], "health": ["health"]}[what]
    global t_before, t_after
    t_before = time.time()
    rc, out, err = lurkctl(*args)
    t_after = time.time()
    ok(rc == 0, "lurkctl -j %s: exit 0 (%s)" % (" ".join(args),
                                               err.decode().strip()))
    try:
        j = json.loads(out)
    except ValueError as e:
        ok(False, "lurkctl -j %s: JSON (%s)" % (" ".join(args), e))
        return
    globals()["check_" + what](j)


def ctlmsg(typ, data=b"", peerid=1):
    return struct.pack("<IIII", typ, 16 + len(data), peerid, 0) + data


def ctl_connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(facts()["ctl"])
    return s


def ctl_answer(s):
    """The messages up to CTL_END (109) or CTL_RESULT (110); [] on EOF."""
    msgs, buf = [], b""
    while True:
        while len(buf) >= 16:
            t, ln, pid, _ = struct.unpack("<IIII", buf[:16])
            if len(buf) < ln:
                break
            msgs.append((t, buf[16:ln]))
            buf = buf[ln:]
            if t in (109, 110):
                return msgs
        chunk = s.recv(65536)
        if not chunk:
            return msgs
        buf += chunk


def result_of(msgs):
    if not msgs or msgs[-1][0] != 110:
        return None
    code = struct.unpack("<i", msgs[-1][1][:4])[0]
    return code, msgs[-1][1][4:].split(b"\0")[0].decode()


def fds_of(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def garbage():
    f = facts()
    net = f["netproc"]
    fds0 = fds_of(net)
    # a request lurkd does not know; a wrong version; a payload too many
    s = ctl_connect()
    s.sendall(ctlmsg(99))
    r = result_of(ctl_answer(s))
    ok(r is not None and r[0] == 3 and "unknown request 99" in r[1],
       "control: an unknown request: answered, bad request (%s)" % (r,))
    s.sendall(ctlmsg(1, peerid=7))
    r = result_of(ctl_answer(s))
    ok(r is not None and r[0] == 3 and "version 7" in r[1],
       "control: another protocol version: answered (%s)" % (r,))
    s.sendall(ctlmsg(2, b"xx"))
    r = result_of(ctl_answer(s))
    ok(r is not None and r[0] == 3, "control: bytes where none belong: "
       "answered (%s)" % (r,))
    s.sendall(ctlmsg(6))
    m = ctl_answer(s)
    ok(result_of(m) is not None and result_of(m)[0] == 0,
       "control: the same connection still serves: health")
    s.close()
    # a length beyond the largest message: closed, unanswered
    s = ctl_connect()
    s.sendall(struct.pack("<IIII", 1, 1 << 20, 1, 0) + bytes(100))
    ok(ctl_answer(s) == [], "control: a message of 1 MiB: closed")
    s.close()
    # random bytes
    s = ctl_connect()
    s.sendall(os.urandom(4096))
    try:
        m = ctl_answer(s)
    except (ConnectionResetError, socket.timeout):
        m = []
    ok(all(t in (109, 110) or 100 <= t <= 110 for t, _ in m),
       "control: 4 KiB of random bytes: answered or closed")
    s.close()
    # a descriptor along with a request: served, not kept
    s = ctl_connect()
    rfd = os.open("/dev/null", os.O_RDONLY)
    s.sendmsg([ctlmsg(6)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                             struct.pack("i", rfd))])
    os.close(rfd)
    r = result_of(ctl_answer(s))
    ok(r is not None and r[0] == 0,
       "control: a request with a descriptor: answered")
    s.close()
    # more connections than lurkd serves at once: the first 16 served
    conns = [ctl_connect() for _ in range(20)]
    time.sleep(0.3)
    served = 0
    for s in conns:
        try:
            s.sendall(ctlmsg(6))
            if result_of(ctl_answer(s)):
                served += 1
        except OSError:
            pass
    for s in conns:
        s.close()
    ok(served == 16, "control: 20 connections at once: 16 served (%d)" %
       served)
    # a peer that asks and never reads: closed, memory bounded
    rss0 = rss_kib(net) if fds0 is not None else None
    s = ctl_connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    sent = 0
    t0 = time.time()
    closed = False
    while time.time() - t0 < 15:
        try:
            sent += s.send(ctlmsg(5) * 64)
        except BlockingIOError:
            time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    s.close()
    ok(closed, "control: a peer that never reads is closed (%d bytes of "
       "requests sent)" % sent)
    if rss0 is not None:
        rss1 = rss_kib(net)
        ok(rss1 - rss0 < 16384, "control: netproc's memory: %d KiB, then "
           "%d KiB" % (rss0, rss1))
    time.sleep(0.5)
    if fds0 is not None:
        ok(fds_of(net) == fds0, "control: netproc holds as many "
           "descriptors as before (%d)" % fds0)


if cmd == "work":
    work(int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None)
elif cmd == "hold":
    hold()
elif cmd == "check":
    check(sys.argv[2])
elif cmd == "garbage":
    garbage()
finish()
