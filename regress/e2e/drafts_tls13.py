"""tls13 (draft-mglt-lurk-tls13, pylurk-T's numbers) against a running
lurkd: s_init_cert_verify stateless and with a session, e_generated and
cs_generated, finger_print and uncompressed certificates, s_new_ticket,
s_init_early_secret and s_hand_and_app_secret; every secret checked with
an independent key schedule in Python, every signature with openssl, and
the error statuses.

Usage: drafts_tls13.py DIR [UID PEER] -- DIR as drafts.t makes it; UID: a
uid to act as that no key allows, PEER one that p256 allows (as root
only).  The lurkd: p256 allows
tls13-cert-verify, -new-ticket and -psk, secrets h_c h_s a_c a_s x r, 3
tickets; rsa tls13-cert-verify with secrets h_c h_s; ed no tls13.
"""
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, connect, as_uid  # noqa: E402
from lurkdrafts import *  # noqa: E402,F403

D = sys.argv[1]
other = int(sys.argv[2]) if len(sys.argv) > 2 else None
peer = int(sys.argv[3]) if len(sys.argv) > 3 else None  # the key allows it
c = Client(connect())
E = T13
SHA = {0x1301: hashlib.sha256, 0x1302: hashlib.sha384, 0x1303: hashlib.sha256}
SIZE = {29: 32, 30: 56, 23: 65, 24: 97, 25: 133}
SECRET = {29: 32, 30: 56, 23: 32, 24: 48, 25: 66}
H_C, H_S, A_C, A_S, X, R, B = 3, 4, 5, 6, 7, 8, 0
ALL5 = 0x1f00


def f(n):
    return os.path.join(D, n)


CERT = {n: cert_der(f(n + ".crt")) for n in ("p256", "rsa", "ed")}


def verify(key, content, sig, scheme):
    with open(f("tbs13"), "wb") as fh:
        fh.write(content)
    with open(f("sig13"), "wb") as fh:
        fh.write(sig)
    if scheme == 0x0807:
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", f(key + ".pub"),
               "-rawin", "-in", f("tbs13"), "-sigfile", f("sig13")]
    else:
        md = {0x0403: "sha256", 0x0804: "sha256", 0x0805: "sha384"}[scheme]
        cmd = ["openssl", "dgst", "-" + md, "-verify", f(key + ".pub"),
               "-signature", f("sig13")]
        if scheme in (0x0804, 0x0805):
            cmd[3:3] = ["-sigopt", "rsa_padding_mode:pss", "-sigopt",
                        "rsa_pss_saltlen:digest"]
        cmd.append(f("tbs13"))
    return subprocess.run(cmd, capture_output=True).returncode == 0


def ec_point(group):
    """A point of P-384 or P-521 (openssl makes a key): lurkd checks the
    client's share with cs_generated."""
    curve = {24: "P-384", 25: "P-521"}[group]
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                          "ec_paramgen_curve:" + curve], capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"],
                         input=key, capture_output=True).stdout
    return der[-SIZE[group]:]


LABEL = b"tls13 pfs srv"    # lurkd.conf: tls13 freshness label draft


