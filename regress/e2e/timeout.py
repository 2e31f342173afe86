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
# the hog asks for far more answers (key_info: ~500 bytes each) than the
# socket buffers and netproc's output limit hold, and never reads them;
# its requests (44 KB, whole) fit in its own send buffer
hog = connect(timeout=10)
ki = bytes([1, 4]) + b"p256"
hog.sendall(b"".join(hdr(192, 1, 1, 0, i, len(ki)) + ki for i in range(2000)))

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
