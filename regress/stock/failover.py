"""Handshake load for regress/stock/failover.t, and its report.

  failover.py load PORT CAFILE THREADS STOPFILE OUT
      THREADS loops of full TLS 1.3 handshakes with test.lurk on
      127.0.0.1:PORT (a new connection and no resumption each time) until
      STOPFILE exists; OUT gets one line per handshake:
      "start_ms end_ms ok|fail why" (wall clock, ms since the epoch).
  failover.py report OUT KILL_MS STOP_MS CONT_MS
      As shell assignments: the handshakes attempted and failed, those
      failed from KILL_MS on, the time from KILL_MS to the end of the
      first handshake begun after it that succeeded, the slowest one
      around KILL_MS; and the handshakes under way between STOP_MS and
      CONT_MS (a key server hung), how many failed, the slowest.
"""
import os
import socket
import ssl
import sys
import threading
import time


def now_ms():
    return time.time_ns() // 1000000


def load(port, cafile, nthreads, stopfile, out):
    lock = threading.Lock()
    lines = []

    def one(ctx):
        t0 = now_ms()
        try:
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="test.lurk") as t:
                    t.do_handshake()
            r = "ok -"
        except (OSError, ssl.SSLError) as e:
            r = "fail " + type(e).__name__
        with lock:
            lines.append("%d %d %s\n" % (t0, now_ms(), r))

    def loop():
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        while not os.path.exists(stopfile):
            one(ctx)

    threads = [threading.Thread(target=loop) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        f.writelines(sorted(lines))


def report(out, kill_ms, stop_ms, cont_ms):
    hs = []
    with open(out) as f:
        for line in f:
            t0, t1, r = line.split()[:3]
            hs.append((int(t0), int(t1), r == "ok"))
    failed = [h for h in hs if not h[2]]
    after = [h for h in hs if h[2] and h[0] >= kill_ms]
    recover = min(h[1] for h in after) - kill_ms if after else -1
    # the slowest handshake under way at the kill or begun in the 2 s after
    spike = max((h[1] - h[0] for h in hs
                 if h[1] >= kill_ms and h[0] <= kill_ms + 2000), default=-1)
    # A hung from stop_ms to cont_ms: the handshakes under way meanwhile
    hung = [h for h in hs if h[1] >= stop_ms and h[0] <= cont_ms]
    print("HS_ATTEMPTED=%d" % len(hs))
    print("HS_FAILED=%d" % len(failed))
    print("HS_FAILED_AFTER_KILL=%d" % sum(1 for h in failed
                                           if kill_ms <= h[1] < stop_ms))
    print("RECOVER_MS=%d" % recover)
    print("SLOWEST_MS=%d" % spike)
    print("HUNG_HS=%d" % len(hung))
    print("HUNG_FAILED=%d" % sum(1 for h in hung if not h[2]))
    print("HUNG_SLOWEST_MS=%d" % max((h[1] - h[0] for h in hung),
                                     default=-1))


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "load":
        load(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5],
             sys.argv[6])
    elif len(sys.argv) == 6 and sys.argv[1] == "report":
        report(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
               int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