class HS:
    """One TLS 1.3 handshake as an edge sends it to lurkd."""

    def __init__(self, key="p256", group=29, suite=0x1301, eph="e", sig=0x0403,
                 certreq=False, suites=(0x1301, 0x1302), sigalgs=(0x0403, 0x0804, 0x0807),
                 ch_group=None, sh_kwargs=None, label=None, fresh=0):
        self.key, self.group, self.suite, self.eph, self.sig = key, group, suite, eph, sig
        self.md, self.fresh = SHA[suite], fresh
        self.label = LABEL if label is None else label
        self.s = os.urandom(32)
        self.c = None
        if eph == "cs" and group == 23:
            self.c = int.from_bytes(os.urandom(32), "big") % P256_N
            share = ec_enc(ec_mul(self.c, P256_G))
        elif eph == "cs" and group in (24, 25):
            share = ec_point(group)
        else:
            share = (b"\x04" if group in (23, 24, 25) else b"") + \
                os.urandom(SIZE[group] - (1 if group in (23, 24, 25) else 0))
        self.secret = os.urandom(SECRET[group])
        self.ch = ch13(os.urandom(32), [(ch_group or group, share)], suites, sigalgs)
        kw = dict(group=group, suite=suite,
                  kx=b"" if eph == "cs" else os.urandom(SIZE[group]))
        kw.update(sh_kwargs or {})
        self.sh = sh13(self.s, **kw)
        self.msgs = [(1, self.ch), (2, self.sh), (8, vec(2, b""))]
        if certreq:
            self.msgs.append((13, b"\0" + vec(2, ext(13, vec(2, u16(0x0403))))))

    def eph_req(self):
        if self.eph == "e":
            return b"\x01" + vec(2, u16(self.group) + self.secret)
        return b"\x02" if self.eph == "cs" else b"\x00"

    def request(self, cert=None, req=ALL5, tag=0x80, sid=b"\xe1\xe2\xe3\xe4",
                msgs=None, eph=None, sig=None, fresh=None):
        cert = cert if cert is not None else fp_cert(CERT[self.key])
        return (bytes([tag]) + (b"" if tag & 0x80 else sid) +
                bytes([self.fresh if fresh is None else fresh]) +
                (eph if eph is not None else self.eph_req()) +
                lurk_hs(msgs or self.msgs) + cert + u16(req) +
                u16(sig if sig is not None else self.sig))

    def call(self, **kw):
        self.st, self.p = c.call(TLS13, S_INIT_CERT_VERIFY, self.request(**kw))
        return self.st

    def check(self, tag=0x80):
        """The answer: tag, [session_id], ephemeral, secrets, signature;
        returns (signature good, secrets as computed here or None)."""
        p = self.p
        if p[0] != tag:
            return False, None
        self.sid = p[1:5] if not tag & 0x80 else None
        p = p[1:] if tag & 0x80 else p[5:]
        if p[0] != {"e": 1, "cs": 2}[self.eph]:
            return False, None
        pub = None
        if self.eph == "cs":
            n = int.from_bytes(p[1:3], "big")
            ks = p[3:3 + n]
            if int.from_bytes(ks[:2], "big") != self.group:
                return False, None
            pub = ks[4:]
            p = p[3 + n:]
        else:
            p = p[1:]
        self.secrets, rest = parse_secrets(p)
        sigv = rest[2:]
        if int.from_bytes(rest[:2], "big") != len(sigv):
            return False, None
        shared = self.secret if self.eph == "e" else None
        if self.c is not None:
            pt = (int.from_bytes(pub[1:33], "big"), int.from_bytes(pub[33:], "big"))
            shared = ec_mul(self.c, pt)[0].to_bytes(32, "big")
        sc = Sched(self.md)
        sc.add(1, self.ch)
        sr = self.s if self.fresh == 255 else hashlib.sha256(self.s + self.label).digest()
        sh = sh_random(self.sh, sr)
        if pub is not None:
            sh = sh_share(sh, self.group, pub)
        sc.add(2, sh)
        want = None
        if shared is not None:
            sc.next(shared)
            want = {H_C: sc.derive(b"c hs traffic"), H_S: sc.derive(b"s hs traffic")}
        for t, b in self.msgs[2:]:
            sc.add(t, b)
        sc.add(11, b"\0" + vec(3, vec(3, CERT[self.key]) + vec(2, b"")))
        good = verify(self.key, cv_content(sc.th()), sigv, self.sig)
        sc.add(15, u16(self.sig) + vec(2, sigv))
        if want is not None:
            sc.add(20, sc.finished(want[H_S]))
            self.sched = sc
            sc.next()
            want[A_C] = sc.derive(b"c ap traffic")
            want[A_S] = sc.derive(b"s ap traffic")
            want[X] = sc.derive(b"exp master")
        self.want = want
        return good, want


