"""tls12 (draft-mglt-lurk-tls12-05) against a running lurkd: every
operation's answer checked with an independent implementation (the TLS
1.2 PRF in Python, signatures verified by openssl), and every error
status.

Usage: drafts_tls12.py DIR [UID]    -- DIR as drafts.t makes it; UID: a
uid to act as that no key allows (as root only)
"""
import hashlib
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, connect, as_uid  # noqa: E402
from lurkdrafts import *  # noqa: E402,F403

D = sys.argv[1]
other = int(sys.argv[2]) if len(sys.argv) > 2 else None
c = Client(connect())
E = T12


def f(n):
    return os.path.join(D, n)


KID = {n: key_id32(f(n + ".key")) for n in ("rsa", "rsa2", "rsarate", "p256", "ed")}
CERT = {n: cert_der(f(n + ".crt")) for n in ("rsa", "p256")}


def rsa_master(key="rsa", fresh=0, prf=0, s=None, cr=None, epms=None, pm=None):
    cr = cr or os.urandom(32)
    s = s or now_random()
    pm = pm or b"\x03\x03" + os.urandom(46)
    epms = rsa_encrypt(f(key + ".pub"), pm) if epms is None else epms
    st, p = c.call(TLS12, RSA_MASTER, KID[key] + bytes([fresh, prf]) + cr + s + epms)
    return st, p, cr, s, pm


def expect_master(pm, cr, sr, prf=0, label=b"master secret", seed=None):
    return prf12(PRF_MD[prf], pm, label, seed if seed is not None else cr + sr, 48)


# ---- rsa_master -------------------------------------------------------
st, p, cr, s, pm = rsa_master()
ok(st == SUCCESS and p == expect_master(pm, cr, pfs12(s)),
   "rsa_master: the master secret of PRF(premaster, cr || F(S)), F sha256 "
   "computed by lurkd (checked with Python's PRF)")
for prf in (1, 2):
    st, p, cr, s, pm = rsa_master(prf=prf)
    ok(st == SUCCESS and p == expect_master(pm, cr, pfs12(s), prf),
       "rsa_master: prf_hash %s" % ("sha384", "sha512")[prf - 1])
st, p, cr, s, pm = rsa_master(fresh=255)
ok(st == SUCCESS and p == expect_master(pm, cr, s),
   "rsa_master: freshness null (allowed here): ServerHello.random is S")
pm = b"\x03\x03" + os.urandom(46)
epms = rsa_encrypt(f("rsa.pub"), pm)
st, p, cr, s, _ = rsa_master(epms=u16(len(epms)) + epms, pm=pm)
ok(st == SUCCESS and p == expect_master(pm, cr, pfs12(s)),
   "rsa_master: an EncryptedPreMasterSecret with its 2-byte length")
pm = b"\x03\x01" + os.urandom(46)
st, p, cr, s, _ = rsa_master(pm=pm)
ok(st == SUCCESS and len(p) == 48 and p != expect_master(pm, cr, pfs12(s)),
   "rsa_master: a premaster of the wrong version: a master all the same, "
   "not of that premaster (implicit rejection)")
st, p, cr, s, _ = rsa_master(epms=b"\x00" + os.urandom(255))
ok(st == SUCCESS and len(p) == 48,
   "rsa_master: a ciphertext of bad padding: a random master, no error")
st, p, *_ = rsa_master(epms=os.urandom(200))
ok(st == E["invalid_payload_format"],
   "rsa_master: ciphertext not the size of the modulus: invalid_payload_format (3)")
st, p, *_ = rsa_master(fresh=7)
ok(st == E["invalid_freshness_funct"], "rsa_master: freshness 7: invalid_freshness_funct (7)")
st, p, *_ = rsa_master(s=struct.pack(">I", int(time.time()) - 3600) + os.urandom(28))
ok(st == E["invalid_tls_random"],
   "rsa_master: S an hour old: invalid_tls_random (6)")
st, p, *_ = rsa_master(s=struct.pack(">I", int(time.time()) + 60) + os.urandom(28))
ok(st == E["invalid_tls_random"],
   "rsa_master: S a minute ahead: invalid_tls_random (6)")
