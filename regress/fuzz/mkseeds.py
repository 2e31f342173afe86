#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: regress/fuzz/corpus/TARGET/.

Each seed is a small, meaningful input in the target's input format (see
the comment at the top of each fuzz_*.c).  Run it again after changing a
format; it only (re)writes the seeds it knows (named seed-*), so inputs
added by hand or from fuzzing runs stay.

    python3 regress/fuzz/mkseeds.py
"""
import hashlib
import os
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(TOP, "regress", "fuzz", "corpus")
sys.path.insert(0, os.path.join(TOP, "regress"))
from lurkclient import dh_prime  # noqa: E402
import lurkdrafts as ld  # noqa: E402

# points on P-256, P-384, P-521 (uncompressed), for TLS 1.2 content
P256 = bytes.fromhex(
    "045001a25d59ccc84d62e88ad21c95b9dd0ae994d333df0573843bc5af950f77e8"
    "f0a5c310860e17aa461820e55613e9f33e9feb376f6e5b4f115f35b2f993abfd")
P384 = bytes.fromhex(
    "0425ce960f1db07f1191183e7b49d549828a995736768c74555c7fa6ed3339ad3e"
    "6b463201900689a07d41220e070203d15b99279a3722a4997329b1c16ca77d840c"
    "a587a5c587c1de7aa73171fa73111e0d8fa1acc28d9545cd18b177c3e7f279")
P521 = bytes.fromhex(
    "04014567d2a5d8827847b1297fa02ec33d5e90e7451d4bc20fd13d67279bad18fb"
    "184c39e90011803242437cf122eb469a07e2777831e0317a414d5c06eb58d0d951"
    "4e0048a4451ef31a6a27cfbda4f546e14a0c5d840819556fec177b61cbe4ff191d"
    "375b8a3d325dfcf6ba94c27dc668796be1234e61aa33ae4fefb3d88e324119c625"
    "33")

RANDOMS = bytes(range(1, 33)) + bytes(range(101, 133))


def dhe(p, y=None, g=b"\2"):
    """client/server random, then ServerDHParams p, g, Ys."""
    if y is None:
        y = bytes([0x5a]) * (len(p) - 1)
    return RANDOMS + b"".join(struct.pack(">H", len(v)) + v for v in (p, g, y))


def tls13(hlen=32, ctx=b"TLS 1.3, server CertificateVerify"):
    return b" " * 64 + ctx + b"\0" + bytes((0xa5 + i) & 0xff for i in range(hlen))


def tls12(group, point):
    return RANDOMS + bytes([3]) + struct.pack(">H", group) + bytes([len(point)]) + point


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_conn: flags(1) peer(1) seed(1) stream (fuzz_conn.c) ------------
def hdr(desig, typ, payload, status=0, ident=1, mode=0, version=1):
    length = len(payload) + (16 if mode else 0)
    return struct.pack(">BBBBQI", desig, version, typ, status, ident, length) + payload


KEYID = [bytes([0xe0 + i]) * 32 for i in range(4)]
LONGNAME = b"a-key-with-the-longest-name-lurkd-allows-63-characters-xxxxxxxx"


def keyop(key, scheme, data):
    return key + struct.pack(">HH", scheme, len(data)) + data


def premaster(key, data, cv=0x0303, nv=0x0303):
    return key + struct.pack(">HHH", cv, nv, len(data)) + data


def conn_seeds():
    s = {}
    ping = hdr(0, 1, b"")
    caps = hdr(0, 0, b"", ident=2)
    s["ping"] = bytes([0, 0, 0]) + ping
    s["capabilities"] = bytes([0, 0, 1]) + caps
    s["ping-message-length"] = bytes([1, 0, 2]) + hdr(0, 1, b"", mode=1)
    s["capabilities-1mib"] = bytes([6, 0, 3]) + caps
    s["bad-version"] = bytes([0, 0, 4]) + hdr(0, 1, b"", version=2)
    s["tls12-designation"] = bytes([0, 0, 5]) + hdr(1, 1, b"")
    s["lurk-unknown-type"] = bytes([0, 0, 6]) + hdr(0, 9, b"")
    s["lurk-not-request"] = bytes([0, 0, 7]) + hdr(0, 1, b"", status=1)
    s["ping-with-payload"] = bytes([0, 0, 8]) + hdr(0, 1, b"x")
    s["too-long"] = bytes([0, 0, 9]) + struct.pack(">BBBBQI", 0, 1, 1, 0, 3, 5000) + b"z" * 64
    s["message-length-short"] = bytes([1, 0, 10]) + struct.pack(">BBBBQI", 0, 1, 1, 0, 3, 15) + ping
    s["incomplete"] = bytes([0, 0, 11]) + ping + ping[:9]
    s["key-info-id"] = bytes([0, 0, 12]) + hdr(192, 1, bytes([0, 32]) + KEYID[0])
    s["key-info-name"] = bytes([0, 0, 13]) + hdr(192, 1, bytes([1, 3]) + b"rsa")
    s["key-info-longname"] = bytes([0, 0, 14]) + hdr(192, 1, bytes([1, len(LONGNAME)]) + LONGNAME)
    s["key-info-unknown"] = bytes([0, 0, 15]) + hdr(192, 1, bytes([1, 2]) + b"no")
    s["key-info-bad-selector"] = bytes([0, 0, 16]) + hdr(192, 1, bytes([7, 1]) + b"x")
    s["key-info-trailing"] = bytes([0, 0, 17]) + hdr(192, 1, bytes([1, 2]) + b"ec" + b"!")
    s["sign-tls13-ec"] = bytes([0, 0, 18]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()))
    s["sign-tls12-ec"] = bytes([0, 0, 19]) + hdr(192, 3, keyop(KEYID[0], 0x0403, tls12(23, P256)))
    s["sign-tls13-rsa-group"] = bytes([0, 4, 20]) + hdr(192, 2, keyop(KEYID[1], 0x0804, tls13(48)))
    s["premaster-rsa-group"] = bytes([0, 4, 21]) + hdr(192, 4, premaster(KEYID[1], bytes(256)))
    s["premaster-not-allowed"] = bytes([0, 0, 22]) + hdr(192, 4, premaster(KEYID[0], bytes(256)))
    s["sign-unauthorized"] = bytes([0, 0, 23]) + hdr(192, 2, keyop(KEYID[2], 0x0807, tls13()))
    s["sign-no-operation"] = bytes([0, 1, 24]) + hdr(192, 2, keyop(KEYID[2], 0x0807, tls13()))
    s["sign-unknown-key"] = bytes([0, 0, 25]) + hdr(192, 2, keyop(b"\x42" * 32, 0x0403, tls13()))
    s["sign-empty"] = bytes([0, 0, 26]) + hdr(192, 2, keyop(KEYID[0], 0x0403, b""))
    s["sign-truncated"] = bytes([0, 0, 27]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13())[:-5])
    s["edge-unknown-type"] = bytes([0, 0, 28]) + hdr(192, 9, b"")
    s["edge-not-request"] = bytes([0, 0, 29]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()), status=1)
    s["sign-message-length"] = bytes([1, 2, 30]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()), mode=1)
    pipelined = b"".join([
        hdr(0, 1, b"", ident=10), hdr(192, 1, bytes([0, 32]) + KEYID[1], ident=11),
        hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()), ident=12),
        hdr(192, 3, keyop(KEYID[0], 0x0403, tls12(23, P256)), ident=13),
        hdr(192, 4, premaster(KEYID[1], bytes(256)), ident=14),
        hdr(0, 0, b"", ident=15), hdr(7, 1, b"", ident=16),
    ])
    s["pipelined"] = bytes([0, 4, 31]) + pipelined
    s["pipelined-many"] = bytes([2, 4, 32]) + pipelined * 8
    s["key-info-p384"] = bytes([0, 1, 33]) + hdr(192, 1, bytes([0, 32]) + KEYID[3])
    s["sign-p384-group"] = bytes([0, 1, 34]) + hdr(192, 2, keyop(KEYID[3], 0x0503, tls13(48)))
    # many answers through a small socket buffer: short writes
    many = b"".join(hdr(192, 1, bytes([0, 32]) + KEYID[i % 4], ident=i) for i in range(64))
    s["short-writes"] = bytes([0, 8 | 1, 35]) + many
    s["short-writes-pipelined"] = bytes([1, 8 | 4, 36]) + b"".join(
        hdr(192, 2, keyop(KEYID[1], 0x0804, tls13()), ident=i, mode=1) for i in range(40))
    # limits: a rate of 3 a second meets 8 pipelined requests; a
    # connection over its uid's limit gets one answer
    s["rate-limited"] = bytes([0, 16 | 1, 37]) + pipelined
    s["over-user-limit"] = bytes([0, 32, 38]) + ping + caps
    s["over-limit-rate-limited"] = bytes([0, 32 | 16 | 4, 39]) + pipelined
    # authorisation: every key operation from a peer the key does not
    # allow; uid != gid (peer bit 128) both ways; supplementary groups only
    s["sign-tls12-unauthorized"] = bytes([0, 3, 40]) + hdr(192, 3, keyop(KEYID[0], 0x0403, tls12(23, P256)))
    s["premaster-unauthorized"] = bytes([0, 2, 41]) + hdr(192, 4, premaster(KEYID[1], bytes(256)))
    s["unauthorized-every-type"] = bytes([0, 3, 42]) + b"".join([
        hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()), ident=1),
        hdr(192, 3, keyop(KEYID[0], 0x0403, tls12(23, P256)), ident=2),
        hdr(192, 4, premaster(KEYID[1], bytes(256)), ident=3),
        hdr(192, 2, keyop(KEYID[1], 0x0804, tls13()), ident=4),
        hdr(192, 3, keyop(KEYID[1], 0x0401, tls12(23, P256)), ident=5),
    ])
    s["sign-gid-not-uid"] = bytes([0, 128 | 2, 43]) + hdr(192, 2, keyop(KEYID[3], 0x0503, tls13(48)))
    s["sign-uid-equals-allowed-gid"] = bytes([0, 128 | 1, 44]) + hdr(192, 2, keyop(KEYID[3], 0x0503, tls13(48)))
    s["sign-uid-not-gid"] = bytes([0, 128 | 2, 46]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()))
    s["sign-gid-equals-allowed-uid"] = bytes([0, 128 | 1, 47]) + hdr(192, 2, keyop(KEYID[0], 0x0403, tls13()))
    s["supplementary-only-every-type"] = bytes([0, 4 | 3, 45]) + b"".join([
        hdr(192, 2, keyop(KEYID[1], 0x0804, tls13()), ident=1),
        hdr(192, 3, keyop(KEYID[1], 0x0401, tls12(23, P256)), ident=2),
        hdr(192, 4, premaster(KEYID[1], bytes(256)), ident=3),
    ])
    # backlogs: a deaf peer flooding key_info; several connections of
    # one uid or two, with small limits, closing with work in flight
    kiflood = b"".join(hdr(192, 1, bytes([0, 32]) + KEYID[1], ident=i) for i in range(48))
    signs = b"".join(hdr(192, 2, keyop(KEYID[1], 0x0804, tls13()), ident=i) for i in range(24))
    s["deaf-key-info-flood"] = bytes([128, 4, 40]) + kiflood
    s["deaf-small-limits"] = bytes([128 | 64, 4, 41]) + kiflood
    s["conns-one-uid-small"] = bytes([64 | 24, 8 | 4, 42]) + signs + kiflood
    s["conns-two-uids-small"] = bytes([64 | 32 | 24, 8 | 4 | 1, 43]) + signs * 2
    s["conns-deaf-one-uid-small"] = bytes([128 | 64 | 8, 8 | 4, 47]) + kiflood * 2
    s["conns-deaf-uid-held"] = bytes([128 | 64 | 8, 8, 48]) + b"".join(
        hdr(192, 1, bytes([0, 32]) + KEYID[0], ident=i) for i in range(64))
    s["conns-deaf-two-uids"] = bytes([128 | 64 | 32 | 8, 8 | 4, 44]) + kiflood + signs
    s["conns-over-limit"] = bytes([16, 32 | 4, 45]) + pipelined * 2
    s["rsakex-rate"] = bytes([0, 64 | 4, 46]) + b"".join(
        hdr(192, 4, premaster(KEYID[1], bytes(256)), ident=i) for i in range(6))
    for name, data in tls12_payloads().items():
        typ, payload = data
        s["tls12-" + name] = bytes([0, 4, len(s) & 0xff]) + hdr(1, typ, payload)
    s["tls12-pipelined"] = bytes([0, 4, 49]) + b"".join(
        hdr(1, t, p, ident=i) for i, (t, p) in enumerate(tls12_payloads().values()))
    s["tls12-ping-caps"] = bytes([0, 0, 50]) + hdr(1, 1, b"") + hdr(1, 0, b"", ident=2)
    s["tls13-ping-caps-client-type"] = bytes([0, 0, 51]) + hdr(2, 1, b"") + \
        hdr(2, 0, b"", ident=2) + hdr(2, 8, b"", ident=3)
    for name, data in tls13_payloads().items():
        typ, payload = data
        s["tls13-" + name] = bytes([0, 4, len(s) & 0xff]) + hdr(2, typ, payload)
    s["tls13-pipelined"] = bytes([0, 4, 52]) + b"".join(
        hdr(2, t, p, ident=i) for i, (t, p) in enumerate(tls13_payloads().values()))
    for name, data in s.items():
        write("fuzz_conn", name, data)


# ---- the drafts' payloads (liblurk/tls12.c, tls13.c) --------------------
KID12 = [b"\0" + bytes([0xe0 + i]) * 4 for i in range(4)]
S12 = bytes([0x60, 0, 0, 0]) + bytes(range(28))


def tls12_handshake(ems=False, certreq=False, suite=0x009c):
    m = ld.rsa_handshake(bytes(range(32)), S12, bytes(256), b"\x30" * 40, suite,
                         ems, certreq)
    return ld.vec(2, ld.framed(m))


# fuzz_conn's key 0 ("ec"): one certificate of 400 bytes 0x31
LEAF0 = b"\x31" * 400


def tls13_msgs(sh_kx=bytes(32), psk=None, share=True):
    ch = ld.ch13(bytes(32), [(29, bytes(range(32)))])
    sh = ld.sh13(bytes(range(32, 64)), 29, sh_kx, psk=psk, share=share)
    return [(1, ch), (2, sh), (8, ld.vec(2, b""))]


def tls13_payloads():
    """(type, payload) of tls13 requests, good and bad."""
    eph = b"\x01" + ld.vec(2, ld.u16(29) + bytes(32))
    tail = ld.u16(0x1f00) + ld.u16(0x0403)
    psk_ch = ld.ch13(bytes(32), [(29, bytes(32))], psk=[
        (b"\x01\x00" + b"\xe0" * 4 + bytes(80), bytes(32))])
    return {
        "cert-verify": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs()) +
                        ld.fp_cert(LEAF0) + tail),
        "cert-verify-session": (2, b"\0EDGE\0" + eph + ld.lurk_hs(tls13_msgs()) +
                                ld.fp_cert(LEAF0) + tail),
        "cert-verify-cs": (2, b"\x80\0\x02" + ld.lurk_hs(tls13_msgs(b"")) +
                           ld.full_cert(LEAF0) + tail),
        "cert-verify-certreq": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs() + [
            (13, b"\0" + ld.vec(2, b""))]) + ld.fp_cert(LEAF0) + tail),
        "cert-verify-no-cert": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs()) +
                                ld.u16(128) + tail),
        "cert-verify-zlib": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs()) +
                             ld.u16(1) + ld.u16(1) + ld.u24(5) + ld.vec(3, b"z") + tail),
        "cert-verify-unknown-fp": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs()) +
                                   ld.fp_cert(b"x") + tail),
        "cert-verify-short": (2, b"\x80\0" + eph + ld.lurk_hs(tls13_msgs())[:-9]),
        "new-ticket": (3, b"\0\0\0\0\1" + ld.lurk_hs([(20, bytes(32))]) +
                       ld.u16(128) + b"\2" + ld.u16(0x0080)),
        "new-ticket-cv": (3, b"\0\1\0\0\1" + ld.lurk_hs([
            (15, ld.u16(0x0403) + ld.vec(2, b"s" * 70)), (20, bytes(48))]) +
            ld.full_cert(b"c" * 100) + b"\1" + ld.u16(0)),
        "new-ticket-bad-keyproc": (3, b"\0\x09\0\0\1" + ld.lurk_hs([]) +
                                   ld.u16(128) + b"\1" + ld.u16(0)),
        "early-secret": (4, b"EDG2\0\0\0" + ld.lurk_hs([(1, psk_ch)]) + ld.u16(0x8000)),
        "early-secret-bad-index": (4, b"EDG2\0\0\7" + ld.lurk_hs([(1, psk_ch)]) +
                                   ld.u16(0x8000)),
        "hand-and-app": (5, b"\0\1\0\0\0" + eph + ld.lurk_hs(tls13_msgs(psk=0)[1:]) +
                         ld.u16(0x1f00)),
        "hand-and-app-psk-ke": (5, b"\x80\0\0\0\0\0" + ld.lurk_hs(
            tls13_msgs(psk=0, share=False)[1:]) + ld.u16(0x1800)),
    }


def tls12_payloads():
    """(type, payload) of tls12 requests, good and bad."""
    ecdh = b"\x03" + ld.u16(23) + ld.vec(1, P256)
    return {
        "rsa-master": (2, KID12[1] + b"\0\0" + RANDOMS + bytes(256)),
        "rsa-master-prefixed": (2, KID12[1] + b"\0\1" + RANDOMS + ld.vec(2, bytes(256))),
        "rsa-master-short": (2, KID12[1] + b"\0\0" + RANDOMS[:40]),
        "rsa-master-key-id-type": (2, b"\x07" + KID12[1][1:] + b"\0\0" + RANDOMS),
        "rsa-master-poh": (3, KID12[1] + b"\0" + tls12_handshake() + bytes(12)),
        "rsa-ext-master": (4, KID12[1] + b"\0" + tls12_handshake(ems=True)),
        "rsa-ext-master-poh": (5, KID12[1] + b"\0" + tls12_handshake(True, True) + bytes(12)),
        "rsa-ext-master-no-ems": (4, KID12[1] + b"\0" + tls12_handshake()),
        "ecdhe": (6, KID12[0] + b"\0" + RANDOMS + b"\x04\x03" + ecdh + b"\0"),
        "ecdhe-poo": (6, KID12[0] + b"\0" + RANDOMS + b"\x04\x03" + ecdh +
                      b"\1" + ld.vec(1, P256) + ld.vec(1, bytes(32))),
        "ecdhe-explicit": (6, KID12[0] + b"\0" + RANDOMS + b"\x04\x03\x01" + bytes(10)),
        "ecdhe-bad-poo-prf": (6, KID12[0] + b"\0" + RANDOMS + b"\x04\x03" + ecdh + b"\x09"),
        "ecdhe-unknown-key": (6, b"\0\x42\x42\x42\x42\0" + RANDOMS + b"\x04\x03" + ecdh + b"\0"),
        "ecdhe-not-allowed": (6, KID12[3] + b"\0" + RANDOMS + b"\x04\x03" + ecdh + b"\0"),
    }


# ---- fuzz_tlscheck: kind curve type scheme(2) tbs ------------------------
def tlscheck_seeds():
    K_RSA, K_PSS, K_EC, K_ED25519, K_ED448 = range(5)
    s = {
        "tls13-ec-p256": (K_EC, 1, 0, 0x0403, tls13()),
        "tls13-sha384-p384": (K_EC, 2, 0, 0x0503, tls13(48)),
        "tls13-rsa-pss": (K_RSA, 0, 0, 0x0804, tls13()),
        "tls13-rsa-pkcs1": (K_RSA, 0, 0, 0x0401, tls13()),
        "tls13-client-context": (K_EC, 1, 0, 0x0403, tls13(ctx=b"TLS 1.3, client CertificateVerify")),
        "tls13-ed25519": (K_ED25519, 0, 0, 0x0807, tls13()),
        "tls13-ed448-sha1": (K_ED448, 0, 0, 0x0203, tls13(48)),
        "tls13-short-hash": (K_EC, 1, 0, 0x0403, tls13(20)),
        # the right context, the wrong padding; the right padding, another
        # context or no separator byte
        "tls13-padding-first-byte": (K_EC, 1, 0, 0x0403, b"\0" + tls13()[1:]),
        "tls13-padding-last-byte": (K_EC, 1, 0, 0x0403, tls13()[:63] + b"\t" + tls13()[64:]),
        "tls13-padding-zeros": (K_EC, 1, 0, 0x0403, bytes(64) + tls13()[64:]),
        "tls13-other-context": (K_EC, 1, 0, 0x0403, tls13(ctx=b"TLS 1.3, server CertificateVerifz")),
        "tls13-no-separator": (K_EC, 1, 0, 0x0403, tls13()[:97] + b"\x01" + tls13()[98:]),
        "tls12-p256": (K_EC, 1, 1, 0x0403, tls12(23, P256)),
        "tls12-p384": (K_EC, 2, 1, 0x0503, tls12(24, P384)),
        "tls12-p521": (K_EC, 3, 1, 0x0603, tls12(25, P521)),
        "tls12-x25519-rsa": (K_RSA, 0, 1, 0x0401, tls12(29, bytes(range(32)))),
        "tls12-x448-pss": (K_PSS, 0, 1, 0x0809, tls12(30, bytes(range(56)))),
        "tls12-secp256k1": (K_EC, 4, 1, 0x0403, tls12(22, P256)),
        "tls12-trailing": (K_EC, 1, 1, 0x0403, tls12(23, P256) + b"\0"),
        "tls12-bad-point": (K_EC, 1, 1, 0x0403, tls12(23, P256[:-1] + b"\0")),
        "tls12-compressed": (K_EC, 1, 1, 0x0403, tls12(23, b"\x02" + P256[1:33])),
        # TLS 1.2: ECDSA hashes are not bound to the curve; SHA-224 exists
        "tls12-p256-sha384": (K_EC, 1, 1, 0x0503, tls12(23, P256)),
        "tls12-p521-sha256": (K_EC, 3, 1, 0x0403, tls12(25, P521)),
        "tls12-ecdsa-sha224": (K_EC, 2, 1, 0x0303, tls12(29, bytes(range(32)))),
        "tls12-rsa-sha224": (K_RSA, 0, 1, 0x0301, tls12(23, P256)),
        "tls13-ecdsa-sha224": (K_EC, 1, 0, 0x0303, tls13()),
        "tls13-rsa-sha224": (K_RSA, 0, 0, 0x0301, tls13()),
    }
    modp = dh_prime("modp_2048")
    ffdhe = dh_prime("ffdhe3072")
    p6144 = dh_prime("ffdhe6144")
    s.update({
        "tls12-dhe-modp2048": (K_RSA, 0, 1, 0x0804, dhe(modp)),
        "tls12-dhe-ffdhe3072": (K_RSA, 0, 1, 0x0401, dhe(ffdhe)),
        "tls12-dhe-ffdhe6144": (K_PSS, 0, 1, 0x0809, dhe(p6144)),
        "tls12-dhe-unknown-prime": (K_RSA, 0, 1, 0x0804, dhe(modp[:-1] + b"\x01")),
        "tls12-dhe-generator-5": (K_RSA, 0, 1, 0x0804, dhe(modp, g=b"\5")),
        "tls12-dhe-y-is-1": (K_RSA, 0, 1, 0x0804, dhe(modp, y=b"\0\1")),
        "tls12-dhe-y-is-p-1": (K_RSA, 0, 1, 0x0804, dhe(modp, y=modp[:-1] + bytes([modp[-1] - 1]))),
        "tls12-dhe-y-is-p-2": (K_RSA, 0, 1, 0x0804, dhe(modp, y=modp[:-1] + bytes([modp[-1] - 2]))),
        "tls12-dhe-trailing": (K_RSA, 0, 1, 0x0804, dhe(modp) + b"\0"),
        "tls12-dhe-truncated": (K_RSA, 0, 1, 0x0804, dhe(modp)[:-1]),
    })
    for name, (kind, curve, typ, scheme, tbs) in s.items():
        write("fuzz_tlscheck", name, bytes([kind, curve, typ]) + struct.pack(">H", scheme) + tbs)


# ---- fuzz_keyop: struct keyop_req (x86-64 layout) + bytes ----------------
def req(index, typ, data, scheme=0, cv=0, nv=0, uid=0):
    return struct.pack("<IBxHHHII", index, typ, scheme, cv, nv, uid, len(data)) + data


def keyop_seeds():
    s = {
        "rsa-tls13-pss": req(0, 2, tls13(), 0x0804),
        "rsa-tls13-pkcs1": req(0, 2, tls13(), 0x0401),
        "rsa-tls12-pkcs1": req(0, 3, tls12(23, P256), 0x0401),
        "rsa-tls12-pss": req(0, 3, tls12(29, bytes(32)), 0x0806),
        "rsa-premaster": req(0, 4, bytes(range(256)), cv=0x0303, nv=0x0303),
        "rsa-premaster-ssl2": req(0, 4, bytes(range(256)), cv=0x0002, nv=0x0303),
        "rsa-premaster-short": req(0, 4, bytes(range(128)), cv=0x0303, nv=0x0303),
        "ec-tls13": req(1, 2, tls13(), 0x0403),
        "ec-tls12": req(1, 3, tls12(23, P256), 0x0403),
        "ec-tls13-sha1": req(1, 2, tls13(), 0x0203),
        "ec-tls13-bad-padding": req(1, 2, b"\0" + tls13()[1:], 0x0403),
        "ec-tls13-other-context": req(1, 2, tls13(ctx=b"TLS 1.3, server CertificateVerifz"), 0x0403),
        "rsa-premaster-tls13-version": req(0, 4, bytes(range(256)), cv=0x0304, nv=0x0303),
        "ec-tls13-wrong-curve": req(1, 2, tls13(48), 0x0503),
        "ec-premaster": req(1, 4, bytes(256), cv=0x0303, nv=0x0303),
        "ed25519-tls13": req(2, 2, tls13(), 0x0807),
        "ed25519-tls12-refused": req(2, 3, tls12(23, P256), 0x0807),
        "rsapss-tls13": req(3, 2, tls13(48), 0x080a),
        "rsapss-tls12": req(3, 3, tls12(24, P384), 0x0809),
        "rsa-tls12-only": req(4, 2, tls13(), 0x0804),
        "rsa-tls12-only-premaster": req(4, 4, bytes(256), cv=0x0303, nv=0x0303),
        "p384-tls13": req(5, 2, tls13(48), 0x0503),
        "unknown-type": req(1, 9, tls13(), 0x0403),
        "bad-index": req(77, 2, tls13(), 0x0403),
        "short": req(1, 2, tls13(), 0x0403)[:30],
        "ec-tls12-sha512": req(1, 3, tls12(23, P256), 0x0603),
        "ec-tls12-sha224": req(1, 3, tls12(29, bytes(32)), 0x0303),
        "rsa-tls12-sha224": req(0, 3, tls12(23, P256), 0x0301),
        "rsa-tls12-dhe": req(0, 3, dhe(dh_prime("modp_2048")), 0x0804),
        "rsa-tls12-dhe-ffdhe8192": req(0, 3, dhe(dh_prime("ffdhe8192")), 0x0401),
    }
    for name, data in s.items():
        write("fuzz_keyop", name, data)


# ---- fuzz_config: files ---------------------------------------------------
def config_seeds():
    cdir = os.path.join(TOP, "regress", "config")
    for f in sorted(os.listdir(cdir)):
        p = os.path.join(cdir, f)
        if os.path.isfile(p) and (f.startswith("lurkd.conf.") or f.endswith(".conf")) \
                and not f.endswith((".ok", ".args", ".expect")):
            write("fuzz_config", f, open(p, "rb").read())
    write("fuzz_config", "etc-lurkd.conf", open(os.path.join(TOP, "etc", "lurkd.conf"), "rb").read())
    write("fuzz_config", "includes", b"""include "sock.conf"