def secrets_ok(hs, req=ALL5):
    return hs.want is not None and hs.secrets == {
        t: v for t, v in hs.want.items() if req & (0x8000 >> t)}


def session(certreq=False):
    hs = HS(certreq=certreq)
    hs.call(tag=0, sid=b"EDGE")
    good, _ = hs.check(tag=0)
    return hs, good


def finished_and_r(hs, tamper=False):
    """The client Finished over CH..server Finished, then r."""
    sc = hs.sched
    msgs = sc.msgs      # CH..server Finished
    fin = sc.finished(hs.want[H_C], hs.md(msgs).digest())
    if tamper:
        fin = bytes([fin[0] ^ 1]) + fin[1:]
    sc2 = Sched(hs.md)
    sc2.secret, sc2.msgs = sc.secret, msgs + bytes([20]) + u24(len(fin)) + fin
    return fin, sc2.derive(b"res master")


def new_ticket(sid, hsmsgs, n, req=0x0080, cert=u16(128), tag=0, who=None):
    return (who or c).call(TLS13, S_NEW_TICKET, bytes([tag]) + sid +
                           lurk_hs(hsmsgs) + cert + bytes([n]) + u16(req))


def tickets(p):
    """ticket_list<2> of NewSessionTicket bodies."""
    n, i, out = int.from_bytes(p[:2], "big"), 2, []
    while i < 2 + n:
        life, age = p[i:i + 4], p[i + 4:i + 8]
        nl = p[i + 8]
        nonce = p[i + 9:i + 9 + nl]
        j = i + 9 + nl
        tl = int.from_bytes(p[j:j + 2], "big")
        out.append((int.from_bytes(life, "big"), nonce, p[j + 2:j + 2 + tl]))
        i = j + 2 + tl + 2 + int.from_bytes(p[j + 2 + tl:j + 4 + tl], "big")
    return out, i == 2 + n


def psk_ch(ticket, r, shares=((29, None),), modes=b"\x01", idx_binder=0,
           tamper=False, nonce=None):
    """A ClientHello resuming with a ticket, its binder computed here."""
    life, tnonce, tbytes = ticket
    psk = hkdf_expand_label(hashlib.sha256, r, b"resumption", tnonce, 32)
    sh = [(g, k or os.urandom(32)) for g, k in shares]
    body = ch13(os.urandom(32), sh, psk=[(tbytes, bytes(32))], modes=modes)
    # the binder: over the ClientHello up to its binders
    sc = Sched(hashlib.sha256, psk)
    bk = derive_secret(hashlib.sha256, sc.secret, b"res binder", b"")
    trunc = bytes([1]) + u24(len(body)) + body[:-35]
    binder = sc.finished(bk, hashlib.sha256(trunc).digest())
    if tamper:
        binder = bytes([binder[0] ^ 1]) + binder[1:]
    return body[:-32] + binder, psk, bk


def early(ch, sel=0, req=0x8000, fresh=0, sid=b"EDG2"):
    return c.call(TLS13, S_INIT_EARLY_SECRET, sid + bytes([fresh]) + u16(sel) +
                  lurk_hs([(1, ch)]) + u16(req))


def hand(sid, sh, eph=b"\x01" + vec(2, u16(29) + bytes(32)), req=ALL5, tag=0,
         ee=vec(2, b"")):
    return c.call(TLS13, S_HAND_AND_APP, bytes([tag]) + sid + eph +
                  lurk_hs([(2, sh), (8, ee)]) + u16(req))


MODE = os.environ.get("DRAFTS_MODE", "main")
if MODE in ("second", "reload", "obs"):
    # another part, in this namespace: drafts_tls13b.py (drafts.t's
    # second lurkd), drafts_reload.py (draftsreload.t), drafts_obs.py
    # (draftsobs.t)
    exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           {"second": "drafts_tls13b.py",
                            "reload": "drafts_reload.py",
                            "obs": "drafts_obs.py"}[MODE])).read())
    finish()


