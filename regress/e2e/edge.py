"""The edge extension (designation 192) against a running lurkd.

Usage: edge.py DIR    -- DIR holds NAME.key/.crt/.pub for the keys
rsa (rsa-kex allowed), rsanokex, p256, p384, ed25519 that lurkd serves.
"""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg, dh_prime

D = sys.argv[1]
EDGE = 192
KEY_INFO, SIGN13, SIGN12, PREMASTER = 1, 2, 3, 4
ST_OK, INVALID_FORMAT, UNKNOWN_KEY, UNAUTHORIZED = 1, 3, 8, 9
REFUSED, INVALID_CONTENT, INVALID_SCHEME = 10, 11, 12
s = connect()
ident = [1000]


def call(typ, payload, sock=None):
    sock = sock or s
    ident[0] += 1
    sock.sendall(hdr(EDGE, 1, typ, 0, ident[0], len(payload)) + payload)
    h, p, raw = recv_msg(sock)
    assert h[4] == ident[0], "response id mismatch"
    return h[3], p


def spki(name):
    with open(os.path.join(D, name + ".spki"), "rb") as f:
        return f.read()


def kid(name):
    return hashlib.sha256(spki(name)).digest()


def u16(n):
    return n.to_bytes(2, "big")


def sign(name, typ, scheme, tbs, sock=None):
    return call(typ, kid(name) + u16(scheme) + u16(len(tbs)) + tbs, sock)


def verify(name, tbs, sig, md=None, pss=False):
    """openssl verifies the signature with the public key."""
    tf, sf = os.path.join(D, "tbs"), os.path.join(D, "sig")
    with open(tf, "wb") as f:
        f.write(tbs)
    with open(sf, "wb") as f:
        f.write(sig)
    pub = os.path.join(D, name + ".pub")
    if md is None:
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub,
               "-rawin", "-in", tf, "-sigfile", sf]
    else:
        cmd = ["openssl", "dgst", "-" + md, "-verify", pub,
               "-signature", sf]
        if pss:
            cmd += ["-sigopt", "rsa_padding_mode:pss",
                    "-sigopt", "rsa_pss_saltlen:digest"]
        cmd.append(tf)
    r = subprocess.run(cmd, capture_output=True)
    return r.returncode == 0


TLS13 = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"
TLS13C = b" " * 64 + b"TLS 1.3, client CertificateVerify\x00"
h32, h48 = os.urandom(32), os.urandom(48)

# key_info, by name and by SPKI hash
st, p = call(KEY_INFO, bytes([1, 4]) + b"p256")
ok(st == ST_OK and p[:32] == kid("p256") and p[32] == 2 and
   p[35:37] == u16(23), "key_info by name: id, kind EC, group P-256")
nlen = p[38]
off = 39 + nlen
sl = int.from_bytes(p[off:off + 2], "big")
ok(p[39:off] == b"p256" and p[off + 2:off + 2 + sl] == spki("p256"),
   "key_info: name and SubjectPublicKeyInfo")
cl = int.from_bytes(p[off + 2 + sl:off + 5 + sl], "big")
chain = p[off + 5 + sl:]
der = subprocess.run(["openssl", "x509", "-in", os.path.join(D, "p256.crt"),
                      "-outform", "DER"], capture_output=True).stdout
ok(cl == len(chain) and chain[3:] == der and
   int.from_bytes(chain[:3], "big") == len(der),
   "key_info: certificate chain (cert<3> list)")
st, p = call(KEY_INFO, bytes([0, 32]) + kid("rsa"))
ok(st == ST_OK and p[32] == 0 and p[37] == 7,
   "key_info by SPKI SHA-256: RSA, operations sign-tls13|12|rsa-kex")
st, p = call(KEY_INFO, bytes([0, 32]) + b"\x00" * 32)
ok(st == UNKNOWN_KEY and len(p) == 4, "key_info of an unknown key -> unknown_key")
st, p = call(KEY_INFO, bytes([0, 31]) + b"\x00" * 31)
ok(st == INVALID_FORMAT, "key_info with a short id -> invalid_format")