st, p, *_ = rsa_master(prf=3)
ok(st == E["invalid_cipher_or_prf_hash"], "rsa_master: prf_hash 3: invalid_cipher_or_prf_hash (14)")
st, p = c.call(TLS12, RSA_MASTER, b"\x01" + KID["rsa"][1:] + b"\0\0" + bytes(64) + bytes(256))
ok(st == E["invalid_key_id_type"], "rsa_master: key_id type 1: invalid_key_id_type (4)")
st, p = c.call(TLS12, RSA_MASTER, b"\0\xde\xad\xbe\xef\0\0" + bytes(64) + bytes(256))
ok(st == E["invalid_key_id"], "rsa_master: unknown key id: invalid_key_id (5)")
time.sleep(1.1)     # a second's log lines of this uid: this one is logged
st, p, *_ = rsa_master(key="rsa2")
ok(st == E["invalid_key_id"],
   "rsa_master: an RSA key whose policy lacks it: invalid_key_id (5)")
st, p = c.call(TLS12, RSA_MASTER, KID["rsa"] + b"\0\0" + bytes(10))
ok(st == E["invalid_payload_format"], "rsa_master truncated: invalid_payload_format (3)")
if other is not None:
    pm = b"\x03\x03" + os.urandom(46)
    payload = KID["rsa"] + b"\0\0" + os.urandom(32) + now_random() + rsa_encrypt(f("rsa.pub"), pm)

    def as_other():
        oc = Client(connect())
        st, p = oc.call(TLS12, RSA_MASTER, payload)
        return st == E["invalid_key_id"]
    ok(as_uid(other, as_other),
       "rsa_master from a uid the key does not allow: invalid_key_id (5)")

# the rate of decryptions that answer without the client's Finished
time.sleep(1.1)
sts = [rsa_master(key="rsarate")[0] for _ in range(4)]
ok(sts[:2] == [SUCCESS, SUCCESS] and E["undefined_error"] in sts[2:],
   "rsa_master over limit rsa-kex rate 1 burst 2: undefined_error")


# ---- rsa_master_with_poh, rsa_extended_master(_with_poh) --------------
def hs_request(typ, key="rsa", suite=0x009c, ems=None, certreq=False,
               finished=None, fresh=0, s=None, extra=(), msgs=None):
    ext = typ in (RSA_EXT, RSA_EXT_POH) if ems is None else ems
    cr, s = os.urandom(32), s or now_random()
    pm = b"\x03\x03" + os.urandom(46)
    epms = rsa_encrypt(f(key + ".pub"), pm)
    m = msgs or rsa_handshake(cr, s, epms, CERT["rsa"], suite, ext, certreq, extra)
    sr = pfs12(s) if fresh == 0 else s
    md = PRF_MD[1 if suite == 0x009d else 0]
    real = with_random(m, sr)
    if ext:
        cke = [i for i, (t, _) in enumerate(real) if t == 16][0]
        master = prf12(md, pm, b"extended master secret",
                       md(framed(real[:cke + 1])).digest(), 48)
    else:
        master = prf12(md, pm, b"master secret", cr + sr, 48)
    fin = prf12(md, master, b"client finished", md(framed(real)).digest(), 12)
    payload = KID[key] + bytes([fresh]) + vec(2, framed(m))
    if typ in (RSA_MASTER_POH, RSA_EXT_POH):
        payload += fin if finished is None else finished
    st, p = c.call(TLS12, typ, payload)
    return st, p, master


st, p, m = hs_request(RSA_MASTER_POH)
ok(st == SUCCESS and p == m,
   "rsa_master_with_poh: the master secret, once the client Finished "
   "(over the handshake with ServerHello.random = F(S)) matches")
st, p, m = hs_request(RSA_MASTER_POH, suite=0x009d)
ok(st == SUCCESS and p == m,
   "rsa_master_with_poh: AES256-GCM-SHA384: the PRF with SHA-384")
st, p, m = hs_request(RSA_MASTER_POH, finished=bytes(12))
ok(st == E["invalid_finished"] and len(p) == 4,
   "rsa_master_with_poh: a wrong Finished: invalid_finished (9), no master")
st, p, m = hs_request(RSA_MASTER_POH, suite=0xc02f)
ok(st == E["invalid_cipher_or_prf_hash"],
   "rsa_master_with_poh: an ECDHE suite: invalid_cipher_or_prf_hash (14)")