# ---- s_init_cert_verify, stateless ---------------------------------------
hs = HS()
st = hs.call()
good, _ = hs.check()
ok(st == SUCCESS and good and secrets_ok(hs),
   "s_init_cert_verify, stateless, e_generated x25519, finger_print: "
   "h_c h_s a_c a_s x as Python's key schedule over the handshake with "
   "F(S) = SHA-256(S || \"tls13 pfs srv\"); the CertificateVerify verifies")
hs = HS(suite=0x1302)
hs.call(req=0x1800)
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs, 0x1800),
   "s_init_cert_verify, TLS_AES_256_GCM_SHA384: SHA-384 schedule, only "
   "the secrets asked for (h_c h_s)")
hs = HS(group=23, eph="cs")
hs.call()
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "s_init_cert_verify, cs_generated P-256: lurkd's key share in the "
   "answer; the secrets of ECDH with it, as Python computes them")
for g in (29, 30, 24, 25):
    hs = HS(group=g, eph="cs")
    hs.call()
    good, _ = hs.check()
    ok(hs.st == SUCCESS and good and len(hs.secrets) == 5,
       "s_init_cert_verify, cs_generated group %d: a share of its size, "
       "the CertificateVerify over the ServerHello with it verifies" % g)
hs = HS()
hs.call(cert=full_cert(CERT["p256"]))
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "s_init_cert_verify, uncompressed certificate")
hs = HS(certreq=True)
hs.call()
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "s_init_cert_verify with a CertificateRequest in the transcript")
hs = HS(key="rsa", sig=0x0804)
hs.call(req=0x1800)
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs, 0x1800),
   "s_init_cert_verify, RSA key: rsa_pss_rsae_sha256 verifies")
# the handshake as the edge sent it, an extension lurkd does not know in
# EncryptedExtensions (ALPN): hashed as received
hs = HS()
hs.msgs[2] = (8, vec(2, ext(16, vec(2, vec(1, b"http/1.1"))) + ext(0x7777, b"xyz")))
hs.call()
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "s_init_cert_verify: EncryptedExtensions with ALPN and an unknown "
   "extension: hashed exactly as received")


ok(HS(group=24, eph="cs").call() == SUCCESS and HS(group=25, eph="cs").call() == SUCCESS,
   "cs_generated: the client's shares of P-384 and P-521 accepted")
bad = HS(group=23, eph="cs")
bad.ch = ch13(os.urandom(32), [(23, b"\x04" + os.urandom(64))])
bad.msgs[0] = (1, bad.ch)
ok(bad.call() == E["invalid_handshake"],
   "cs_generated, a client share not on P-256: invalid_handshake (6)")
ok((HS(ch_group=23).call()) == E["invalid_handshake"],
   "no client key share of the ServerHello's group: invalid_handshake (6)")
ok((HS(sh_kwargs=dict(psk=0)).call()) == E["invalid_handshake"],
   "ServerHello with pre_shared_key: invalid_handshake (6)")
ok((HS(suites=(0x1302,)).call()) == E["invalid_handshake"],
   "ServerHello cipher suite not offered: invalid_handshake (6)")
ok((HS(sh_kwargs=dict(version=0x0303)).call()) == E["invalid_handshake"],
   "ServerHello selects TLS 1.2: invalid_handshake (6)")
ok((HS(sh_kwargs=dict(sid=b"\1" * 32)).call()) == E["invalid_handshake"],
   "ServerHello session_id echo not the ClientHello's: invalid_handshake (6)")
hs = HS()
ok(hs.call(msgs=hs.msgs[:2]) == E["invalid_handshake"],
   "no EncryptedExtensions: invalid_handshake (6)")
ok(hs.call(msgs=[hs.msgs[1], hs.msgs[0], hs.msgs[2]]) == E["invalid_handshake"],
   "ServerHello before ClientHello: invalid_handshake (6)")
ok(hs.call(msgs=hs.msgs[:2] + [(13, b"\0" + vec(2, b"")), hs.msgs[2]]) ==
   E["invalid_handshake"],
   "CertificateRequest before EncryptedExtensions: invalid_handshake (6)")