# TLS 1.3 CertificateVerify signatures, verified with the public key
for name, scheme, md, pss in (("rsa", 0x0804, "sha256", True),
                              ("rsa", 0x0805, "sha384", True),
                              ("p256", 0x0403, "sha256", False),
                              ("p384", 0x0503, "sha384", False),
                              ("ed25519", 0x0807, None, False)):
    for hh in (h32, h48):
        tbs = TLS13 + hh
        st, p = sign(name, SIGN13, scheme, tbs)
        sig = p[2:]
        ok(st == ST_OK and int.from_bytes(p[:2], "big") == len(sig) and
           verify(name, tbs, sig, md, pss),
           "TLS 1.3 CertificateVerify, %s scheme %04x, %d-byte hash: "
           "signature verifies" % (name, scheme, len(hh)))

# TLS 1.2 ServerKeyExchange content
def ecparams(group, point):
    return bytes([3]) + u16(group) + bytes([len(point)]) + point


p256pt = bytes.fromhex(
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
rnd = os.urandom(64)
for name, scheme, md, pss in (("p256", 0x0403, "sha256", False),
                              ("rsa", 0x0401, "sha256", False),
                              ("rsa", 0x0804, "sha256", True),
                              ("ed25519", 0x0807, None, False)):
    tbs = rnd + ecparams(23, p256pt)
    st, p = sign(name, SIGN12, scheme, tbs)
    ok(st == ST_OK and verify(name, tbs, p[2:], md, pss),
       "TLS 1.2 ECDHE P-256 params, %s scheme %04x: signature verifies"
       % (name, scheme))
tbs = rnd + ecparams(29, os.urandom(32))
st, p = sign("p256", SIGN12, 0x0403, tbs)
ok(st == ST_OK and verify("p256", tbs, p[2:], "sha256"),
   "TLS 1.2 ECDHE X25519 params: signature verifies")
# in TLS 1.2 an ECDSA scheme names the hash, not the curve (RFC 8422);
# SHA-224 is a TLS 1.2 scheme for ECDSA and RSA PKCS#1
for name, scheme, md in (("p256", 0x0503, "sha384"), ("p256", 0x0603, "sha512"),
                         ("p384", 0x0403, "sha256"), ("p256", 0x0303, "sha224"),
                         ("rsa", 0x0301, "sha224")):
    tbs = rnd + ecparams(23, p256pt)
    st, p = sign(name, SIGN12, scheme, tbs)
    ok(st == ST_OK and verify(name, tbs, p[2:], md),
       "TLS 1.2, %s scheme %04x (%s): signature verifies" % (name, scheme, md))


def dhparams(prime, g=b"\2", y=None):
    y = os.urandom(len(prime) - 1) if y is None else y
    return b"".join(u16(len(v)) + v for v in (prime, g, y))


# TLS 1.2 DHE (OpenSSL's automatic parameters, haproxy's defaults)
for group in ("modp_2048", "ffdhe2048", "ffdhe6144"):
    tbs = rnd + dhparams(dh_prime(group))
    st, p = sign("rsa", SIGN12, 0x0804, tbs)
    ok(st == ST_OK and verify("rsa", tbs, p[2:], "sha256", True),
       "TLS 1.2 DHE params, group %s: signature verifies" % group)
modp = dh_prime("modp_2048")

# what keyproc refuses
refusals = [
    ("arbitrary bytes", SIGN13, "p256", 0x0403, os.urandom(100), INVALID_CONTENT),
    ("a bare SHA-256 digest", SIGN13, "p256", 0x0403, h32, INVALID_CONTENT),
    ("a bare digest as TLS 1.2 content", SIGN12, "rsa", 0x0401, h32, INVALID_CONTENT),
    ("the TLS 1.3 client CertificateVerify context", SIGN13, "p256", 0x0403,
     TLS13C + h32, INVALID_CONTENT),
    ("a 40-byte TLS 1.3 hash", SIGN13, "p256", 0x0403, TLS13 + os.urandom(40),
     INVALID_CONTENT),
    ("TLS 1.3: the server context, a NUL first in the padding", SIGN13,
     "p256", 0x0403, b"\x00" + TLS13[1:] + h32, INVALID_CONTENT),
    ("TLS 1.3: the server context, a tab last in the padding", SIGN13,
     "p256", 0x0403, TLS13[:63] + b"\t" + TLS13[64:] + h32, INVALID_CONTENT),
    ("TLS 1.3: the server context after 64 zero bytes", SIGN13, "p256",
     0x0403, bytes(64) + TLS13[64:] + h32, INVALID_CONTENT),
    ("TLS 1.3: the padding, then another context string", SIGN13, "p256",
     0x0403, TLS13[:-2] + b"z\x00" + h32, INVALID_CONTENT),
    ("TLS 1.3: the server context without its separator byte", SIGN13,
     "p256", 0x0403, TLS13[:-1] + b"\x01" + h32, INVALID_CONTENT),
    ("TLS 1.3 content with a trailing byte", SIGN13, "p256", 0x0403,
     TLS13 + h32 + b"\x00", INVALID_CONTENT),
    ("TLS 1.2 params with a trailing byte", SIGN12, "p256", 0x0403,
     rnd + ecparams(23, p256pt) + b"\x00", INVALID_CONTENT),
    ("TLS 1.2 params with an unknown curve (secp256k1)", SIGN12, "p256", 0x0403,
     rnd + ecparams(22, p256pt), INVALID_CONTENT),
    ("TLS 1.2 params with a point of the wrong size", SIGN12, "p256", 0x0403,
     rnd + ecparams(24, p256pt), INVALID_CONTENT),
    ("TLS 1.2 params with a point off the curve", SIGN12, "p256", 0x0403,
     rnd + ecparams(23, p256pt[:-1] + bytes([p256pt[-1] ^ 1])), INVALID_CONTENT),
    ("TLS 1.2 explicit-curve params (curve_type 1)", SIGN12, "p256", 0x0403,
     rnd + bytes([1]) + ecparams(23, p256pt)[1:], INVALID_CONTENT),
    ("SHA-1 (rsa_pkcs1_sha1) in TLS 1.2", SIGN12, "rsa", 0x0201,
     rnd + ecparams(23, p256pt), INVALID_SCHEME),
    ("SHA-1 (ecdsa_sha1) in TLS 1.2", SIGN12, "p256", 0x0203,
     rnd + ecparams(23, p256pt), INVALID_SCHEME),
    ("RSA PKCS#1 v1.5 in TLS 1.3", SIGN13, "rsa", 0x0401, TLS13 + h32,
     INVALID_SCHEME),
    ("ECDSA with the hash of another curve", SIGN13, "p256", 0x0503,
     TLS13 + h32, INVALID_SCHEME),
    ("an RSA scheme with an EC key", SIGN13, "p256", 0x0804, TLS13 + h32,
     INVALID_SCHEME),
    ("ecdsa_sha224 in TLS 1.3", SIGN13, "p256", 0x0303, TLS13 + h32,
     INVALID_SCHEME),
    ("rsa_pkcs1_sha224 in TLS 1.3", SIGN13, "rsa", 0x0301, TLS13 + h32,
     INVALID_SCHEME),
    ("DHE with a prime of the edge's choosing", SIGN12, "rsa", 0x0804,
     rnd + dhparams(modp[:-1] + bytes([modp[-1] ^ 2])), INVALID_CONTENT),
    ("DHE with generator 5", SIGN12, "rsa", 0x0804,
     rnd + dhparams(modp, g=b"\5"), INVALID_CONTENT),
    ("DHE with Ys = p - 1", SIGN12, "rsa", 0x0804,
     rnd + dhparams(modp, y=modp[:-1] + bytes([modp[-1] - 1])), INVALID_CONTENT),
    ("DHE with Ys = 1", SIGN12, "rsa", 0x0804,
     rnd + dhparams(modp, y=b"\1"), INVALID_CONTENT),
    ("DHE params with a trailing byte", SIGN12, "rsa", 0x0804,
     rnd + dhparams(modp) + b"\0", INVALID_CONTENT),
]
for what, typ, name, scheme, tbs, want in refusals:
    st, p = sign(name, typ, scheme, tbs)
    ok(st == want and len(p) == 4, "refused: %s -> status %d" % (what, want))

# malformed requests
st, p = call(SIGN13, kid("p256") + u16(0x0403) + u16(200) + TLS13 + h32)
ok(st == INVALID_FORMAT, "tbs length beyond the payload -> invalid_format")
st, p = call(SIGN13, kid("p256") + u16(0x0403) + u16(len(TLS13) + 32) + TLS13 +
             h32 + b"xx")
ok(st == INVALID_FORMAT, "bytes after the tbs -> invalid_format")
st, p = sign("p256", 9, 0x0403, TLS13 + h32)
ok(st == 5, "edge type 9 -> invalid_type")

# RSA key exchange: only where the key allows rsa-kex
pm = bytes([3, 3]) + os.urandom(46)
with open(os.path.join(D, "pm"), "wb") as f:
    f.write(pm)
ct = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey",
                     os.path.join(D, "rsa.pub"), "-in", os.path.join(D, "pm")],
                    capture_output=True).stdout