include "inc.conf"
listen on unix $sock mode 0600 group 0
key "www" {
\tprivate "/etc/lurkd/www.key"
\tcertificate "/etc/lurkd/www.crt"
\toperations { sign-tls13 rsa-kex }
\tallow user "root"
\tallow group "root"
\tallow gid 33
}
""")
    write("fuzz_config", "include-loop", b'include "self.conf"\n')
    write("fuzz_config", "everything", b"""# every statement once
n = 3
user "nobody"
chroot "/var/empty"
keyprocs $n
lurk length message
max message size 65536
listen on unix "/run/a.sock"
listen on unix "/run/b \\"quoted\\".sock" mode 0666 \\
\tgroup "root"
key "a" {
\tprivate "/k/a.key"
\tcertificate "/k/a.crt"
\tallow uid 0
}
""")


# ---- fuzz_imsg: flags seed stream -----------------------------------------
def imsg(typ, payload=b"", peerid=0, pid=1234, mark=False, length=None):
    n = 16 + len(payload) if length is None else length
    return struct.pack("<IIII", typ, n | (0x80000000 if mark else 0), peerid, pid) + payload


def imsg_seeds():
    s = {
        "one": (0, 1, imsg(1, b"hello\0")),
        "several": (0, 2, imsg(1) + imsg(2, b"\x01\x02\x03\x04" * 8, 7) + imsg(3, b"x" * 300)),
        "fdpass": (1, 3, imsg(5, b"key\0", mark=True) + imsg(6, b"cert\0", mark=True) + imsg(7)),
        "fd-not-allowed": (0, 4, imsg(5, b"key\0", mark=True)),
        "too-long": (0, 5, imsg(1, b"x", length=100000)),
        "too-short": (0, 6, imsg(1, b"", length=8)),
        "max-64": (2, 7, imsg(1, b"y" * 64) + imsg(1, b"y" * 65)),
        "big-256k": (6, 8, imsg(9, bytes(range(256)) * 40)),
        "old-interface": (8, 9, imsg(1, b"abc") + imsg(2, b"")),
        "truncated": (0, 10, imsg(1, b"hello")[:12]),
        "strings": (0, 11, imsg(4, b"\x05name\0\0\0\0\0\0\0\x03\x00\x00\x01\x02\x03")),
    }
    for name, (flags, seed, data) in s.items():
        write("fuzz_imsg", name, bytes([flags, seed]) + data)


# ---- fuzz_lurkhdr: header(16) outlen(2) extensions -----------------------
def lurkhdr_seeds():
    s = {
        "ping": hdr(0, 1, b"") + struct.pack(">H", 64) + bytes([0, 1, 192, 1]),
        "message-mode": struct.pack(">BBBBQI", 0, 1, 0, 0, 2, 16) + struct.pack(">H", 10) + bytes([0, 1, 192, 1]),
        "short-length": struct.pack(">BBBBQI", 2, 1, 11, 0, 2**63, 3) + struct.pack(">H", 5) + bytes([0, 1, 1, 1, 2, 1]),
        "max": b"\xff" * 16 + struct.pack(">H", 0xffff) + b"\xc0\x01" * 40,
    }
    for name, data in s.items():
        write("fuzz_lurkhdr", name, data)


# ---- fuzz_keyref: mode bytes ---------------------------------------------
def vec(n, b):
    return len(b).to_bytes(n, "big") + b


def keyref_seeds():
    spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + P256
    kid = hashlib.sha256(spki).digest()
    ref = b"LURKREF\x01" + kid + vec(1, b"www") + vec(2, b"/run/lurkd/lurk.sock") + vec(2, spki)
    ref_nosock = b"LURKREF\x01" + kid + vec(1, b"") + vec(2, b"") + vec(2, spki)
    eps = vec(1, b"unix:/run/lurkd/lurk.sock") + vec(1, b"tls://ks1.example:7443") + vec(1, b"tls://127.0.0.1:7443")
    ref_v2 = b"LURKREF\x02" + kid + vec(1, b"www") + vec(2, b"") + vec(2, spki) + vec(2, eps) + vec(2, b"/etc/lurk/edge.crt") + vec(2, b"/etc/lurk/edge.key") + vec(2, b"/etc/lurk/ca.crt")
    chain = vec(3, b"\x30" * 300) + vec(3, b"\x30" * 200)
    info = kid + bytes([2]) + struct.pack(">HHB", 256, 23, 3) + vec(1, b"www") + vec(2, spki) + vec(3, chain)
    s = {
        "reference": bytes([0]) + ref,
        "reference-no-socket": bytes([0]) + ref_nosock,
        "endpoint-list": b"L unix:/run/lurkd/lurk.sock, /run/b.sock\ttls://[::1]:7443 tls://ks1.example:7443",
        "endpoint-path": b"L/run/lurkd/my lurk,d.sock",
        "reference-fix": bytes([2]) + ref[:8] + bytes(32) + ref[40:],
        "reference-relative-socket": bytes([2]) + b"LURKREF\x01" + kid + vec(1, b"x") + vec(2, b"lurk.sock") + vec(2, spki),
        "reference-v2": bytes([0]) + ref_v2,
        "reference-v2-fix": bytes([2]) + ref_v2[:8] + bytes(32) + ref_v2[40:],
        "reference-v2-ipv6-dup": bytes([2]) + b"LURKREF\x02" + kid + vec(1, b"") + vec(2, b"") + vec(2, spki) + vec(2, vec(1, b"tls://[::1]:7443") + vec(1, b"tls://[::1]:7443")) + vec(2, b"") * 3,
        "reference-v2-tls-files-unix": bytes([2]) + b"LURKREF\x02" + kid + vec(1, b"") + vec(2, b"") + vec(2, spki) + vec(2, vec(1, b"unix:/s")) + vec(2, b"/c") + vec(2, b"/k") + vec(2, b"/a"),
        "keyinfo": bytes([1]) + info,
        "keyinfo-fix": bytes([3]) + bytes(32) + info[32:],
        "keyinfo-empty-chain": bytes([3]) + kid + bytes([3]) + struct.pack(">HHB", 253, 0, 1) + vec(1, b"ed") + vec(2, spki) + vec(3, b""),
        "keyinfo-bad-chain": bytes([3]) + kid + bytes([0]) + struct.pack(">HHB", 2048, 0, 7) + vec(1, b"rsa") + vec(2, spki) + vec(3, b"\x00\x00\x05abc"),
    }
    for name, data in s.items():
        write("fuzz_keyref", name, data)


# ---- fuzz_drafts: designation(1) type(1) payload ------------------------
def rfc8448_ch():
    """RFC 8448 4's ClientHello (a PSK, its binder), from regress/keyproc."""
    import re
    text = open(os.path.join(TOP, "regress", "keyproc", "rfc8448.h")).read()
    m = re.search(r"R8448_CH2\[\] =\s*((?:\s*\"[0-9a-f]*\")+);", text)
    return bytes.fromhex("".join(re.findall(r"\"([0-9a-f]*)\"", m.group(1))))


