"""limit rsa-kex rate 5 burst 5 on the key "rsa"; none on "free".

Usage: rsakex.py DIR [OTHER_UID]
"""
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, as_uid

SUCCESS, TEMPORARY_FAILURE = 1, 7
d = sys.argv[1]
other = int(sys.argv[2]) if len(sys.argv) > 2 else None


def premaster_for(name, pm):
    """An RSA key exchange's ciphertext of pm for the key name."""
    return subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin",
                           "-inkey", os.path.join(d, name + ".pub")],
                          input=pm, capture_output=True, check=True).stdout


def request(name, ct, ident):
    with open(os.path.join(d, name + ".spki"), "rb") as f:
        kid = hashlib.sha256(f.read()).digest()
    p = kid + (0x0303).to_bytes(2, "big") * 2 + len(ct).to_bytes(2, "big") + ct
    return hdr(192, 1, 4, 0, ident, len(p)) + p


def burst(name, ct, n, base):
    """n pipelined decryptions: their (status, premaster) in the order
    asked (refusals come back before the decryptions)."""
    s = connect()
    s.sendall(b"".join(request(name, ct, base + i) for i in range(n)))
    got = {}
    for i in range(n):
        h, p, raw = recv_msg(s)
        got[h[4]] = (h[3], p)
    s.close()
    return [got[base + i] for i in range(n)]


pm = b"\x03\x03" + os.urandom(46)
ct = premaster_for("rsa", pm)
ctfree = premaster_for("free", pm)

# 1. the burst of 5 is served, the rest of 20 pipelined refused
r = burst("rsa", ct, 20, 100)
good = [x for x in r if x[0] == SUCCESS]
bad = [x for x in r if x[0] == TEMPORARY_FAILURE]
ok(5 <= len(good) <= 6 and len(good) + len(bad) == 20,
   "20 decryptions at once with rate 5 burst 5: %d made, %d refused with "
   "temporary_failure" % (len(good), len(bad)))
ok(all(p == pm for st, p in good), "those made give the premaster")
ok(all(len(p) == 4 for st, p in bad), "the refused ones carry lurk_state")
# 2. another key: no limit
r = burst("free", ctfree, 20, 200)
ok(all(st == SUCCESS and p == pm for st, p in r),
   "a key without a limit: 20 of 20 made at the same time")
# 3. the bucket is the key's: another uid is refused too
if other is not None:
    ok(as_uid(other, lambda: burst("rsa", ct, 1, 300)[0][0] ==
              TEMPORARY_FAILURE),
       "uid %d right after: refused too (the rate is the key's)" % other)
# 4. it refills: 5 a second
time.sleep(1.1)
r = burst("rsa", ct, 5, 400)
ok(all(st == SUCCESS for st, p in r), "a second later: 5 made again")
# 5. many refusals, for the log's bound and the counter
time.sleep(0.2)
burst("rsa", ct, 100, 500)

# implicit rejection, as lurk(7) says: a ciphertext that is not a
# well-formed premaster decrypts to new random bytes each time, a good
# one always to the same: two requests tell them apart
time.sleep(1.1)
bad = bytearray(ct)
bad[-1] ^= 1
r = burst("rsa", bytes(bad), 2, 700) + burst("rsa", ct, 2, 800)
ok(all(st == SUCCESS for st, p in r) and r[0][1] != r[1][1] and
   r[2][1] == r[3][1] == pm,
   "implicit rejection: a bad ciphertext twice gives two different "
   "answers, a good one the premaster twice (the edge can tell)")
finish()
