"""One uid floods RSA-2048 signatures; another asks for P-256 signatures
one at a time and must get each within 250 ms (the issue's bound: a
small multiple of one RSA signature on this machine).

Usage: fairness.py DIR VICTIM_UID   (DIR/rsa.spki, DIR/p256.spki)
VICTIM_N (default 60): the victim's signatures, with and without flood;
FLOOD (pipe, burst or both, the default): the kinds of flood.
"""
import hashlib
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, spawn_as, \
    p256_sign13

d, victim = sys.argv[1], int(sys.argv[2])
N = int(os.environ.get("VICTIM_N", "60"))
FLOOD = os.environ.get("FLOOD", "both")
BOUND_MS = 250
PIPE_CONNS, PIPE_DEPTH = 4, 4000        # pipelined flood
BURST = 300                             # connect, send, close


def rsa_sign13():
    with open(os.path.join(d, "rsa.spki"), "rb") as f:
        kid = hashlib.sha256(f.read()).digest()
    tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)
    return kid + (0x0804).to_bytes(2, "big") + len(tbs).to_bytes(2, "big") \
        + tbs


def flooder(wr):
    """uid 0: keep keyprocs busy with RSA signatures until SIGTERM;
    writes the number of signatures it got to wr at the end."""
    sign = rsa_sign13()
    req = hdr(192, 1, 2, 0, 1, len(sign)) + sign
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    got = [0]

    def pipelined():
        s = connect(timeout=60)

        def reader():
            try:
                while True:
                    if recv_msg(s)[0][3] == 1:
                        got[0] += 1
            except (OSError, EOFError):
                pass
        threading.Thread(target=reader, daemon=True).start()
        while not stop.is_set():
            try:
                s.sendall(req * PIPE_DEPTH)
            except OSError:
                return

    def bursts():
        while not stop.is_set():
            try:
                s = connect()
                s.sendall(req * BURST)
                s.close()
            except OSError:
                pass
            time.sleep(0.005)
    ts = []
    if FLOOD in ("pipe", "both"):
        ts += [threading.Thread(target=pipelined, daemon=True)
               for _ in range(PIPE_CONNS)]
    if FLOOD in ("burst", "both"):
        ts.append(threading.Thread(target=bursts, daemon=True))
    for t in ts:
        t.start()
    stop.wait()
    os.write(wr, b"%d\n" % got[0])
    return True


def victim_run(wr):
    """The other uid: N signatures one at a time; their latencies (ms),
    or -STATUS for a failed one (-256: no answer), one per line on wr."""
    sign = p256_sign13(os.path.join(d, "p256.spki"))
    s = connect(timeout=60)
    out = []
    for i in range(N):
        t = time.monotonic()
        st = 256
        try:
            s.sendall(hdr(192, 1, 2, 0, i, len(sign)) + sign)
            h = recv_msg(s)[0]
            st = h[3] if h[4] == i else 256
        except (OSError, EOFError):
            pass
        ms = (time.monotonic() - t) * 1000
        out.append(ms if st == 1 else -st)
        if st != 1:
            break
        time.sleep(0.01)
    os.write(wr, "".join("%.3f\n" % x for x in out).encode())
    return True


def run_as(uid, fn, wait=True):
    rd, wr = os.pipe()
    pid = spawn_as(uid, lambda: fn(wr))
    os.close(wr)
    if not wait:
        return pid, rd
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    os.waitpid(pid, 0)
    return [float(x) for x in data.split()]


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


alone = run_as(victim, victim_run)
ok(len(alone) == N and min(alone) >= 0,
   "uid %d alone: %d P-256 signatures (p50 %.1f ms, p99 %.1f ms)"
   % (victim, len(alone), pct(alone, 50), pct(alone, 99)))


def under_flood():
    """The victim's latencies (negative: a refusal) under a flood, and
    how many RSA signatures the flood got meanwhile."""
    fpid, frd = run_as(0, flooder, wait=False)
    time.sleep(1.5)         # the flood fills whatever queues it can
    under = run_as(victim, victim_run)
    os.kill(fpid, signal.SIGTERM)
    flood = int(os.read(frd, 64) or b"0")
    os.waitpid(fpid, 0)
    os.close(frd)
    return under, flood


# A shared machine stalls a process for a while now and then: a run
# over the bound with every signature made is measured once more (on
# code without fairness every run is seconds over it, each time).
for attempt in (1, 2):
    under, flood = under_flood()
    good = [x for x in under if x >= 0]
    print("# run %d: victim alone: p50 %.1f ms p99 %.1f ms; under the "
          "flood: p50 %.1f ms p99 %.1f ms max %.1f ms (%d of %d); the "
          "flood got %d RSA signatures"
          % (attempt, pct(alone, 50), pct(alone, 99), pct(good or [0], 50),
             pct(good or [0], 99), max(good or [0]), len(good), N, flood))
    if len(good) != N or max(good) < BOUND_MS:
        break
ok(flood > 0, "the flood was served too: %d RSA signatures" % flood)
ok(len(good) == N, "uid %d during the flood: %d of %d P-256 signatures made%s"
   % (victim, len(good), N, "" if len(good) == N else
      " (then status %d)" % -min(under)))
ok(len(good) == N and max(good) < BOUND_MS,
   "each within %d ms (max %.1f ms, p99 %.1f ms, p50 %.1f ms, run %d)"
   % (BOUND_MS, max(good or [0]), pct(good or [0], 99),
      pct(good or [0], 50), attempt))
finish()