def drafts_seeds():
    for name, (typ, payload) in tls12_payloads().items():
        write("fuzz_drafts", "tls12-" + name, bytes([1, typ]) + payload)
    for name, (typ, payload) in tls13_payloads().items():
        write("fuzz_drafts", "tls13-" + name, bytes([2, typ]) + payload)
    hs12 = tls12_handshake(ems=True, certreq=True)[2:]
    write("fuzz_drafts", "tls12-handshake", bytes([1, 0x80]) + hs12)
    ch = rfc8448_ch()
    write("fuzz_drafts", "tls13-handshake-rfc8448-psk", bytes([2, 0x80, 1]) + ch[4:])
    write("fuzz_drafts", "tls13-early-rfc8448", bytes([2, 4]) + b"EDG2\0\0\0" +
          ld.vec(4, bytes([1]) + ch[4:]) + ld.u16(0x8000))
    write("fuzz_drafts", "tls13-handshake-cv-finished", bytes([2, 0x80]) +
          bytes([15]) + ld.u16(0x0403) + ld.vec(2, b"s" * 71) + bytes([20]) + bytes(48))


# ---- fuzz_ticket: mode(1) ... ----------------------------------------------
def ticket_seeds():
    write("fuzz_ticket", "bytes", b"\0" + b"\x01\x00\xe0\xe0\xe0\xe0" + bytes(80))
    write("fuzz_ticket", "mask-zero", b"\1" + bytes(4))
    write("fuzz_ticket", "mask-one-bit", b"\1" + bytes(17) + b"\x01")
    write("fuzz_ticket", "time-now", b"\2" + struct.pack(">i", 0))
    write("fuzz_ticket", "time-lifetime", b"\2" + struct.pack(">i", 100))
    write("fuzz_ticket", "time-past", b"\2" + struct.pack(">i", 101))
    write("fuzz_ticket", "time-before", b"\2" + struct.pack(">i", -1))