st, p = call(PREMASTER, kid("rsa") + u16(0x0303) + u16(0x0303) +
             u16(len(ct)) + ct)
ok(st == ST_OK and p == pm, "rsa-kex: the premaster is decrypted")
bad = ct[:-1] + bytes([ct[-1] ^ 0x55])
st, p = call(PREMASTER, kid("rsa") + u16(0x0303) + u16(0x0303) +
             u16(len(bad)) + bad)
st2, p2 = call(PREMASTER, kid("rsa") + u16(0x0303) + u16(0x0303) +
               u16(len(bad)) + bad)
ok(st == ST_OK and len(p) == 48 and p != pm and st2 == ST_OK,
   "rsa-kex: a bad ciphertext still yields 48 bytes (implicit rejection)")
st, p = call(PREMASTER, kid("rsa") + u16(0x0303) + u16(0x0303) + u16(10) +
             ct[:10])
ok(st == INVALID_CONTENT, "rsa-kex: a ciphertext shorter than the modulus")
st, p = call(PREMASTER, kid("rsanokex") + u16(0x0303) + u16(0x0303) +
             u16(len(ct)) + ct)
ok(st == REFUSED, "rsa-kex refused where the key does not allow it")
st, p = call(PREMASTER, kid("p256") + u16(0x0303) + u16(0x0303) +
             u16(len(ct)) + ct)