st, p, m = hs_request(RSA_MASTER_POH, ems=True)
ok(st == E["invalid_payload_format"],
   "rsa_master_with_poh with extended master secret agreed: invalid_payload_format (3)")
cr, s = os.urandom(32), now_random()
bad = [(1, hello(False, cr)), (2, hello(True, s)), (11, certificate12(CERT["rsa"])),
       (12, bytes(70)), (14, b""), (16, vec(2, bytes(256)))]
st, p, m = hs_request(RSA_MASTER_POH, msgs=bad)
ok(st == E["invalid_payload_format"],
   "rsa_master_with_poh: a ServerKeyExchange in the handshake: invalid_payload_format (3)")
st, p, m = hs_request(RSA_MASTER_POH, fresh=9)
ok(st == E["invalid_freshness_funct"],
   "rsa_master_with_poh: freshness 9: invalid_freshness_funct (7)")
st, p, m = hs_request(RSA_MASTER_POH, s=b"\0\0\0\1" + os.urandom(28))
ok(st == E["invalid_tls_random"],
   "rsa_master_with_poh: S of 1970: invalid_tls_random (6)")
st, p, m = hs_request(RSA_EXT)
ok(st == SUCCESS and p == m,
   "rsa_extended_master: PRF(premaster, \"extended master secret\", "
   "session_hash over ClientHello..ClientKeyExchange with F(S))")
st, p, m = hs_request(RSA_EXT, ems=False)
ok(st == E["invalid_payload_format"],
   "rsa_extended_master without the extension agreed: invalid_payload_format (3)")
st, p, m = hs_request(RSA_EXT_POH, certreq=True)
ok(st == SUCCESS and p == m,
   "rsa_extended_master_with_poh, CertificateRequest and an empty client "
   "Certificate: the master secret")
st, p, m = hs_request(RSA_EXT_POH, finished=b"\xff" * 12)
ok(st == E["invalid_finished"], "rsa_extended_master_with_poh: a wrong Finished: invalid_finished (9)")
sts = [hs_request(RSA_MASTER_POH, key="rsarate")[0] for _ in range(4)]
ok(sts == [SUCCESS] * 4,
   "rsa_master_with_poh is not under limit rsa-kex rate (no oracle: the Finished)")

# ---- ecdhe --------------------------------------------------------------
P256 = subprocess.run(["openssl", "pkey", "-in", f("p256.key"), "-pubout",
                       "-outform", "DER"], capture_output=True).stdout[-65:]


def ecdhe(key="p256", sig=0x0403, params=None, poo=b"\0", fresh=0, s=None,
          cr=None):
    cr, s = cr or os.urandom(32), s or now_random()
    params = params if params is not None else b"\x03" + u16(23) + vec(1, P256)
    st, p = c.call(TLS12, ECDHE, KID[key] + bytes([fresh]) + cr + s + u16(sig) +
                   params + poo)
    return st, p, cr + (pfs12(s) if fresh == 0 else s) + params


def verify(key, tbs, sig, md):
    with open(f("tbs"), "wb") as fh:
        fh.write(tbs)
    with open(f("sig"), "wb") as fh:
        fh.write(sig)
    return subprocess.run(["openssl", "dgst", "-" + md, "-verify", f(key + ".pub"),
                           "-signature", f("sig"), f("tbs")],
                          capture_output=True).returncode == 0


st, p, tbs = ecdhe()
ok(st == SUCCESS and int.from_bytes(p[:2], "big") == len(p) - 2 and
   verify("p256", tbs, p[2:], "sha256"),
   "ecdhe: signed_params<2>, ECDSA P-256 SHA-256 over cr || F(S) || "
   "ServerECDHParams (openssl verifies)")
st, p, tbs = ecdhe(sig=0x0603)
ok(st == SUCCESS and verify("p256", tbs, p[2:], "sha512"),
   "ecdhe: SHA-512 with a P-256 key: TLS 1.2 binds no hash to the curve")
st, p, tbs = ecdhe(params=b"\x03" + u16(29) + vec(1, os.urandom(32)))
ok(st == SUCCESS and verify("p256", tbs, p[2:], "sha256"), "ecdhe: x25519 parameters")
st, p, tbs = ecdhe(sig=0x0804)
ok(st == E["invalid_payload_format"],
   "ecdhe: rsa_pss_rsae_sha256 with an EC key: invalid_payload_format (3)")
