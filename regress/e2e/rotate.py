"""A signature through lurkd, for regress/e2e/rotate.t.

Usage: rotate.py CERT    -- sign_tls13 with the key whose certificate is
CERT (its key id, its scheme); prints "signed" if the answer verifies
with CERT, else the LURK status (a number) or "badsig".  Exits 0 only
for "signed".
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import hdr, connect, recv_msg

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

with open(sys.argv[1], "rb") as f:
    pub = x509.load_pem_x509_certificate(f.read()).public_key()
kid = hashlib.sha256(pub.public_bytes(
    serialization.Encoding.DER,
    serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
if not isinstance(pub, ec.EllipticCurvePublicKey):
    sys.exit("rotate.py: P-256 keys only")
tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + os.urandom(32)
payload = kid + (0x0403).to_bytes(2, "big") + len(tbs).to_bytes(2, "big") + tbs
s = connect()
s.sendall(hdr(192, 1, 2, 0, 1, len(payload)) + payload)
h, p, _ = recv_msg(s)
if h[3] != 1:
    print(h[3])
    sys.exit(1)
try:
    pub.verify(p[2:], tbs, ec.ECDSA(hashes.SHA256()))
except InvalidSignature:
    print("badsig")
    sys.exit(1)
print("signed")