# ---- fuzz_http: seed(1) request -------------------------------------------
def http_seeds():
    s = {
        "metrics": b"\x01GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\nAccept: */*\r\n\r\n",
        "metrics-query": b"\x07GET /metrics?x=1 HTTP/1.0\r\n\r\n",
        "livez-lf": b"\x02GET /livez HTTP/1.0\n\n",
        "readyz": b"\x03GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n",
        "post": b"\x04POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "body": b"\x05GET /livez HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "chunked": b"\x06GET /livez HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "http2": b"\x08GET /livez HTTP/2.0\r\n\r\n",
        "notfound": b"\x09GET /../etc/passwd HTTP/1.1\r\n\r\n",
        "fold": b"\x0aGET /livez HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
        "bare-cr": b"\x0bGET /livez HTTP/1.1\rX: a\r\n\r\n",
        "large": b"\x0cGET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n",
        "half": b"\x0dGET /metrics HTTP/1.1\r\nHost",
    }
    for name, data in s.items():
        write("fuzz_http", name, data)


# ---- fuzz_control: flags(1) seed(1) stream ---------------------------------
CTL_VERSION = 1


def ctl(typ, data=b"", peerid=CTL_VERSION):
    return struct.pack("<IIII", typ, 16 + len(data), peerid, 0) + data


