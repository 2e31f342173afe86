"""tls12 and tls13: capabilities, ping and the generic errors.

Usage: drafts_caps.py DIR    -- DIR holds the certificates of the keys
lurkd serves (drafts.t's configuration: rsa and rsarate allow the tls12
RSA operations, p256 tls12-ecdhe and tls13-cert-verify, the others
nothing of the drafts; freshness sha256 and null for tls12, sha256 for
tls13).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, connect, recv_msg, hdr  # noqa: E402
from lurkdrafts import (Client, TLS12, TLS13, T12, T13, SUCCESS,  # noqa: E402
                        CAPABILITIES, PING, cert_der)

D = sys.argv[1]
c = Client(connect())

# the lurk extension lists both drafts
st, p = c.call(0, CAPABILITIES, b"")
n = int.from_bytes(p[:2], "big")
exts = [p[2 + i:4 + i] for i in range(0, n, 2)]
ok(st == SUCCESS and b"\x01\x01" in exts and b"\x02\x01" in exts,
   "lurk capabilities list tls12 v1 (01 01) and tls13 v1 (02 01)")
state = p[-4:]

for d, name in ((TLS12, "tls12"), (TLS13, "tls13")):
    st, p = c.call(d, PING, b"")
    ok(st == SUCCESS and p == b"", name + " ping: success, empty payload")
    st, p = c.call(d, PING, b"x")
    ok(st == 3 and p == state, name + " ping with a payload: invalid format (3)")
    st, p = c.call(d, CAPABILITIES, b"", status=1)
    ok(st == (T13["invalid_status"] if d == TLS13 else T12["undefined_error"])
       and p == state, name + " a response as a request: %s" %
       ("invalid_status (15)" if d == TLS13 else "undefined_error (2)"))


def records(p):
    """capability records: length(4) type(1) body, then lurk_state."""
    out, i = {}, 0
    while i < len(p) - 4:
        n = int.from_bytes(p[i:i + 4], "big")
        out[p[i + 4]] = p[i + 5:i + 4 + n]
        i += 4 + n
    return out, i == len(p) - 4, p[i:]


class R:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def num(self, n):
        return int.from_bytes(self.take(n), "big")

    def vec(self, n):
        return self.take(self.num(n))

    def certs(self):
        body, out = self.vec(3), []
        j = 0
        while j < len(body):
            n = int.from_bytes(body[j:j + 3], "big")
            out.append(body[j + 3:j + 3 + n])
            j += 3 + n
        return out


rsa, rsarate, p256 = (cert_der(os.path.join(D, n + ".crt"))
                      for n in ("rsa", "rsarate", "p256"))

st, p = c.call(TLS12, CAPABILITIES, b"")
recs, whole, tail = records(p)
ok(st == SUCCESS and whole and tail == state,
   "tls12 capabilities: whole records, then lurk_state")
ok(sorted(recs) == [2, 3, 4, 5, 6],
   "tls12 capabilities: a record for each RSA type and ecdhe, the keys allow them")
r = R(recs.get(2, b""))
kt, certs, fresh, suites, prf = r.vec(1), r.certs(), r.vec(1), r.vec(2), r.vec(1)
ok(kt == b"\0" and certs == [rsa, rsarate] and fresh == b"\x00\xff" and
   b"\x00\x9c" in suites and b"\x00\x9d" in suites and prf == b"\0\1\2"
   and r.i == len(r.b),
   "tls12 rsa_master record: sha256_32, the certificates of the RSA keys "
   "that allow it, "
   "freshness sha256 and null, RSA suites, PRF hashes 0 1 2")
r = R(recs.get(6, b""))
kt, certs, fresh, suites = r.vec(1), r.certs(), r.vec(1), r.vec(2)
sigs, ecdsa, ecdhe, poo = r.vec(2), r.vec(1), r.vec(1), r.vec(1)
ok(certs == [p256] and b"\xc0\x2b" in suites and b"\x04\x03" in sigs and
   b"\x05\x03" in sigs and b"\x08\x04" not in sigs and ecdsa == b"\x00\x17"
   and ecdhe == bytes.fromhex("00170018001900 1d001e".replace(" ", "")) and
   poo == b"\0\1\2" and r.i == len(r.b),
   "tls12 ecdhe record: the P-256 key's certificate, its TLS 1.2 schemes "
   "(any SHA-2 with ECDSA), curves, poo_prf null, sha256_128, sha256_256")

st, p = c.call(TLS13, CAPABILITIES, b"")
recs, whole, tail = records(p)
ok(st == SUCCESS and whole and tail == state and sorted(recs) == [2, 3, 4, 5],
   "tls13 capabilities: a record for each server type the keys allow")
r = R(recs.get(2, b""))
fresh, eph, groups, ctypes, sigs = r.vec(1), r.vec(1), r.vec(1), r.vec(1), r.vec(2)
secrets, certs = r.num(2), r.certs()
sigs = [sigs[i:i + 2] for i in range(0, len(sigs), 2)]
ok(fresh == b"\0" and eph == b"\1\2" and b"\x00\x1d" in groups and
   ctypes == b"\x00\x81\x00\x82" and b"\x04\x03" in sigs and
   b"\x08\x04" in sigs and b"\x04\x01" not in sigs and
   b"\x05\x03" not in sigs and secrets == 0x1f00 and certs == [rsa, p256]
   and r.i == len(r.b),
   "tls13 s_init_cert_verify record: freshness sha256, e_/cs_generated, "
   "groups, finger_print and uncompressed, the keys' TLS 1.3 schemes (no "
   "RSA PKCS#1, no ECDSA of another curve), secrets h_c h_s a_c a_s x, "
   "the certificates")
r = R(recs.get(3, b""))
ok(r.num(1) == 3 and r.num(4) == 7200 and r.num(2) == 0x0080 and r.i == len(r.b),
   "tls13 s_new_ticket record: 3 tickets at most, lifetime 7200, r")

# the types the drafts do not define here
st, p = c.call(TLS13, 8, b"")
ok(st == T13["invalid_type"] and p == state,
   "tls13 c_init_client_hello (8): invalid_type (11), as pylurk's CS")
st, p = c.call(TLS13, 40, b"")
ok(st == T13["invalid_type"], "tls13 type 40: invalid_type (11)")
st, p = c.call(TLS12, 7, b"")
ok(st == T12["undefined_error"] and p == state,
   "tls12 type 7: undefined_error (tls12 has no invalid_type)")
finish()
