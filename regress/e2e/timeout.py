"""Timeouts (lurkd runs with timeout idle 3, timeout message 1)."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg


def closed_within(s, seconds):
    """Seconds until the peer closed s, or None if it did not in time."""
    start = time.time()
    s.settimeout(0.2)
    while time.time() - start < seconds:
        try:
            if s.recv(65536) == b"":
                return time.time() - start
        except socket.timeout:
            pass
        except ConnectionResetError:
            return time.time() - start
    return None


idle = connect()
half = connect()
half.sendall(hdr(0, 1, 1, 0, 7, 0)[:9])
# whole requests only, until lurkd stops taking them: the hog never
# leaves a message half-sent, it just never reads
hog = connect()
hog.setblocking(False)
ping = hdr(0, 1, 1, 0, 1, 0)
t0 = time.time()
while time.time() - t0 < 3:
    try:
        if hog.send(ping) != len(ping):
            break
    except (BlockingIOError, OSError):
        break

t = closed_within(half, 4)
ok(t is not None and t < 3.5, "half-sent message: closed after %s s (timeout 1)" % t)
t = closed_within(hog, 4)
ok(t is not None, "peer that does not read its answers: closed (timeout 1)")
# an active one pings every half second across the idle timeout
active = connect()
alive = True
for i in range(8):
    active.sendall(hdr(0, 1, 1, 0, 100 + i, 0))
    h, p, raw = recv_msg(active)
    alive = alive and h[4] == 100 + i
    time.sleep(0.5)
ok(alive, "an active connection outlives the idle timeout (4 s of pings)")
t = closed_within(idle, 4)
ok(t is not None, "idle connection closed (timeout idle 3)")
finish()
