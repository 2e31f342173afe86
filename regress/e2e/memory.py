"""netproc's memory under a key_info flood from a peer that never reads.

Usage: memory.py NETPROC_PID OTHER_UID

The bound, from netproc.h: a connection stops being parsed once its
answers not yet read and requests not yet answered pass CONN_OUT_HIGH
(256 KiB), or once its uid's pass CLIENT_OUT_HIGH (4 MiB) and it has
some of its own; the answer that crosses a limit is kept whole.  What a
connection holds is then at most its output buffer (doubled as it grew:
2 x (limit + one answer)) and the input read but not parsed (one read,
NETPROC_READ_SIZE 64 KiB, and one incomplete message, max message size
16 KiB).  So, for n connections of one uid:
    growth <= min(n x (2 x (256 KiB + A) + 80 KiB),
                  2 x (4 MiB + n x A) + n x 80 KiB) + 4 MiB
where A is one key_info answer and 4 MiB is for malloc's own slack.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, as_uid, rss_kib, \
    HDR

KIB = 1024
CONN_OUT_HIGH, CLIENT_OUT_HIGH = 256 * KIB, 4096 * KIB
HELD_IN = 64 * KIB + 16 * KIB
SLACK = 4096 * KIB
N1, N2 = 6, 54          # connections of the flood: first, then in all
REQS = 12000            # key_info requests offered on each connection
pid, other = sys.argv[1], int(sys.argv[2])
ki = bytes([1, 3]) + b"big"


def key_info(s, ident):
    s.sendall(hdr(192, 1, 1, 0, ident, len(ki)) + ki)
    h, p, raw = recv_msg(s)
    return h[3] == 1 and h[4] == ident and len(p) > 30000, len(raw)


def flood(conns, bufs):
    """Write requests until no socket takes more for half a second."""
    last = time.time()
    while time.time() - last < 0.5:
        for i, c in enumerate(conns):
            if not bufs[i]:
                continue
            try:
                n = c.send(bufs[i])
            except BlockingIOError:
                continue
            bufs[i] = bufs[i][n:]
            last = time.time()
        time.sleep(0.01)


def served():
    """The other uid: key_info and a ping, answered while the flood
    holds its connections."""
    s = connect(timeout=5)
    good, n = key_info(s, 77)
    s.sendall(hdr(0, 1, 1, 0, 78, 0))
    h = recv_msg(s)[0]
    return good and h[3] == 1 and h[4] == 78


def bound(n, answer):
    per_conn = n * (2 * (CONN_OUT_HIGH + answer) + HELD_IN)
    per_uid = 2 * (CLIENT_OUT_HIGH + n * answer) + n * HELD_IN
    return min(per_conn, per_uid) + SLACK


warm = connect()
good, A = key_info(warm, 1)
ok(good, "key_info answered: %d bytes with the chain" % A)
ok(as_uid(other, served), "uid %d served before the flood" % other)
base = rss_kib(pid) * KIB
conns, bufs = [], []


def more(n):
    for _ in range(n):
        c = connect()
        c.setblocking(False)
        conns.append(c)
        bufs.append(b"".join(hdr(192, 1, 1, 0, j, len(ki)) + ki
                             for j in range(REQS)))
    flood(conns, bufs)
    time.sleep(0.3)


more(N1)
grown = rss_kib(pid) * KIB - base
lim = bound(N1, A)
print("# netproc VmRSS %d KiB before, +%d KiB with %d connections flooding "
      "(bound %d KiB)" % (base // KIB, grown // KIB, N1, lim // KIB))
ok(grown <= lim, "%d connections that do not read: netproc grew %d KiB "
   "<= %d KiB" % (N1, grown // KIB, lim // KIB))
if grown > lim:
    finish()            # more connections would take gigabytes
ok(as_uid(other, served), "uid %d served during the flood" % other)

more(N2 - N1)
grown = rss_kib(pid) * KIB - base
lim = bound(N2, A)
print("# netproc VmRSS +%d KiB with %d connections flooding (bound %d KiB, "
      "without the uid's limit %d KiB)" % (grown // KIB, N2, lim // KIB,
                                           N2 * (2 * (CONN_OUT_HIGH + A) +
                                                 HELD_IN) // KIB))
ok(grown <= lim, "%d connections: netproc grew %d KiB <= %d KiB (the uid's "
   "limit)" % (N2, grown // KIB, lim // KIB))
ok(as_uid(other, served), "uid %d still served" % other)

# a flooding connection starts to read: its held-back requests are
# answered, in order, none lost
c = conns[0]
c.setblocking(True)
c.settimeout(10)
got = 0
try:
    for j in range(500):
        h = recv_msg(c)[0]
        if h[3] != 1 or h[4] != j:
            break
        got += 1
except (socket.timeout, EOFError):
    pass
ok(got == 500, "a flooding connection that reads gets its answers in "
   "order: %d of the first 500" % got)
for c in conns:
    c.close()
time.sleep(0.3)
ok(key_info(warm, 2)[0], "key_info served after the flood")
finish()
