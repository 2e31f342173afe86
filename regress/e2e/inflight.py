"""One uid may hold at most 16384 key operations in flight (a quarter of
netproc's table).  keyproc is stopped (SIGSTOP) by the caller, so nothing
is answered: 64 connections x 256 pipelined signatures fill the uid's
share, the next request is refused at once with temporary_failure, and
once keyproc runs again every queued one is answered."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, p256_sign13

d, kp = sys.argv[1], int(sys.argv[2])
sign = p256_sign13(os.path.join(d, "p256.spki"))
NCONN, DEPTH = 64, 256          # CONN_PENDING_MAX per connection

conns = [connect(timeout=20) for _ in range(NCONN)]
for i, c in enumerate(conns):
    c.sendall(b"".join(hdr(192, 1, 2, 0, (i << 16) | j, len(sign)) + sign
                       for j in range(DEPTH)))
time.sleep(1.0)                 # netproc has read and queued them all
extra = connect(timeout=5)
extra.sendall(hdr(192, 1, 2, 0, 7, len(sign)) + sign)
h = recv_msg(extra)[0]
ok(h[3] == 7 and h[4] == 7,
   "request 16385 of the uid: temporary_failure at once (status %d)" % h[3])
os.kill(kp, signal.SIGCONT)
good = 0
for i, c in enumerate(conns):
    for j in range(DEPTH):
        h = recv_msg(c)[0]
        good += h[3] == 1 and h[4] == (i << 16) | j
ok(good == NCONN * DEPTH, "keyproc running again: all %d queued signatures "
   "answered (%d signed)" % (NCONN * DEPTH, good))
extra.sendall(hdr(192, 1, 2, 0, 8, len(sign)) + sign)
h = recv_msg(extra)[0]
ok(h[3] == 1, "the uid's share is free again: signed (status %d)" % h[3])
finish()
