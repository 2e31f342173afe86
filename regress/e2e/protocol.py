"""LURK protocol checks against a running lurkd (socket in LURK_SOCKET).

Usage: protocol.py [label]    -- every result line carries the label
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, recv_exact, closed

label = (" [%s]" % sys.argv[1]) if len(sys.argv) > 1 else ""
whole = os.environ.get("LURK_LENMODE") == "message"


def L(plen):
    return plen + 16 if whole else plen


def t(what):
    return what + label


s = connect()

# drafts §1.4: ping with the very bytes of the example
ping = bytes.fromhex("00010100d5a2a1b1952d9945") + L(0).to_bytes(4, "big")
s.sendall(ping)
_, _, raw = recv_msg(s, whole)
ok(raw == bytes.fromhex("00010101d5a2a1b1952d9945") + L(0).to_bytes(4, "big"),
   t("ping answered with the exact bytes of drafts §1.4"))

# capabilities: the example request; lurk v1 listed, 4-byte lurk_state
cap = bytes.fromhex("000100000102030405060708") + L(0).to_bytes(4, "big")
s.sendall(cap)
h, p, raw = recv_msg(s, whole)
ok(raw[:12] == bytes.fromhex("000100010102030405060708"),
   t("capabilities response header echoes designation, type, id; success"))
n = int.from_bytes(p[:2], "big")
exts = [p[2 + i:4 + i] for i in range(0, n, 2)]
ok(len(p) == 2 + n + 4 and b"\x00\x01" in exts,
   t("capabilities lists lurk v1 and ends with a 4-byte lurk_state"))
ok(b"\xc0\x01" in exts, t("capabilities lists the edge extension (192) v1"))
state = p[-4:]

# errors: status per designation, payload = lurk_state
ident = 0x1122334455667788


def err_case(req, expect_hdr4, what):
    s.sendall(req)
    h, p, raw = recv_msg(s, whole)
    good = (raw[:4] == bytes(expect_hdr4) and h[4] == ident and
            h[5] == L(4) and p == state)
    ok(good, t(what))


err_case(hdr(5, 1, 0, 0, ident, L(0)), [5, 1, 0, 4],
         "unknown designation 5 -> invalid_extension (4) + lurk_state")
err_case(hdr(0, 2, 1, 0, ident, L(0)), [0, 2, 1, 4],
         "lurk version 2 -> invalid_extension (4)")
err_case(hdr(2, 2, 2, 0, ident, L(0)), [2, 2, 2, 4],
         "tls13 version 2 -> invalid_extension (4)")
err_case(hdr(1, 0, 2, 0, ident, L(0)), [1, 0, 2, 4],
         "tls12 version 0 -> invalid_extension (4)")
err_case(hdr(0, 1, 9, 0, ident, L(0)), [0, 1, 9, 5],
         "lurk type 9 -> invalid_type (5)")
err_case(hdr(0, 1, 1, 1, ident, L(0)), [0, 1, 1, 6],
         "status success in a request -> invalid_status (6)")
err_case(hdr(0, 1, 1, 0, ident, L(3)) + b"abc", [0, 1, 1, 3],
         "ping with a payload -> invalid_format (3)")
err_case(hdr(0, 1, 0, 0, ident, L(1)) + b"x", [0, 1, 0, 3],
         "capabilities with a payload -> invalid_format (3)")

# the connection still works after all those errors
s.sendall(hdr(0, 1, 1, 0, 42, L(0)))
h, p, raw = recv_msg(s, whole)
ok(h[3] == 1 and h[4] == 42, t("connection keeps working after errors"))

# pipelining: 2000 pings in one write, answered in order
reqs = b"".join(hdr(0, 1, 1, 0, i, L(0)) for i in range(2000))
s.sendall(reqs)
ids = []
for i in range(2000):
    h, p, raw = recv_msg(s, whole)
    ids.append(h[4])
ok(ids == list(range(2000)), t("2000 pipelined pings answered in order"))

# a message split over many writes
b = hdr(0, 1, 1, 0, 77, L(0))
for i in range(len(b)):
    s.sendall(b[i:i + 1])
    time.sleep(0.002)
h, p, raw = recv_msg(s, whole)
ok(h[4] == 77 and h[3] == 1, t("a request sent byte by byte is answered"))

# many connections at once (within the per-uid default of 256)
conns = [connect() for _ in range(250)]
for i, c in enumerate(conns):
    c.sendall(hdr(0, 1, 1, 0, 5000 + i, L(0)))
good = 0
for i, c in enumerate(conns):
    h, p, raw = recv_msg(c, whole)
    good += h[4] == 5000 + i
    c.close()
ok(good == 250, t("250 simultaneous connections each answered"))

# a peer that sends a flood and never reads does not stall the others
hog = connect()
hog.setblocking(False)
sent = 0
flood = b"".join(hdr(0, 1, 1, 0, i, L(0)) for i in range(4096))
deadline = time.time() + 3
while time.time() < deadline:
    try:
        sent += hog.send(flood)
    except BlockingIOError:
        time.sleep(0.01)
        try:
            hog.send(flood[:16])
        except BlockingIOError:
            break
ok(sent > 0, t("flooding peer got its requests in"))
s.sendall(hdr(0, 1, 1, 0, 99, L(0)))
h, p, raw = recv_msg(s, whole)
ok(h[4] == 99, t("others are served while a peer does not read"))
hog.close()

# oversize length: refused without the body, connection closed, others fine
bad = connect()
bad.sendall(hdr(0, 1, 1, 0, 7, 0x7fffffff))
h, p, raw = recv_msg(bad, whole)
ok(raw[:4] == bytes([0, 1, 1, 3]) and p == state,
   t("oversize length -> invalid_format without reading the body"))
ok(closed(bad), t("connection closed after an oversize length"))
bad.close()

# garbage bytes on one connection, others unaffected
g = connect()
g.sendall(os.urandom(1) + b"\xff" * 15 + b"\x00" * 4)
try:
    recv_exact(g, 16)
    got = True
except Exception:
    got = False
ok(got, t("garbage header is answered with an error"))
g.close()
s.sendall(hdr(0, 1, 0, 0, 100, L(0)))
h, p, raw = recv_msg(s, whole)
ok(h[4] == 100 and p[-4:] == state,
   t("first connection unaffected by a misbehaving one"))

# half a message then close: no crash, next connection fine
h2 = connect()
h2.sendall(hdr(0, 1, 1, 0, 1, L(0))[:9])
h2.close()
time.sleep(0.1)
s2 = connect()
s2.sendall(hdr(0, 1, 1, 0, 3, L(0)))
h, p, raw = recv_msg(s2, whole)
ok(h[4] == 3, t("lurkd serves after a peer left mid-header"))
s.close()
s2.close()
finish()
