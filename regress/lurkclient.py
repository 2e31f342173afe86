"""A LURK test client for regress/: raw bytes in, raw bytes out."""
import os
import socket
import struct
import sys

HDR = struct.Struct(">BBBBQI")
failed = False


def ok(cond, what):
    global failed
    if cond:
        print("ok - " + what)
    else:
        print("not ok - " + what)
        failed = True
    sys.stdout.flush()
    return cond


def finish():
    sys.exit(1 if failed else 0)


def hdr(des, ver, typ, status, ident, length):
    return HDR.pack(des, ver, typ, status, ident, length)


def connect(path=None, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path or os.environ["LURK_SOCKET"])
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(s, whole=False):
    """One response: (header tuple, payload bytes, raw bytes)."""
    h = recv_exact(s, 16)
    des, ver, typ, st, ident, length = HDR.unpack(h)
    plen = length - 16 if whole else length
    p = recv_exact(s, plen)
    return (des, ver, typ, st, ident, length), p, h + p


def closed(s):
    """True if the peer closed the connection (EOF) without more data."""
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return False


def p256_sign13(spki_path):
    """A sign_tls13 payload for the P-256 key whose SPKI DER is at
    spki_path: key id, ecdsa_secp256r1_sha256, a server CertificateVerify
    content with an all-zero transcript hash."""
    import hashlib
    with open(spki_path, "rb") as f:
        kid = hashlib.sha256(f.read()).digest()
    tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)
    return kid + (0x0403).to_bytes(2, "big") + len(tbs).to_bytes(2, "big") + tbs


def spawn_as(uid, fn):
    """Start fn() in a child with this uid (and gid, no groups); its pid.
    The child exits 0 if fn() returned true."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            code = 0 if fn() else 1
        finally:
            os._exit(code)
    return pid


def as_uid(uid, fn):
    """Run fn() in a child with this uid; True if it returned true."""
    return os.waitpid(spawn_as(uid, fn), 0)[1] == 0


def rss_kib(pid):
    """VmRSS of a process, in KiB."""
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %s" % pid)


def dh_prime(group):
    """The prime of a named DH group (ffdhe2048, modp_2048...), as openssl
    writes it in its DER parameters: SEQUENCE { INTEGER p, INTEGER g }."""
    import base64
    import subprocess
    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH",
                          "-pkeyopt", "group:" + group],
                         capture_output=True, check=True).stdout.decode()
    der = base64.b64decode("".join(l for l in pem.splitlines() if l[:1] != "-"))
    i = 2 + (der[1] & 0x7f if der[1] & 0x80 else 0)
    assert der[i] == 2
    n, i = der[i + 1], i + 2
    if n & 0x80:
        n, i = int.from_bytes(der[i:i + (n & 0x7f)], "big"), i + (n & 0x7f)
    return der[i:i + n].lstrip(b"\0")