ok(hs.call(msgs=hs.msgs[:2] + [(8, vec(2, ext(42, b"")))]) == E["invalid_handshake"],
   "EncryptedExtensions accepting early data: invalid_handshake (6)")
ok(hs.call(eph=b"\x00") == E["invalid_ephemeral"],
   "ephemeral no_secret: invalid_ephemeral (8)")
ok(hs.call(eph=b"\x01" + vec(2, u16(23) + os.urandom(32))) == E["invalid_ephemeral"],
   "e_generated of another group than the ServerHello's: invalid_ephemeral (8)")
ok(hs.call(eph=b"\x01" + vec(2, u16(29) + os.urandom(31))) == E["invalid_ephemeral"],
   "e_generated secret of the wrong size: invalid_ephemeral (8)")
ok(hs.call(eph=b"\x07") == E["invalid_ephemeral"],
   "ephemeral method 7: invalid_ephemeral (8)")
ok(hs.call(eph=b"\x02") == E["invalid_ephemeral"],
   "cs_generated with a ServerHello share already there: invalid_ephemeral (8)")
ok(hs.call(cert=u16(128)) == E["invalid_certificate"],
   "no_certificate: invalid_certificate (10)")
ok(hs.call(cert=u16(1) + u16(1) + u24(100) + vec(3, b"x" * 20)) == E["invalid_cert_type"],
   "a zlib compressed certificate: invalid_cert_type (12)")
ok(hs.call(cert=u16(200)) == E["invalid_cert_type"], "cert_type 200: invalid_cert_type (12)")
ok(hs.call(cert=fp_cert(b"some other certificate")) == E["invalid_certificate"],
   "finger_print of no key: invalid_certificate (10)")
ok(hs.call(cert=fp_cert(CERT["p256"], b"not in the chain")) == E["invalid_certificate"],
   "a second finger_print of no certificate of the key's chain: invalid_certificate (10)")
ok(hs.call(cert=full_cert(b"\x30\x03\x02\x01\x01")) == E["invalid_certificate"],
   "uncompressed certificate of no key: invalid_certificate (10)")
time.sleep(1.1)     # a second's log lines of this uid: this one is logged
ok(HS(key="ed", sig=0x0807).call() == E["invalid_certificate"],
   "a key whose policy lacks tls13-cert-verify: invalid_certificate (10)")
ok(hs.call(sig=0x0804) == E["invalid_signature_scheme"],
   "rsa_pss_rsae_sha256 with a P-256 key: invalid_signature_scheme (13)")
ok(HS(sigalgs=(0x0804,)).call() == E["invalid_signature_scheme"],
   "a scheme the client did not offer: invalid_signature_scheme (13)")
ok(hs.call(req=ALL5 | 0x0080) == E["invalid_secret_request"],
   "secret_request with r: invalid_secret_request (4)")
ok(hs.call(req=0x8000) == E["invalid_secret_request"],
   "secret_request with b: invalid_secret_request (4)")
ok(HS(key="rsa", sig=0x0804).call(req=0x1c00) == E["invalid_secret_request"],
   "a_c from a key whose tls13 secrets are h_c h_s: invalid_secret_request (4)")
ok(hs.call(req=0x1f01) == E["invalid_format"],
   "secret_request with a reserved bit: invalid_format (3)")
ok(hs.call(fresh=1) == E["invalid_freshness"], "freshness 1: invalid_freshness (7)")
ok(hs.call(fresh=255) == E["invalid_freshness"],
   "freshness null, not allowed here: invalid_freshness (7)")
ok(hs.call(tag=0x40) == E["invalid_format"], "tag with a reserved bit: invalid_format (3)")
st, p = c.call(TLS13, S_INIT_CERT_VERIFY, hs.request()[:-3])
ok(st == E["invalid_format"], "s_init_cert_verify truncated: invalid_format (3)")
if other is not None:
    req = HS().request()

    def as_other():
        st, p = Client(connect()).call(TLS13, S_INIT_CERT_VERIFY, req)
        return st == E["invalid_certificate"]
    ok(as_uid(other, as_other),
       "s_init_cert_verify from a uid the key does not allow: invalid_certificate (10)")


