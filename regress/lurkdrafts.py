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
