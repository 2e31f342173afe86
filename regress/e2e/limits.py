"""Connection and rate limits per peer uid, and the global connection
limit.  lurkd runs with: limit connections 6, limit user connections 3,
limit user rate 20 burst 20.  As root, a second uid (nobody) shows that a
limit is per uid."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, closed, \
    spawn_as, as_uid

SUCCESS, TEMPORARY_FAILURE = 1, 7
NOBODY = 65534


def ping(s, ident):
    s.sendall(hdr(0, 1, 1, 0, ident, 0))
    h, p, raw = recv_msg(s)
    if h[4] != ident:
        raise AssertionError("answer for id %d, not %d" % (h[4], ident))
    return h[3]


root = os.getuid() == 0

# 1. three connections of this uid are served, a fourth gets
#    temporary_failure for its first request and is closed
mine = [connect() for i in range(3)]
ok(all(ping(s, 10 + i) == SUCCESS for i, s in enumerate(mine)),
   "three connections of uid %d are served (limit user connections 3)" % os.getuid())
extra = connect()
st = ping(extra, 20)
ok(st == TEMPORARY_FAILURE, "the fourth gets temporary_failure (status %d)" % st)
ok(closed(extra), "and is closed after that answer")
extra.close()

# 2. another uid is not held back by this uid's connections
if root:
    ok(as_uid(NOBODY, lambda: ping(connect(), 30) == SUCCESS),
       "uid nobody is served while uid 0 is at its limit")

# 3. one closed, one more can come in
mine.pop().close()
time.sleep(0.2)
s = connect()
ok(ping(s, 40) == SUCCESS, "after one closes, a new connection is served")
mine.append(s)

# 4. the global limit (6): with 3 of ours, nobody gets 3, the next
#    connection of anyone is closed at once, without an answer
if root:
    rd, wr = os.pipe()

    def hold():
        os.close(rd)
        held = [connect() for i in range(3)]
        good = all(ping(x, 50 + i) == SUCCESS for i, x in enumerate(held))
        os.write(wr, b"y" if good else b"n")
        time.sleep(3)       # hold them while the parent tries
        return good
    pid = spawn_as(NOBODY, hold)
    os.close(wr)
    ok(os.read(rd, 1) == b"y", "uid nobody holds 3 connections: 6 in all")
    over = connect()
    try:
        over.sendall(hdr(0, 1, 1, 0, 60, 0))
        got = over.recv(16)
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    ok(got == b"", "a seventh connection is closed without an answer (limit connections 6)")
    over.close()
    os.waitpid(pid, 0)
    time.sleep(0.3)

# 5. the rate: 60 pipelined pings at once; the burst (20, plus what
#    refills meanwhile) is served, the rest refused; every one answered
s = mine[0]
time.sleep(1.1)     # a full bucket
s.sendall(b"".join(hdr(0, 1, 1, 0, 100 + i, 0) for i in range(60)))
answers = [recv_msg(s)[0] for i in range(60)]
ids = [h[4] for h in answers]
good = sum(1 for h in answers if h[3] == SUCCESS)
bad = sum(1 for h in answers if h[3] == TEMPORARY_FAILURE)
ok(ids == list(range(100, 160)), "60 pipelined pings: 60 answers, in order")
ok(20 <= good <= 30 and good + bad == 60,
   "%d served, %d refused with temporary_failure (rate 20/s, burst 20)" % (good, bad))
# the bucket is the uid's, not the connection's
st = ping(mine[1], 200)
ok(st == TEMPORARY_FAILURE, "another connection of the same uid is refused too")
if root:
    ok(as_uid(NOBODY, lambda: ping(connect(), 201) == SUCCESS),
       "uid nobody has its own bucket: served")
# it refills
time.sleep(1.1)
ok(ping(mine[1], 202) == SUCCESS, "a second later the uid is served again")
# reconnecting does not reset the bucket
s.sendall(b"".join(hdr(0, 1, 1, 0, 300 + i, 0) for i in range(40)))
for i in range(40):
    recv_msg(s)
for x in mine:
    x.close()
time.sleep(0.2)     # refills 4 at 20/s; a fresh bucket would hold 20
s = connect()
s.sendall(b"".join(hdr(0, 1, 1, 0, 400 + i, 0) for i in range(10)))
good = sum(1 for i in range(10) if recv_msg(s)[0][3] == SUCCESS)
ok(good <= 6, "reconnecting does not refill the bucket: %d of 10 served" % good)
finish()
