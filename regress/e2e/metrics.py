"""listen on http against a running lurkd (regress/e2e/metrics.t).

Usage: metrics.py get URL_PATH HOST PORT    prints status, then the body
       metrics.py work DIR [OTHER_UID]      the workload; DIR/done.json
       metrics.py check DIR HOST PORT       /metrics against done.json
       metrics.py http DIR HOST PORT        what else the responder says
"""
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, spawn_as  # noqa
from lurkclient import p256_sign13  # noqa

SUCCESS = 1


def raw(host, port, data, timeout=5.0):
    """Send data, read until the server closes: the whole response."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    s.sendall(data)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def parse(resp):
    """(status, headers dict, body) of an HTTP response."""
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.([01]) (\d{3}) ", lines[0])
    hd = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hd[k.strip().lower()] = v.strip()
    return (int(m.group(2)) if m else None), hd, body, (m.group(1) if m
                                                        else None)


def get(path, host, port, version="1.1"):
    return parse(raw(host, port, ("GET %s HTTP/%s\r\nHost: lurkd\r\n\r\n" %
                                  (path, version)).encode()))


def samples(text):
    s = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            raise ValueError("not a sample: %r" % line)
        labels = tuple(sorted(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"',
                                         m.group(2) or "")))
        s[(m.group(1), labels)] = float(m.group(3))
    return s


def work(d, other):
    n = {"conns": 0}
    s = connect()
    n["conns"] += 1
    p = p256_sign13(os.path.join(d, "p256.spki"))
    s.sendall(b"".join(hdr(192, 1, 2, 0, 10 + i, len(p)) + p
                       for i in range(9)))
    n["ok"] = sum(1 for _ in range(9) if recv_msg(s)[0][3] == SUCCESS)
    bad = bytes(32) + p[32:]
    s.sendall(b"".join(hdr(192, 1, 2, 0, 30 + i, len(bad)) + bad
                       for i in range(2)))
    n["unknown"] = sum(1 for _ in range(2) if recv_msg(s)[0][3] == 8)
    s.sendall(b"".join(hdr(0, 1, 1, 0, 40 + i, 0) for i in range(3)))
    n["pings"] = sum(1 for _ in range(3) if recv_msg(s)[0][3] == SUCCESS)
    s.sendall(hdr(7, 1, 1, 0, 50, 0))
    n["ext"] = 1 if recv_msg(s)[0][3] == 4 else 0
    s.close()
    n["unauth"] = 0
    if other is not None:
        def as_other():
            s = connect()
            s.sendall(b"".join(hdr(192, 1, 2, 0, 60 + i, len(p)) + p
                               for i in range(2)))
            return all(recv_msg(s)[0][3] == 9 for _ in range(2))
        ok(os.waitpid(spawn_as(other, as_other), 0)[1] == 0,
           "uid %d: 2 signatures refused, unauthorized" % other)
        n["unauth"] = 2
        n["conns"] += 1
    ok(n["ok"] == 9 and n["unknown"] == 2 and n["pings"] == 3 and
       n["ext"] == 1, "the workload: 9 signatures, 2 unknown keys, 3 pings, "
       "1 unknown extension")
    with open(os.path.join(d, "done.json"), "w") as f:
        json.dump(n, f)


def check(d, host, port):
    with open(os.path.join(d, "done.json")) as f:
        n = json.load(f)
    st, hd, body, ver = get("/metrics", host, port)
    ok(st == 200 and hd.get("content-type") ==
       "text/plain; version=0.0.4; charset=utf-8" and
       int(hd.get("content-length", -1)) == len(body) and
       hd.get("connection") == "close",
       "GET /metrics: 200, text format 0.0.4, its length, Connection: close")
    with open(os.path.join(d, "metrics.txt"), "wb") as f:
        f.write(body)
    s = samples(body.decode())

    def v(name, **labels):
        return s.get((name, tuple(sorted(labels.items()))))
    ok(v("lurkd_operations_total", key="p256", operation="sign-tls13",
         result="success") == n["ok"],
       "metrics: %d signatures by p256 counted" % n["ok"])
    ok(v("lurkd_operations_total", key="p256", operation="sign-tls13",
         result="unauthorized") == (n["unauth"] or None),
       "metrics: %d unauthorized counted" % n["unauth"])
    ok(v("lurkd_requests_total", operation="ping") == n["pings"] and
       v("lurkd_requests_total", operation="sign-tls13") ==
       n["ok"] + n["unknown"] + n["unauth"] and
       v("lurkd_requests_total", operation="other") == n["ext"],
       "metrics: requests by operation")
    ok(v("lurkd_refusals_total", reason="unknown_key") == n["unknown"] and
       v("lurkd_refusals_total", reason="invalid_extension") == n["ext"] and
       v("lurkd_refusals_total", reason="unauthorized") == n["unauth"] and
       sum(x for (name, lb), x in s.items()
           if name == "lurkd_refusals_total") ==
       n["unknown"] + n["ext"] + n["unauth"],
       "metrics: refusals by reason, none else")
    buckets = sorted((float(dict(lb)["le"]), x) for (name, lb), x in
                     s.items() if name ==
                     "lurkd_operation_duration_seconds_bucket" and
                     dict(lb)["operation"] == "sign-tls13")
    ok(len(buckets) == 17 and buckets[-1][0] == float("inf") and
       buckets[-1][1] == n["ok"] and
       all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])) and
       v("lurkd_operation_duration_seconds_count",
         operation="sign-tls13") == n["ok"] and
       0 < v("lurkd_operation_duration_seconds_sum",
             operation="sign-tls13") < 60,
       "metrics: the sign-tls13 latency histogram: %d observations, "
       "cumulative buckets" % n["ok"])
    ok(v("lurkd_connections_accepted_total", transport="unix") ==
       n["conns"] and v("lurkd_connections", transport="unix") == 0,
       "metrics: %d connections accepted, none open" % n["conns"])
    out = subprocess.run(["openssl", "x509", "-in",
                          os.path.join(d, "p256.crt"), "-noout", "-enddate",
                          "-dateopt", "iso_8601"], capture_output=True,
                         text=True, check=True).stdout.strip()
    na = time.mktime(time.strptime(out.split("=", 1)[1],
                                   "%Y-%m-%d %H:%M:%SZ")) - time.timezone
    ok(v("lurkd_certificate_not_after_timestamp_seconds", key="p256") == na,
       "metrics: p256's certificate not-after")
    ok(v("lurkd_ready") == 1 and v("lurkd_keys") == 1 and
       v("lurkd_keyproc_restarts_total") == 0 and
       v("lurkd_build_info", version=n.get("version", "0.1")) == 1,
       "metrics: ready, keys, restarts, build")


def http(d, host, port, busy):
    st, hd, body, ver = get("/nope", host, port)
    ok(st == 404, "GET /nope: 404")
    st, hd, body, ver = parse(raw(host, port, b"POST /metrics HTTP/1.1\r\n"
                                  b"Content-Length: 0\r\n\r\n"))
    ok(st == 405 and hd.get("allow") == "GET", "POST /metrics: 405, "
       "Allow: GET")
    st, hd, body, ver = get("/livez", host, port, "1.0")
    ok(st == 200 and ver == "0" and body == b"ok\n",
       "GET /livez HTTP/1.0: 200 in HTTP/1.0, ok")
    st, hd, body, ver = get("/metrics?name=x", host, port)
    ok(st == 200 and b"lurkd_ready 1" in body, "GET /metrics?query: 200")
    st, hd, body, ver = parse(raw(host, port, b"GARBAGE\r\n\r\n"))
    ok(st == 400, "a request line that is none: 400")
    st, hd, body, ver = get("/livez", host, port, "2.0")
    ok(st == 505, "HTTP/2.0: 505")
    st, hd, body, ver = parse(raw(host, port, b"GET /livez HTTP/1.1\r\n"
                                  b"X: " + b"a" * 5000 + b"\r\n\r\n"))
    ok(st == 431, "headers over 4 KiB: 431")
    st, hd, body, ver = parse(raw(host, port, b"GET /livez HTTP/1.1\r\n"
                                  b"Content-Length: 5\r\n\r\nhello"))
    ok(st == 400, "a request with a body: 400")
    st, hd, body, ver = parse(raw(host, port, b"GET /livez HTTP/1.1\r\n"
                                  b"X: a\x01b\r\n\r\n"))
    ok(st == 400, "a control character in a header: 400")
    # 20 at once: 16 are served, the others closed unanswered
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks = []
    for _ in range(20):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((host, port))
        socks.append(s)
    time.sleep(0.5)
    served = 0
    for s in socks:
        try:
            s.sendall(b"GET /livez HTTP/1.1\r\n\r\n")
            if s.recv(100).startswith(b"HTTP/1.1 200"):
                served += 1
        except OSError:
            pass
        s.close()
    ok(served == 16 - busy, "20 connections at once, %d busy already: %d "
       "served (%d)" % (busy, 16 - busy, served))


cmd = sys.argv[1]
if cmd == "get":
    st, hd, body, ver = get(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    sys.stdout.write("%s\n%s" % (st, body.decode()))
    sys.exit(0)
elif cmd == "work":
    work(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 and
         sys.argv[3] else None)
elif cmd == "check":
    check(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif cmd == "http":
    http(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
finish()
