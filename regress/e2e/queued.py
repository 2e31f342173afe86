"""Operations queued in netproc when a reload commits.

Usage: queued.py DIR PARENT_PID MODE

lurkd serves "rsa" (DIR/rsa.crt, RSA 2048: slow enough that most of
NCONN x 256 pipelined sign_tls13 requests wait in netproc's queue for a
second or more).  Once netproc has them all, DIR/conf.MODE becomes the
configuration and the parent gets SIGHUP:

  shift    a key block before "rsa": its index moves; every queued
           request must be signed by "rsa" all the same
  revoke   "rsa" allowed to another uid only: queued requests are
           refused, unauthorized (9)
  remove   "rsa" gone: queued requests are answered unknown_key (8)

Every request is answered.  On each connection the answers, in order,
(in the order of the requests, whatever the order of the answers)
are signatures that verify (the requests a keyproc had before the
commit), then (revoke, remove) refusals only.
"""
import hashlib
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

D, PARENT, MODE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
NCONN, DEPTH = 8, 256
REFUSAL = {"shift": None, "revoke": 9, "remove": 8}[MODE]

with open(os.path.join(D, "rsa.crt"), "rb") as f:
    pub = x509.load_pem_x509_certificate(f.read()).public_key()
kid = hashlib.sha256(pub.public_bytes(
    serialization.Encoding.DER,
    serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


def tbs(i, j):
    return (b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" +
            hashlib.sha256(b"%d.%d" % (i, j)).digest())


def verifies(t, sig):
    try:
        pub.verify(sig, t, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                       salt_length=32), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


conns = [connect(timeout=60) for _ in range(NCONN)]
for i, c in enumerate(conns):
    req = b""
    for j in range(DEPTH):
        t = tbs(i, j)
        p = kid + (0x0804).to_bytes(2, "big") + len(t).to_bytes(2, "big") + t
        req += hdr(192, 1, 2, 0, j, len(p)) + p
    c.sendall(req)
time.sleep(0.3)             # netproc has read them all
shutil.copyfile(os.path.join(D, "conf." + MODE), os.path.join(D, "lurkd.conf"))
os.kill(PARENT, signal.SIGHUP)

signed = refused = other = disorder = 0
for i, c in enumerate(conns):
    answers = {}
    for _ in range(DEPTH):
        h, p, _ = recv_msg(c)
        answers[h[4]] = (h[3], p)
    # in the order of the requests (answers come in any order)
    seen_refusal = False
    for j in range(DEPTH):
        st, p = answers.get(j, (None, b""))
        if st == 1 and verifies(tbs(i, j), p[2:]):
            signed += 1
            disorder += seen_refusal
        elif st is not None and st == REFUSAL:
            refused += 1
            seen_refusal = True
        else:
            other += 1
total = NCONN * DEPTH
print("# %s: %d signed, %d refused, %d other" % (MODE, signed, refused, other))
ok(signed + refused + other == total and other == 0,
   "%s: all %d requests answered, each signed or %s" %
   (MODE, total, "refused %d" % REFUSAL if REFUSAL else "nothing else"))
if REFUSAL is None:
    ok(signed == total, "%s: every queued request signed by its key at its "
       "new index: %d" % (MODE, signed))
else:
    ok(refused > 0 and signed > 0 and disorder == 0,
       "%s: requests a keyproc had are signed (%d), those still queued at "
       "the commit refused with %d (%d), never a signature after a refusal" %
       (MODE, signed, REFUSAL, refused))
finish()