ok(st == REFUSED, "rsa-kex refused for an EC key")

# pipelined key operations on one connection, answered by id
n = 200
reqs = b""
for i in range(n):
    tbs = TLS13 + os.urandom(32)
    pl = kid("p256") + u16(0x0403) + u16(len(tbs)) + tbs
    reqs += hdr(EDGE, 1, SIGN13, 0, 50000 + i, len(pl)) + pl
s.sendall(reqs)
got = set()
for i in range(n):
    h, p, raw = recv_msg(s)
    if h[3] == ST_OK:
        got.add(h[4])
ok(got == set(range(50000, 50000 + n)),
   "200 pipelined signatures: every id answered once, all succeed")

# still serving after all of that
st, p = sign("ed25519", SIGN13, 0x0807, TLS13 + h32)
ok(st == ST_OK, "lurkd still signs after the refusals")

# a peer whose uid the key does not allow (run as nobody if we can)
if len(sys.argv) > 2 and sys.argv[2] == "nobody":
    import pwd
    nb = pwd.getpwnam("nobody")
    pid = os.fork()
    if pid == 0:
        os.setgroups([])
        os.setgid(nb.pw_gid)
        os.setuid(nb.pw_uid)
        c = connect()
        got = [sign("p256", SIGN13, 0x0403, TLS13 + h32, c)[0],
               sign("p256", SIGN12, 0x0403, rnd + ecparams(23, p256pt),
                    c)[0],
               call(PREMASTER, kid("rsa") + u16(0x0303) + u16(0x0303) +
                    u16(len(ct)) + ct, c)[0],
               sign("ed25519", SIGN13, 0x0807, TLS13 + h32, c)[0],
               sign("ed25519", SIGN12, 0x0807, rnd + ecparams(23, p256pt),
                    c)[0]]
        want = [UNAUTHORIZED] * 3 + [ST_OK] * 2
        os._exit(0 if got == want else 1)
    _, status = os.waitpid(pid, 0)
    ok(status == 0, "a uid the key does not allow -> unauthorized for "
       "sign_tls13, sign_tls12 and rsa_premaster; a key that allows its "
       "group still works")
finish()