# ---- sessions and s_new_ticket --------------------------------------------


hs, good = session()
ok(hs.st == SUCCESS and good and secrets_ok(hs) and hs.sid[0] < 2,
   "s_init_cert_verify with last_exchange 0: tag 0 and lurkd's session_id, "
   "its keyproc's number first")


fin, r = finished_and_r(hs)
st, p = new_ticket(hs.sid, [(20, fin)], 2)
sec, rest = parse_secrets(p[5:]) if st == SUCCESS else ({}, b"")
tk, whole = tickets(rest) if st == SUCCESS else ([], False)
ok(st == SUCCESS and p[0] == 0 and p[1:5] == b"EDGE" and sec == {R: r} and
   whole and len(tk) == 2 and all(t[0] == 7200 for t in tk),
   "s_new_ticket after the client Finished: the edge's session_id, r as "
   "Python derives it, 2 tickets of lifetime 7200, more to come (tag 0)")
TICKETS = [(t, r) for t in tk]
ok(all(b"\x30" not in t[2][:1] and t[2][0] == 1 and len(t[2]) > 60 for t in tk)
   and r not in tk[0][2] and tk[0][2] != tk[1][2],
   "tickets are sealed: lurkd's version byte, no r or PSK in clear, each unique")
st, p = new_ticket(hs.sid, [], 5, req=0)
tk2, whole = tickets(p[5:][2:]) if st == SUCCESS else ([], False)
ok(st == SUCCESS and p[0] == 0x80 and len(tk2) == 1,
   "s_new_ticket again, 5 asked: the 1 left of the key's 3, and last_exchange")
TICKETS += [(t, r) for t in tk2]
st, p = new_ticket(hs.sid, [], 1, req=0)
ok(st == E["invalid_session_id"], "s_new_ticket after the last: invalid_session_id (5)")
hs, good = session()
fin, r = finished_and_r(hs, tamper=True)
st, p = new_ticket(hs.sid, [(20, fin)], 1)
ok(st == E["invalid_handshake"], "s_new_ticket with a wrong client Finished: invalid_handshake (6)")
st, p = new_ticket(hs.sid, [(20, fin)], 1)
ok(st == E["invalid_session_id"], "... and the session is gone: invalid_session_id (5)")
hs, good = session()
fin, r = finished_and_r(hs)
st, p = new_ticket(hs.sid, [], 1)
ok(st == E["invalid_handshake"], "the first s_new_ticket without the Finished: invalid_handshake (6)")
st, p = new_ticket(hs.sid, [(20, fin)], 1, req=0x1000)
ok(st == E["invalid_secret_request"], "s_new_ticket asking h_c: invalid_secret_request (4)")
st, p = new_ticket(hs.sid, [(20, fin)], 1, cert=full_cert())
ok(st == E["invalid_certificate"],
   "a client Certificate with no CertificateRequest: invalid_certificate (10)")
if other is not None:
    sid = hs.sid

    def as_other():
        st, p = new_ticket(sid, [(20, fin)], 1, who=Client(connect()))
        return st == E["invalid_session_id"]
    ok(as_uid(other, as_other),
       "s_new_ticket on a session of another uid: invalid_session_id (5)")
if peer is not None:
    sid = hs.sid

    # netproc lets it use the key: keyproc's check of the session's uid
    def as_peer():
        st, p = new_ticket(sid, [(20, fin)], 1, who=Client(connect()))
        return st == E["invalid_session_id"]
    ok(as_uid(peer, as_peer),
       "s_new_ticket on a session of another uid the key allows too: "
       "invalid_session_id (5)")
