"""A TLS edge client for regress/remote/mtls.t, and its certificates.

  mtls.py certs DIR
      a CA and another CA; the listener's certificate (srv); edge
      certificates: edge1 (SAN URI, allowed by san), edge2 (allowed by
      subject), edge3 (allowed by spki: DIR/edge3.spki is its rule),
      stranger (valid, allowed by no rule), expired, revoked (listed in
      DIR/crl.pem) and foreign (of the other CA), the last three with a
      SAN the key allows; DIR/othercrl.pem, the other CA's (empty)
  mtls.py edge HOST PORT CERT|- TLSVERSION SPKIFILE
      a TLS connection with that client certificate (or none), then a
      LURK ping and a sign_tls13 with the key whose SPKI DER is in
      SPKIFILE; prints one line "handshake=ok|alert:REASON ping=STATUS
      sign=STATUS version=V"
  mtls.py hold HOST PORT CERT,CERT,... SPKIFILE
      a connection with each CERT, all kept open; then a sign on each;
      prints the statuses, space-separated
  mtls.py pipe SOCKET N SPKIFILE
      two connections to SOCKET with the same ids 1..N pipelined: N
      sign_tls13 on one, N key_info on the other: prints how many
      answers each got right (signatures of its own requests, verified;
      the key's public key): "A B"
  mtls.py once SOCKET SPKIFILE
      one sign_tls13: prints "status=S secs=T"
  mtls.py slow HOST PORT CERT SOCKET SPKIFILE
      a handshake in a thread; while it waits, the Unix socket SOCKET is
      asked a ping and a sign_tls13: prints "pending=1|0 unix=STATUSES
      unix_s=SECONDS hs_s=SECONDS tls=STATUS"
"""
import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lurkclient as lc  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID  # noqa: E402

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn, o=None):
    attrs = []
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def write(d, stem, key, cert):
    with open(os.path.join(d, stem + ".key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(os.path.join(d, stem + ".key"), 0o600)
    with open(os.path.join(d, stem + ".crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def mkca(d, stem, cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(cn))
            .issuer_name(name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY).not_valid_after(NOW + 10 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False,
                                         True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    write(d, stem, key, cert)
    return key, cert


def mkleaf(d, stem, ca, subject, sans, server=False, before=None,
           after=None):
    cakey, cacert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(cacert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(before or NOW - DAY)
         .not_valid_after(after or NOW + 5 * DAY)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                        critical=True)
         .add_extension(x509.ExtendedKeyUsage(
             [ExtendedKeyUsageOID.SERVER_AUTH if server else
              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans),
                            critical=False)
    cert = b.sign(cakey, hashes.SHA256())
    write(d, stem, key, cert)
    return cert


def certs(d):
    ca = mkca(d, "ca", "lurkd test CA")
    other = mkca(d, "otherca", "another CA")
    mkleaf(d, "srv", ca, name("lurkd.test"),
           [x509.DNSName("lurkd.test"), x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))], server=True)
    mkleaf(d, "edge1", ca, name("edge1", "CDN"),
           [x509.DNSName("edge1.test"), x509.UniformResourceIdentifier(
               "spiffe://example.org/ns/web/sa/edge1")])
    mkleaf(d, "edge2", ca, name("edge2", "CDN"),
           [x509.DNSName("edge2.test")])
    c3 = mkleaf(d, "edge3", ca, name("edge3"), None)
    spki = c3.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(os.path.join(d, "edge3.spki"), "w") as f:
        f.write("sha256:" + hashlib.sha256(spki).hexdigest() + "\n")
    mkleaf(d, "stranger", ca, name("stranger", "CDN"),
           [x509.DNSName("stranger.test")])
    # a subject longer than a rule may be (255 bytes as RFC 2253 prints)
    mkleaf(d, "longsubj", ca, x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "o" * 60),
         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "u" * 60),
         x509.NameAttribute(NameOID.LOCALITY_NAME, "l" * 128),
         x509.NameAttribute(NameOID.COMMON_NAME, "c" * 60)]),
        [x509.DNSName("longsubj.test")])
    allowed = [x509.DNSName("allowed.test")]
    mkleaf(d, "expired", ca, name("expired"), allowed,
           before=NOW - 10 * DAY, after=NOW - DAY)
    rev = mkleaf(d, "revoked", ca, name("revoked"), allowed)
    mkleaf(d, "foreign", other, name("foreign"), allowed)
    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(ca[1].subject).last_update(NOW - DAY)
           .next_update(NOW + 5 * DAY)
           .add_revoked_certificate(
               x509.RevokedCertificateBuilder()
               .serial_number(rev.serial_number)
               .revocation_date(NOW - DAY).build())
           .sign(ca[0], hashes.SHA256()))
    with open(os.path.join(d, "crl.pem"), "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(other[1].subject).last_update(NOW - DAY)
           .next_update(NOW + 5 * DAY).sign(other[0], hashes.SHA256()))
    with open(os.path.join(d, "othercrl.pem"), "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))


def context(d, cert, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(d, "ca.crt"))
    ctx.check_hostname = True
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if cert != "-":
        ctx.load_cert_chain(os.path.join(d, cert + ".crt"),
                            os.path.join(d, cert + ".key"))
    return ctx


def sign_payload(spkifile):
    """sign_tls13 with the P-256 key of spkifile (lurkclient.py)."""
    return 2, lc.p256_sign13(spkifile)


def request(s, des, typ, ident, payload=b""):
    s.sendall(lc.hdr(des, 1, typ, 0, ident, len(payload)) + payload)
    h, _, _ = lc.recv_msg(s)
    if h[4] != ident:
        raise RuntimeError("answer to %d for %d" % (h[4], ident))
    return h[3]


def alert(e):
    return "alert:" + (getattr(e, "reason", None) or type(e).__name__)


def edge(d, host, port, cert, version, spkifile):
    ctx = context(d, cert, version)
    out = {"handshake": "-", "ping": "-", "sign": "-"}
    try:
        raw = socket.create_connection((host, int(port)), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="lurkd.test")
        out["handshake"] = "ok"
        # TLS 1.3: the server's verdict on our certificate comes now
        out["ping"] = request(s, 0, 1, 1)
        typ, p = sign_payload(spkifile)
        out["sign"] = request(s, 192, typ, 2, p)
        out["version"] = s.version()
        s.close()
    except (ssl.SSLError, OSError, EOFError) as e:
        if out["handshake"] == "-" or out["ping"] == "-":
            out["handshake"] = alert(e)
        else:
            out["sign"] = alert(e)
    print(" ".join("%s=%s" % kv for kv in sorted(out.items())))


def hold(d, host, port, certlist, spkifile):
    conns = []
    for cert in certlist.split(","):
        raw = socket.create_connection((host, int(port)), timeout=10)
        s = context(d, cert, "1.3").wrap_socket(
            raw, server_hostname="lurkd.test")
        conns.append(s)
    st = []
    typ, p = sign_payload(spkifile)
    for i, s in enumerate(conns):
        try:
            st.append(str(request(s, 192, typ, 10 + i, p)))
        except (ssl.SSLError, OSError, EOFError) as e:
            st.append(alert(e))
    print(" ".join(st))


def wait_log(path, what):
    for _ in range(200):
        with open(path) as f:
            if what in f.read():
                time.sleep(0.3)
                return
        time.sleep(0.05)
    raise RuntimeError("no %r in %s" % (what, path))


def slow(d, host, port, cert, sock, spkifile):
    """keyproc sleeps 3 s on each handshake signature (lurkd-test,
    LURKD_TEST_SLOW_TLS_MS): netproc's other peers must not wait."""
    res = {}

    def handshake():
        t0 = time.monotonic()
        try:
            raw = socket.create_connection((host, int(port)), timeout=30)
            s = context(d, cert, "1.3").wrap_socket(
                raw, server_hostname="lurkd.test")
            res["hs_s"] = time.monotonic() - t0
            res["tls"] = request(s, 0, 1, 1)
        except (ssl.SSLError, OSError, EOFError) as e:
            res["tls"] = alert(e)

    t = threading.Thread(target=handshake)
    t.start()
    # lurkd has the connection (its log says so), and its ClientHello
    wait_log(os.environ["LURKD_LOG"], " on tls ")
    u = lc.connect(sock, timeout=30)
    typ, p = sign_payload(spkifile)
    pending = "hs_s" not in res
    t0 = time.monotonic()
    st = [request(u, 0, 1, 5), request(u, 192, typ, 6, p)]
    unix_s = time.monotonic() - t0
    t.join()
    print("pending=%d unix=%s unix_s=%.2f hs_s=%.2f tls=%s" % (
        pending, ",".join(map(str, st)), unix_s, res.get("hs_s", -1),
        res.get("tls")))


def verifies(spkifile, sig, tbs):
    from cryptography.hazmat.primitives.asymmetric import ec as _ec
    with open(spkifile, "rb") as f:
        pub = serialization.load_der_public_key(f.read())
    try:
        pub.verify(sig, tbs, _ec.ECDSA(hashes.SHA256()))
        return True
    except Exception:
        return False


def pipe(sock, n, spkifile):
    """Edge A pipelines n signatures, edge B n key_infos (answered by the
    upstream at once, the signatures later), with the same ids 1..n,
    sent in turn: the upstream's answers come out of order, and each
    must reach its own edge's request."""
    n = int(n)
    with open(spkifile, "rb") as f:
        spki = f.read()
    kid = hashlib.sha256(spki).digest()
    a, b = [lc.connect(sock, timeout=20) for _ in range(2)]
    tbss = []
    for i in range(1, n + 1):
        tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + \
            i.to_bytes(32, "big")
        tbss.append(tbs)
        p = kid + (0x0403).to_bytes(2, "big") + \
            len(tbs).to_bytes(2, "big") + tbs
        a.sendall(lc.hdr(192, 1, 2, 0, i, len(p)) + p)
        q = bytes([0, 32]) + kid
        b.sendall(lc.hdr(192, 1, 1, 0, i, len(q)) + q)
    ga = gb = 0
    for _ in range(n):
        h, p, _ = lc.recv_msg(a)
        i = h[4]
        if h[2] == 2 and h[3] == 1 and 1 <= i <= n and len(p) > 2 and \
                verifies(spkifile, p[2:], tbss[i - 1]):
            ga += 1
        h, p, _ = lc.recv_msg(b)
        if h[2] == 1 and h[3] == 1 and p[:32] == kid and spki in p:
            gb += 1
    print("%d %d" % (ga, gb))


def once(sock, spkifile):
    s = lc.connect(sock, timeout=30)
    typ, p = sign_payload(spkifile)
    t0 = time.monotonic()
    st = request(s, 192, typ, 1, p)
    print("status=%d secs=%.2f" % (st, time.monotonic() - t0))


def main():
    cmd = sys.argv[1]
    if cmd == "certs":
        certs(sys.argv[2])
    elif cmd == "edge":
        edge(os.environ["CERTS"], *sys.argv[2:7])
    elif cmd == "hold":
        hold(os.environ["CERTS"], *sys.argv[2:6])
    elif cmd == "pipe":
        pipe(*sys.argv[2:5])
    elif cmd == "once":
        once(*sys.argv[2:4])
    elif cmd == "slow":
        slow(os.environ["CERTS"], *sys.argv[2:7])
    else:
        sys.exit("usage: see the header")


if __name__ == "__main__":
    main()
