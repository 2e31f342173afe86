"""The drafts' tls12 and tls13 extensions for the Python tests: framing,
and an independent implementation (hashlib, hmac) of what lurkd computes,
to check its answers: the TLS 1.2 PRF, the freshness functions, HKDF and
the TLS 1.3 key schedule."""
import hashlib
import hmac
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lurkclient import hdr, recv_msg  # noqa: E402

TLS12, TLS13 = 1, 2
# tls12 types and statuses (draft-mglt-lurk-tls12-05)
CAPABILITIES, PING = 0, 1
RSA_MASTER, RSA_MASTER_POH, RSA_EXT, RSA_EXT_POH, ECDHE = 2, 3, 4, 5, 6
T12 = dict(undefined_error=2, invalid_payload_format=3, invalid_key_id_type=4,
           invalid_key_id=5, invalid_tls_random=6, invalid_freshness_funct=7,
           invalid_encrypted_premaster=8, invalid_finished=9,
           invalid_ec_type=10, invalid_ec_curve=11, invalid_poo_prf=12,
           invalid_poo=13, invalid_cipher_or_prf_hash=14)
# tls13 (pylurk-T numbering)
S_INIT_CERT_VERIFY, S_NEW_TICKET, S_INIT_EARLY_SECRET, S_HAND_AND_APP = 2, 3, 4, 5
T13 = dict(undefined_error=2, invalid_format=3, invalid_secret_request=4,
           invalid_session_id=5, invalid_handshake=6, invalid_freshness=7,
           invalid_ephemeral=8, invalid_psk=9, invalid_certificate=10,
           invalid_type=11, invalid_cert_type=12,
           invalid_signature_scheme=13, invalid_status=15)
SUCCESS = 1


class Client:
    """One connection; call() sends a request and returns (status, payload)."""

    def __init__(self, sock):
        self.s = sock
        self.ident = 5000

    def call(self, desig, typ, payload, status=0):
        self.ident += 1
        self.s.sendall(hdr(desig, 1, typ, status, self.ident, len(payload)) +
                       payload)
        h, p, raw = recv_msg(self.s)
        assert h[4] == self.ident, "response id mismatch"
        assert h[0] == desig and h[2] == typ, "response header mismatch"
        return h[3], p


def u8(n):
    return bytes([n])


def u16(n):
    return n.to_bytes(2, "big")


def u24(n):
    return n.to_bytes(3, "big")


def u32(n):
    return n.to_bytes(4, "big")


def vec(n, b):
    return len(b).to_bytes(n, "big") + b


def spki_der(keyfile):
    return subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout",
                           "-outform", "DER"], capture_output=True,
                          check=True).stdout


def cert_der(certfile):
    return subprocess.run(["openssl", "x509", "-in", certfile, "-outform",
                           "DER"], capture_output=True, check=True).stdout


def key_id32(keyfile):
    """KeyPairID sha256_32: type 0, SHA-256 of the SPKI, 4 bytes."""
    return b"\0" + hashlib.sha256(spki_der(keyfile)).digest()[:4]


# ---- TLS 1.2 -----------------------------------------------------------
def p_hash(md, secret, seed, n):
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, md).digest()
        out += hmac.new(secret, a + seed, md).digest()
    return out[:n]


def prf12(md, secret, label, seed, n):
    return p_hash(md, secret, label + seed, n)


PRF_MD = {0: hashlib.sha256, 1: hashlib.sha384, 2: hashlib.sha512}


def pfs12(s):
    """ServerHello.random from S (draft -05 4.1.1): S's time, then 28 bytes
    of SHA-256(S || "tls12 pfs")."""
    return s[:4] + hashlib.sha256(s + b"tls12 pfs").digest()[4:]


def now_random():
    """A random whose first 4 bytes are the time now."""
    import time
    return struct.pack(">I", int(time.time())) + os.urandom(28)


def rsa_encrypt(pubfile, data):
    """RSA PKCS#1 v1.5 encryption with openssl."""
    return subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin",
                           "-inkey", pubfile, "-pkeyopt",
                           "rsa_padding_mode:pkcs1"], input=data,
                          capture_output=True, check=True).stdout


# ---- TLS 1.3 -----------------------------------------------------------
def hkdf_extract(md, salt, ikm):
    return hmac.new(salt, ikm, md).digest()