st, p = new_ticket(bytes([hs.sid[0], 0xff, 0xff, 0xff]), [(20, fin)], 1)
ok(st == E["invalid_session_id"], "s_new_ticket on no such session: invalid_session_id (5)")
st, p = new_ticket(b"\x63\0\0\0", [(20, fin)], 1)
ok(st == E["invalid_session_id"],
   "a session_id naming no keyproc: invalid_session_id (5), from netproc")
# with a CertificateRequest: the client's empty Certificate in the transcript
hs, good = session(certreq=True)
sc = hs.sched
cert = b"\0" + vec(3, b"")
msgs = sc.msgs + bytes([11]) + u24(len(cert)) + cert
fin = Sched.finished(sc, hs.want[H_C], hs.md(msgs).digest())
sc2 = Sched(hs.md)
sc2.secret, sc2.msgs = sc.secret, msgs + bytes([20]) + u24(len(fin)) + fin
st, p = new_ticket(hs.sid, [(20, fin)], 1, cert=u16(130) + cert)
sec, rest = parse_secrets(p[5:]) if st == SUCCESS else ({}, b"")
ok(st == SUCCESS and sec == {R: sc2.derive(b"res master")},
   "s_new_ticket after a CertificateRequest: the client's (empty) "
   "Certificate in the transcript")


# ---- resumption: s_init_early_secret, s_hand_and_app_secret -----------------


t0, r0 = TICKETS[0]
ch, psk, bk = psk_ch(t0, r0)
st, p = early(ch)
sec, rest = parse_secrets(p[4:]) if st == SUCCESS else ({}, b"")
ok(st == SUCCESS and sec == {B: bk} and rest == b"",
   "s_init_early_secret: the ticket opens, the binder checks; lurkd's "
   "session_id and b, the binder key as Python derives it")
sid = p[:4]


s = os.urandom(32)
secret = os.urandom(32)
sh = sh13(s, 29, os.urandom(32), psk=0)
st, p = hand(sid, sh, eph=b"\x01" + vec(2, u16(29) + secret))
sc = Sched(hashlib.sha256, psk)
sc.add(1, ch)
sc.add(2, sh_random(sh, pfs13(s)))
sc.next(secret)
want = {H_C: sc.derive(b"c hs traffic"), H_S: sc.derive(b"s hs traffic")}
sc.add(8, vec(2, b""))
sc.add(20, sc.finished(want[H_S]))
msgs_sf = sc.msgs
sc.next()
want.update({A_C: sc.derive(b"c ap traffic"), A_S: sc.derive(b"s ap traffic"),
             X: sc.derive(b"exp master")})
sec, rest = parse_secrets(p[6:]) if st == SUCCESS else ({}, b"")
ok(st == SUCCESS and p[0] == 0 and p[1:5] == b"EDG2" and p[5] == 1 and
   sec == want,
   "s_hand_and_app_secret, psk_dhe_ke, e_generated: h_c h_s a_c a_s x of "
   "the PSK's schedule, as Python computes them; the session goes on")
fin = Sched.finished(sc, want[H_C], hashlib.sha256(msgs_sf).digest())
st, p = new_ticket(sid, [(20, fin)], 1)
ok(st == SUCCESS and len(parse_secrets(p[5:])[0][R]) == 32,
   "s_new_ticket after a resumed handshake: a new ticket")
st, p = hand(sid, sh)
ok(st == E["invalid_session_id"],
   "s_hand_and_app_secret on a session past it: invalid_session_id (5)")
# psk_ke: no key share, ephemeral no_secret
ch, psk, bk = psk_ch(TICKETS[1][0], TICKETS[1][1], modes=b"\x00\x01")
st, p = early(ch)
sid = p[:4]
s = os.urandom(32)
sh = sh13(s, psk=0, share=False)
st, p = hand(sid, sh, eph=b"\x00", tag=0x80)
sc = Sched(hashlib.sha256, psk)
sc.add(1, ch)
sc.add(2, sh_random(sh, pfs13(s)))
sc.next()
ok(st == SUCCESS and p[0] == 0x80 and p[5] == 0 and
   parse_secrets(p[6:])[0].get(H_C) == sc.derive(b"c hs traffic"),
   "s_hand_and_app_secret, psk_ke (no_secret): the handshake secrets "
   "without (EC)DHE; last_exchange asked, the session ends")