def control_seeds():
    show = b"".join(ctl(t) for t in (1, 2, 3, 4, 5, 6))
    s = {
        "shows": bytes([2, 1]) + show,
        "shows-parent-slow": bytes([0, 2]) + show,
        "restricted-shows": bytes([3, 3]) + show,
        "reload-ok": bytes([6, 4]) + ctl(7) + ctl(6),
        "reload-failed": bytes([2, 5]) + ctl(7),
        "reload-no-word": bytes([8 | 2, 6]) + ctl(7) + ctl(1),
        "restricted-reload-log": bytes([3, 7]) + ctl(7) + ctl(8, struct.pack("<i", 1)),
        "log": bytes([2, 8]) + ctl(8, struct.pack("<i", 1)) + ctl(8, struct.pack("<i", 0)) + ctl(8, struct.pack("<i", 2)),
        "bad-sizes": bytes([2, 9]) + ctl(1, b"x") + ctl(8) + ctl(8, b"\0" * 8) + ctl(99) + ctl(0),
        "bad-version": bytes([2, 10]) + ctl(2, peerid=7) + ctl(2),
        "bad-frame": bytes([2, 11]) + ctl(3) + struct.pack("<IIII", 2, 8, 1, 0) + ctl(3),
        "too-large": bytes([2, 12]) + struct.pack("<IIII", 2, 1 << 20, 1, 0),
    }
    for name, data in s.items():
        write("fuzz_control", name, data)


def main():
    conn_seeds()
    drafts_seeds()
    ticket_seeds()
    tlscheck_seeds()
    keyop_seeds()
    config_seeds()
    imsg_seeds()
    lurkhdr_seeds()
    keyref_seeds()
    http_seeds()
    control_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
