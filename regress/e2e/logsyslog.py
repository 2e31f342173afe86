"""lurkd's own syslog client: lines reach the syslog socket in the usual
format; a syslog daemon that stops reading does not stop key service;
what was dropped is said once the daemon reads again.

argv: lurkd-test binary, config, test dir.  lurkd-test (not -d) sends to
the socket named by LURKD_TEST_SYSLOG instead of /dev/log."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, p256_sign13

lurkd, conf, d = sys.argv[1:4]
logpath = os.path.join(d, "syslog.sock")
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind(logpath)
seen = []


def read_log(seconds, until=None):
    end = time.time() + seconds
    while time.time() < end:
        log.settimeout(max(0.01, end - time.time()))
        try:
            m = log.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        seen.append(m)
        if until and re.search(until, m):
            return m
    return None


env = dict(os.environ, LURKD_TEST_SYSLOG=logpath)
# the command returns once lurkd is ready: read its lines meanwhile
p = subprocess.Popen([lurkd, "-v", "-f", conf], env=env)
m = read_log(10, r"parent: ready:")
rc = p.wait(timeout=10)
ok(rc == 0, "lurkd daemonizes (exit %d)" % rc)
ok(m is not None, "the ready line arrives on the syslog socket")
mm = re.match(r"<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d lurkd\[(\d+)\]: parent: ready:", m or "")
ok(mm is not None and int(mm.group(1)) == (3 << 3) | 6,
   "in syslog's format, facility daemon, priority info: %r" % (m or "")[:60])
pid = int(mm.group(2)) if mm else 0
read_log(0.5)
ok(any(": netproc: " in x for x in seen), "children's lines arrive through the parent")

# stop reading: the socket's queue fills after a few lines
sign = p256_sign13(os.path.join(d, "p256.spki"))
start = time.time()
before = len(seen)
for i in range(500):
    s = connect(timeout=5)
    s.sendall(hdr(0, 1, 1, 0, i, 0))
    recv_msg(s)
    s.close()
s = connect(timeout=5)
good = 0
for i in range(100):
    s.sendall(hdr(192, 1, 2, 0, 1000 + i, len(sign)) + sign)
    h, p, raw = recv_msg(s)
    good += h[3] == 1 and len(p) > 64
ok(good == 100, "syslog not read: 500 connections and 100 signatures served "
   "(%d signed, %.1f s)" % (good, time.time() - start))
# read again, and make one more line
read_log(0.5)
s = connect()
s.sendall(hdr(0, 1, 1, 0, 1, 0))
recv_msg(s)
read_log(2, r"log lines dropped")
m = [x for x in seen[before:] if "log lines dropped" in x]
ok(len(m) == 1 and re.search(r": parent: [1-9]\d* log lines dropped: the log "
                             r"could not be written$", m[0]),
   "then it says what it dropped: %r" % (m[0] if m else "")[-70:])
if pid:
    os.kill(pid, signal.SIGTERM)
    for i in range(100):
        if not os.path.exists("/proc/%d" % pid):
            break
        time.sleep(0.1)
    ok(not os.path.exists("/proc/%d" % pid), "lurkd stops on SIGTERM")
finish()
