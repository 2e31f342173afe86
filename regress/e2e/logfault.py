"""Key service while the log cannot be written: many log lines (debug
connection lines, refusals), then signatures must still be answered."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, p256_sign13

d = sys.argv[1]
label = sys.argv[2]
sign = p256_sign13(os.path.join(d, "p256.spki"))

# ~1,500 connections, each logged twice with -v (well over a pipe's
# 64 KiB), and a refusal on each (unknown key: one more line)
start = time.time()
for i in range(1500):
    s = connect(timeout=5)
    bad = bytes(32) + sign[32:]     # a key id nobody has
    s.sendall(hdr(192, 1, 2, 0, i, len(bad)) + bad)
    try:
        h = recv_msg(s)[0]
    except (socket.timeout, EOFError):
        ok(False, "%s: connection %d answered" % (label, i))
        finish()
    s.close()
ok(True, "%s: 1500 connections with a refusal each answered (%.1f s)"
   % (label, time.time() - start))

s = connect(timeout=5)
good = 0
for i in range(200):
    s.sendall(hdr(192, 1, 2, 0, 10000 + i, len(sign)) + sign)
    h, p, raw = recv_msg(s)
    good += h[3] == 1 and h[4] == 10000 + i and len(p) > 64
ok(good == 200, "%s: 200 P-256 signatures after that: %d signed" % (label, good))
finish()