st, p, tbs = ecdhe(sig=0x0203)
ok(st == E["invalid_payload_format"], "ecdhe: ecdsa_sha1: invalid_payload_format (3)")
st, p, tbs = ecdhe(params=b"\x01" + u16(23) + vec(1, P256))
ok(st == E["invalid_ec_type"], "ecdhe: curve_type explicit_prime (1): invalid_ec_type (10)")
st, p, tbs = ecdhe(params=b"\x03" + u16(22) + vec(1, P256))
ok(st == E["invalid_ec_curve"], "ecdhe: secp256k1 (22): invalid_ec_curve (11)")
st, p, tbs = ecdhe(params=b"\x03" + u16(23) + vec(1, P256[:-1] + bytes([P256[-1] ^ 1])))
ok(st == E["invalid_payload_format"],
   "ecdhe: a point not on P-256: invalid_payload_format (3)")
st, p, tbs = ecdhe(poo=b"\x03")
ok(st == E["invalid_poo_prf"], "ecdhe: poo_prf 3: invalid_poo_prf (12)")
st, p, tbs = ecdhe(fresh=1)
ok(st == E["invalid_freshness_funct"], "ecdhe: freshness 1: invalid_freshness_funct (7)")
st, p, tbs = ecdhe(s=b"\0\0\0\0" + bytes(28))
ok(st == E["invalid_tls_random"], "ecdhe: S of time 0: invalid_tls_random (6)")
st, p, tbs = ecdhe(key="ed")
ok(st == E["invalid_key_id"], "ecdhe with a key whose policy lacks it: invalid_key_id (5)")
# the proof of ownership (Schnorr, draft -05)
b = int.from_bytes(os.urandom(32), "big") % P256_N
params = b"\x03" + u16(23) + vec(1, ec_enc(ec_mul(b, P256_G)))
for prf in (1, 2):
    cr, s = os.urandom(32), now_random()
    poo = poo_params(b, cr, s, KID["p256"], 0, 0x0403, params, prf)
    st, p, tbs = ecdhe(params=params, poo=poo, cr=cr, s=s)
    ok(st == SUCCESS and verify("p256", tbs, p[2:], "sha256"),
       "ecdhe with a proof of ownership of b, poo_prf %s: signed" %
       ("sha256_128", "sha256_256")[prf - 1])
cr, s = os.urandom(32), now_random()
poo = poo_params(b, cr, s, KID["p256"], 0, 0x0403, params, 1, tamper=1)
st, p, tbs = ecdhe(params=params, poo=poo, cr=cr, s=s)
ok(st == E["invalid_poo"], "ecdhe: a proof with r off by one: invalid_poo (13)")
cr, s = os.urandom(32), now_random()
poo = poo_params(b + 1, cr, s, KID["p256"], 0, 0x0403, params, 1)
st, p, tbs = ecdhe(params=params, poo=poo, cr=cr, s=s)
ok(st == E["invalid_poo"], "ecdhe: a proof for another private key: invalid_poo (13)")
poo = poo_params(b, cr, s, KID["p256"], 0, 0x0403, params, 1, plus_n=True)
st, p, tbs = ecdhe(params=params, poo=poo, cr=cr, s=s)
ok(st == E["invalid_poo"], "ecdhe: a proof whose r is r + n: invalid_poo (13)")
poo = poo_params(b, cr, s, KID["p256"], 0, 0x0403, params, 1)
st, p, tbs = ecdhe(params=params, poo=poo, cr=cr, s=now_random())
ok(st == E["invalid_poo"], "ecdhe: a proof made for another S: invalid_poo (13)")
st, p, tbs = ecdhe(params=b"\x03" + u16(29) + vec(1, os.urandom(32)),
                   poo=b"\x01" + vec(1, ec_enc(P256_G)) + vec(1, b"\1"))
ok(st == E["invalid_poo_prf"], "ecdhe: a proof of ownership on x25519: invalid_poo_prf (12)")
st, p = c.call(TLS12, ECDHE, KID["p256"] + b"\0" + bytes(64) + u16(0x0403))
ok(st == E["invalid_payload_format"], "ecdhe truncated: invalid_payload_format (3)")
finish()