def hkdf_expand_label(md, secret, label, context, n):
    info = u16(n) + vec(1, b"tls13 " + label) + vec(1, context)
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(secret, t + info + bytes([i]), md).digest()
        out += t
        i += 1
    return out[:n]


def derive_secret(md, secret, label, transcript):
    return hkdf_expand_label(md, secret, label, md(transcript).digest(),
                             md().digest_size)


def framed(msgs):
    """LURK's handshake messages (type + body) with their uint24 lengths."""
    return b"".join(bytes([t]) + u24(len(b)) + b for t, b in msgs)


# ---- TLS 1.2 handshake messages (RFC 5246) -----------------------------
def hello(server, random, suites=(0x009c,), exts=b"", version=0x0303):
    """A ClientHello or ServerHello body; exts: the extensions' bytes."""
    if server:
        b = u16(version) + random + vec(1, b"") + u16(suites[0]) + b"\0"
    else:
        b = (u16(version) + random + vec(1, b"") +
             vec(2, b"".join(u16(s) for s in suites)) + vec(1, b"\0"))
    return b + (vec(2, exts) if exts is not None else b"")


EMS = u16(23) + vec(2, b"")     # extended_master_secret


def certificate12(*ders):
    return vec(3, b"".join(vec(3, d) for d in ders))


def rsa_handshake(cr, s, epms, cert, suite=0x009c, ems=False, certreq=False,
                  extra=()):
    """The messages of an RSA key exchange up to ClientKeyExchange, with S
    as ServerHello.random: list of (type, body)."""
    ext = EMS if ems else b""
    m = [(1, hello(False, cr, (suite,), ext)), (2, hello(True, s, (suite,), ext)),
         (11, certificate12(cert))]
    if certreq:
        m.append((13, vec(1, b"\x01") + vec(2, b"\x04\x01") + vec(2, b"")))
    m.append((14, b""))
    if certreq:
        m.append((11, certificate12()))
    m.append((16, vec(2, epms)))
    return m + list(extra)


def with_random(msgs, sr):
    """The messages with ServerHello.random replaced by sr."""
    out = []
    for t, b in msgs:
        if t == 2:
            b = b[:2] + sr + b[34:]
        out.append((t, b))
    return out


# ---- P-256 arithmetic for the proof of ownership (draft -05 4.6) ------
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
P256_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
          0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def ec_add(a, b):
    p = P256_P
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % p == 0:
        return None
    if a == b:
        m = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, p) % p
    else:
        m = (b[1] - a[1]) * pow(b[0] - a[0], -1, p) % p
    x = (m * m - a[0] - b[0]) % p
    return (x, (m * (a[0] - x) - a[1]) % p)


def ec_mul(k, pt):
    r = None
    while k:
        if k & 1:
            r = ec_add(r, pt)
        pt = ec_add(pt, pt)
        k >>= 1
    return r


def ec_enc(pt):
    return b"\x04" + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


def poo_hash(items):
    return hashlib.sha256(b"".join(u32(len(i)) + i for i in items)).digest()


def poo_params(b, cr, s, key_id, fresh, sig, params, prf=1, tamper=0,
               plus_n=False):
    """poo_params proving knowledge of b for the ECDHE point in params:
    c = SHA-256(G, vG, bG, cr || S, key_id, fresh, sig, params, label),
    each after its 4-byte length, cut to 16 (prf 1) or 32 bytes; r = v - cb."""
    v = int.from_bytes(os.urandom(32), "big") % P256_N
    vg = ec_enc(ec_mul(v, P256_G))
    bg = ec_enc(ec_mul(b, P256_G))
    h = poo_hash([ec_enc(P256_G), vg, bg, cr + s, key_id, bytes([fresh]),
                  u16(sig), params, b"tls12 poo"])
    c = int.from_bytes(h[:16] if prf == 1 else h, "big")
    r = (v - c * b + tamper) % P256_N
    if plus_n:  # the same residue, not below the order
        return bytes([prf]) + vec(1, vg) + vec(1, (r + P256_N).to_bytes(33, "big"))
    return bytes([prf]) + vec(1, vg) + vec(1, r.to_bytes(32, "big"))


# ---- TLS 1.3 messages, in LURK's encoding (no uint24 length) ----------
def ext(t, data):
    return u16(t) + vec(2, data)