# errors of the PSK path
t2, r2 = TICKETS[2]
ch, psk, bk = psk_ch(t2, r2, tamper=True)
ok(early(ch)[0] == E["invalid_psk"], "a wrong binder: invalid_psk (9)")
ch, psk, bk = psk_ch(t2, r2)
ok(early(ch, sel=3)[0] == E["invalid_psk"], "selected_identity 3 of 1: invalid_psk (9)")
body = ch13(os.urandom(32), [(29, os.urandom(32))], psk=[(t2[2], bytes(32))])
off = 2 + 32 + 33 + 6 + 2      # the extensions' length, then them
moved = body[:off] + u16(len(body) - off - 2 + 4) + body[off + 2:] + ext(0x7777, b"")
ok(early(moved)[0] == E["invalid_handshake"],
   "a pre_shared_key that is not the last extension: invalid_handshake (6)")
ok(early(ch, req=0x4000)[0] == E["invalid_secret_request"],
   "e_s asked (lurkd does no 0-RTT): invalid_secret_request (4)")
ok(early(ch, fresh=7)[0] == E["invalid_freshness"], "freshness 7: invalid_freshness (7)")
life, nonce, tb = t2
bad = (life, nonce, tb[:30] + bytes([tb[30] ^ 1]) + tb[31:])
ch, psk, bk = psk_ch(bad, r2)
st, p = early(ch)
ok(st == E["invalid_psk"], "a ticket tampered with: invalid_psk (9)")
ch, psk, bk = psk_ch((life, nonce, b"\x01\x00" + tb[2:6] + os.urandom(60)), r2)
ok(early(ch)[0] == E["invalid_psk"],
   "a ticket lurkd did not seal (random after a good header): invalid_psk (9)")
ch, psk, bk = psk_ch((life, nonce, os.urandom(80)), r2)
ok(early(ch)[0] == E["invalid_psk"], "not a lurkd ticket at all: invalid_psk (9)")
ch, psk, bk = psk_ch(t2, r2)
st, p = early(ch)
sid = p[:4]
sh = sh13(os.urandom(32), 29, os.urandom(32), psk=1)
ok(hand(sid, sh)[0] == E["invalid_handshake"],
   "ServerHello selecting another identity: invalid_handshake (6)")
ch, psk, bk = psk_ch(t2, r2)
sid = early(ch)[1][:4]
ok(hand(sid, sh13(os.urandom(32), 29, os.urandom(32), psk=0, suite=0x1302))[0] ==
   E["invalid_handshake"],
   "ServerHello of a suite of another hash than the ticket's: invalid_handshake (6)")
ch, psk, bk = psk_ch(t2, r2)
sid = early(ch)[1][:4]
ok(hand(sid, sh13(os.urandom(32), psk=0, share=False))[0] == E["invalid_ephemeral"],
   "e_generated with no key_share in the ServerHello: invalid_ephemeral (8)")
ch, psk, bk = psk_ch(t2, r2)
sid = early(ch)[1][:4]
ok(hand(sid, sh13(os.urandom(32), psk=0, share=False), eph=b"\x00")[0] ==
   E["invalid_handshake"],
   "psk_ke when the client offered only psk_dhe_ke: invalid_handshake (6)")
hs, good = session()
ok(hand(hs.sid, sh13(os.urandom(32), 29, os.urandom(32), psk=0))[0] ==
   E["invalid_session_id"],
   "s_hand_and_app_secret on a s_init_cert_verify session: invalid_session_id (5)")
with open(os.path.join(D, "ticket13"), "wb") as fh:
    fh.write(bytes.fromhex("%08x" % TICKETS[2][0][0]) + bytes([len(nonce)]) +
             nonce + TICKETS[2][1] + u16(len(tb)) + tb)
finish()
