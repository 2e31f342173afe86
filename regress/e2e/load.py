"""1,000 concurrent connections: netproc's memory per idle connection, then
pipelined requests on every connection, every answer matched to its id.

Usage: load.py NETPROC_PID DIR   (DIR/p256.spki: the key to sign with)
"""
import os
import resource
import selectors
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, HDR, p256_sign13, rss_kib

N, DEPTH = 1000, 4
pid, d = sys.argv[1], sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))


before = rss_kib(pid)
conns = [connect(timeout=20) for _ in range(N)]
# a ping on each, so netproc has accepted and set up every connection
for c in conns:
    c.sendall(hdr(0, 1, 1, 0, 1, 0))
for c in conns:
    c.recv(16)
after = rss_kib(pid)
per = (after - before) * 1024 / N
print("netproc VmRSS %d KiB -> %d KiB with %d idle connections: %.0f bytes each"
      % (before, after, N, per))
ok(per <= 16 * 1024, "netproc memory per idle connection %.0f bytes <= 16 KiB" % per)

sign = p256_sign13(os.path.join(d, "p256.spki"))

# DEPTH pipelined requests per connection (pings and signatures mixed)
sel = selectors.DefaultSelector()
want = {}
for i, c in enumerate(conns):
    c.setblocking(False)
    msgs = b""
    for j in range(DEPTH):
        ident = (i << 8) | j
        if j % 2:
            msgs += hdr(192, 1, 2, 0, ident, len(sign)) + sign
        else:
            msgs += hdr(0, 1, 1, 0, ident, 0)
        want[ident] = j % 2
    c.sendall(msgs)
    sel.register(c, selectors.EVENT_READ, [i, b""])
got, bad = {}, 0
import time
deadline = time.time() + 60
while len(got) < len(want) and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        c, (i, buf) = key.fileobj, key.data
        try:
            chunk = c.recv(65536)
        except BlockingIOError:
            continue
        buf += chunk
        while len(buf) >= 16:
            des, ver, typ, st, ident, length = HDR.unpack(buf[:16])
            if len(buf) < 16 + length:
                break
            if ident >> 8 != i or ident in got or st != 1:
                bad += 1
            got[ident] = (des, buf[16:16 + length])
            buf = buf[16 + length:]
        key.data[1] = buf
lost = len(want) - len(got)
ok(lost == 0 and bad == 0,
   "%d requests on %d connections: %d lost, %d mismatched or failed"
   % (len(want), N, lost, bad))
sigs = sum(1 for k, v in got.items() if want.get(k) == 1 and v[0] == 192 and
           len(v[1]) > 2)
ok(sigs == N * DEPTH // 2, "%d signatures among the answers" % sigs)
for c in conns:
    c.close()
finish()