def ch13(random, shares, suites=(0x1301, 0x1302), sigalgs=(0x0403, 0x0804, 0x0807),
         groups=(29, 23, 24, 25, 30), psk=None, modes=b"\x01", extra=b""):
    """A ClientHello body: shares is [(group, key_exchange)]; psk is a list
    of (identity, binder) for a pre_shared_key, last, with these binders."""
    e = (ext(43, vec(1, b"\x03\x04")) + ext(10, vec(2, b"".join(u16(g) for g in groups))) +
         ext(13, vec(2, b"".join(u16(s) for s in sigalgs))) +
         ext(51, vec(2, b"".join(u16(g) + vec(2, k) for g, k in shares))) + extra)
    if psk is not None:
        e += ext(45, vec(1, modes))
        ids = b"".join(vec(2, i) + u32(0) for i, _ in psk)
        binders = b"".join(vec(1, b) for _, b in psk)
        e += ext(41, vec(2, ids) + vec(2, binders))
    return (u16(0x0303) + random + vec(1, bytes(32)) +
            vec(2, b"".join(u16(s) for s in suites)) + vec(1, b"\0") + vec(2, e))


def sh13(random, group=29, kx=b"", suite=0x1301, psk=None, version=0x0304,
         sid=bytes(32), share=True):
    e = ext(43, u16(version))
    if share:
        e += ext(51, u16(group) + vec(2, kx))
    if psk is not None:
        e += ext(41, u16(psk))
    return u16(0x0303) + random + vec(1, sid) + u16(suite) + b"\0" + vec(2, e)


def lurk_hs(msgs):
    """handshake<4>: each message as type and body, no uint24 length."""
    return vec(4, b"".join(bytes([t]) + b for t, b in msgs))


def pfs13(s, label=b"tls13 pfs srv"):
    return hashlib.sha256(s + label).digest()


def sh_random(body, random):
    """A ServerHello body with another random."""
    return body[:2] + random + body[34:]


def sh_share(body, group, kx):
    """A ServerHello body whose key_share gets kx (cs_generated)."""
    old = u16(51) + vec(2, u16(group) + vec(2, b""))
    assert old in body
    body = body.replace(old, u16(51) + vec(2, u16(group) + vec(2, kx)))
    n = len(body) - 2 - 32 - 1 - 32 - 2 - 1 - 2
    return body[:-n - 2] + u16(n) + body[-n:]


def fp_cert(*ders, exts=b""):
    """Cert finger_print: cert_type 129, context<1>, list<3> of fp(4) ext<2>."""
    return u16(129) + b"\0" + vec(3, b"".join(
        hashlib.sha256(d).digest()[:4] + vec(2, exts) for d in ders))


def full_cert(*ders):
    """Cert uncompressed: cert_type 130, an RFC 8446 Certificate body."""
    return u16(130) + b"\0" + vec(3, b"".join(vec(3, d) + vec(2, b"") for d in ders))


class Sched:
    """The TLS 1.3 key schedule, as lurkd runs it, in Python."""

    def __init__(self, md=hashlib.sha256, psk=None):
        self.md, self.h = md, md().digest_size
        self.secret = hkdf_extract(md, bytes(self.h), psk or bytes(self.h))
        self.msgs = b""

    def next(self, ikm=None):
        d = derive_secret(self.md, self.secret, b"derived", b"")
        self.secret = hkdf_extract(self.md, d, ikm or bytes(self.h))

    def add(self, t, body):
        self.msgs += bytes([t]) + u24(len(body)) + body

    def th(self):
        return self.md(self.msgs).digest()

    def derive(self, label):
        return derive_secret(self.md, self.secret, label, self.msgs)

    def finished(self, base, th=None):
        fk = hkdf_expand_label(self.md, base, b"finished", b"", self.h)
        return hmac.new(fk, th if th is not None else self.th(), self.md).digest()


def parse_secrets(p):
    """secret_list<2> -> {type: data}, and the rest."""
    n = int.from_bytes(p[:2], "big")
    out, i = {}, 2
    while i < 2 + n:
        t, ln = p[i], p[i + 1]
        out[t] = p[i + 2:i + 2 + ln]
        i += 2 + ln
    return out, p[2 + n:]


def cv_content(th):
    return b" " * 64 + b"TLS 1.3, server CertificateVerify\0" + th
