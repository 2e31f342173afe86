"""The drafts' operations queued in netproc when a reload commits, as
queued.py for the edge's.

Usage: draftsqueued.py DIR PARENT_PID MODE

lurkd serves "slow" (DIR/slow.key, RSA 2048) for tls12-rsa-master and
tls13-cert-verify, with the default tls13 secrets (h_c h_s a_c a_s x).
NCONN connections pipeline DEPTH requests each, tls12 rsa_master and
tls13 s_init_cert_verify (e_generated, all five secrets) in turn: most
wait in netproc's queue.  Then DIR/conf.MODE becomes the configuration
and the parent gets SIGHUP:

  shift    a key block before "slow": its index moves; every request
           must be answered by "slow" all the same
  revoke   "slow" allowed to another uid only
  remove   "slow" gone
  ops      "slow" allows sign-tls13 only, none of the drafts'
  secrets  "slow" gives h_c and h_s only: keyproc of the new generation
           refuses what asks for more (netproc lets them through)

Expected refusals, in each extension's numbering: tls12 invalid_key_id
(5), tls13 invalid_certificate (10); secrets: tls13 invalid_secret_request
(4).  Every request is answered; on each connection, in the order of
the requests and per extension, the answers are successes (a master
secret as computed here, a signature and five secrets) then refusals
only.
"""
import hashlib
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, connect, recv_msg, hdr  # noqa: E402
from lurkdrafts import *  # noqa: E402,F403

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

D, PARENT, MODE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
NCONN, DEPTH = 8, 256
REFUSAL = {"shift": (None, None), "revoke": (5, 10), "remove": (5, 10),
           "ops": (5, 10), "secrets": (None, 4)}[MODE]

with open(os.path.join(D, "slow.crt"), "rb") as fh:
    pub = x509.load_pem_x509_certificate(fh.read()).public_key()
kid = key_id32(os.path.join(D, "slow.key"))
cert = cert_der(os.path.join(D, "slow.crt"))


def tls12(j):
    """rsa_master: the request, and the master secret it must give."""
    pm = b"\x03\x03" + os.urandom(46)
    cr, s = os.urandom(32), now_random()
    master = prf12(hashlib.sha256, pm, b"master secret", cr + pfs12(s), 48)
    return (kid + b"\0\0" + cr + s + pub.encrypt(pm, padding.PKCS1v15()),
            master)


def tls13(j):
    """s_init_cert_verify, stateless, e_generated x25519, RSA-PSS."""
    ch = ch13(os.urandom(32), [(29, os.urandom(32))], (0x1301,), (0x0804,))
    sh = sh13(os.urandom(32), 29, os.urandom(32), 0x1301)
    eph = b"\x01" + vec(2, u16(29) + os.urandom(32))
    return (b"\x80\x00" + eph + lurk_hs([(1, ch), (2, sh), (8, vec(2, b""))]) +
            fp_cert(cert) + u16(0x1f00) + u16(0x0804), None)


def good(desig, want, p):
    if desig == TLS12:
        return p == want
    # tag, ephemeral e_generated, five secrets, a signature of 256 bytes
    sec, rest = parse_secrets(p[2:]) if p[:2] == b"\x80\x01" else ({}, b"")
    return len(sec) == 5 and len(rest) == 2 + 256


conns = [connect(timeout=60) for _ in range(NCONN)]
sent = []
for i, c in enumerate(conns):
    req, mine = b"", {}
    for j in range(DEPTH):
        desig = TLS12 if j % 2 == 0 else TLS13
        p, want = (tls12 if desig == TLS12 else tls13)(j)
        typ = RSA_MASTER if desig == TLS12 else S_INIT_CERT_VERIFY
        req += hdr(desig, 1, typ, 0, j, len(p)) + p
        mine[j] = (desig, want)
    sent.append(mine)
    c.sendall(req)
time.sleep(0.3)             # netproc has read them all
shutil.copyfile(os.path.join(D, "conf." + MODE), os.path.join(D, "lurkd.conf"))
os.kill(PARENT, signal.SIGHUP)

done = {TLS12: 0, TLS13: 0}
refused = {TLS12: 0, TLS13: 0}
other = disorder = 0
for i, c in enumerate(conns):
    answers = {}
    for _ in range(DEPTH):
        h, p, _ = recv_msg(c)
        answers[h[4]] = (h[0], h[3], p)
    seen_refusal = {TLS12: False, TLS13: False}
    for j in range(DEPTH):
        desig, want = sent[i][j]
        d, st, p = answers.get(j, (None, None, b""))
        expect = REFUSAL[0 if desig == TLS12 else 1]
        if d == desig and st == SUCCESS and good(desig, want, p):
            done[desig] += 1
            disorder += seen_refusal[desig]
        elif d == desig and st is not None and st == expect:
            refused[desig] += 1
            seen_refusal[desig] = True
        else:
            other += 1
            if other < 4:
                print("# conn %d request %d (%d): designation %s status %s"
                      % (i, j, desig, d, st))
total = NCONN * DEPTH
print("# %s: tls12 %d done %d refused, tls13 %d done %d refused, %d other" %
      (MODE, done[TLS12], refused[TLS12], done[TLS13], refused[TLS13], other))
ok(sum(done.values()) + sum(refused.values()) == total and other == 0,
   "%s: all %d requests answered, each done or refused as the drafts "
   "number it (tls12 %s, tls13 %s)" % (MODE, total, REFUSAL[0], REFUSAL[1]))
for desig, name in ((TLS12, "tls12 rsa_master"),
                    (TLS13, "tls13 s_init_cert_verify")):
    code = REFUSAL[0 if desig == TLS12 else 1]
    if code is None:
        ok(done[desig] == total // 2, "%s: every queued %s done by its key "
           "(its index moved or not): %d" % (MODE, name, done[desig]))
    else:
        ok(done[desig] > 0 and refused[desig] > 0 and disorder == 0,
           "%s: %s a keyproc had are done (%d), those still queued at the "
           "commit refused with %d (%d), never one done after a refusal" %
           (MODE, name, done[desig], code, refused[desig]))
finish()
