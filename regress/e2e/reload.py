"""Reloads and key rotations under load.

Usage: reload.py DIR PARENT_PID NETPROC_PID

lurkd (keyprocs 2) serves "p256" (DIR/keys) and "rot", a Kubernetes
Secret volume in DIR/secret (tls.key -> ..data/tls.key, ..data -> a
timestamped directory), and with DIR/conf.b also "extra", the first key
block, so that adding and removing it moves the other keys' indices.
NCONN connections pipeline sign_tls13 requests continuously (WINDOW in
flight each), alternately for "p256" and "rot", each answer checked:

  - 20 reloads, SIGHUP to the parent and SIGUSR2 to netproc (the test
    build's hook: netproc asks the parent with IMSG_CTL_RELOAD, as
    lurkctl reload does), every other pair adding or removing "extra";
  - 3 rotations of "rot" (P-256 -> RSA 2048 -> Ed25519 -> P-384), each a
    ..data swap as the kubelet does it, seen by the watch;
  - three reloads that fail: a syntax error in the configuration, a key
    file that is not a key, a Secret whose key does not match its
    certificate (then the matching pair: a fourth rotation);

Every answer must be a signature that verifies with the certificate of
the key id the request named, except that a request for "rot"'s old id,
sent after the swap that retired it, may be answered unknown_key (on
each connection, no success after the first such unknown_key).  After
each rotation, requests use the new id (key_info by name gives it) and
must verify with the new certificate.  Nothing may be lost: every
request is answered.  Prints the figures as a "# figures:" line.
"""
import hashlib
import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

D, PARENT, NETPROC = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LOG = os.path.join(D, "lurkd.log")
SECRET = os.path.join(D, "secret")
NCONN, WINDOW = 4, 32
EDGE, KEY_INFO, SIGN13 = 192, 1, 2
ST_OK, UNKNOWN_KEY = 1, 8
CTX = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"


class Key:
    """A key as the edge knows it: its certificate."""

    def __init__(self, name, crt):
        with open(crt, "rb") as f:
            self.pub = x509.load_pem_x509_certificate(f.read()).public_key()
        der = self.pub.public_bytes(serialization.Encoding.DER,
                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = hashlib.sha256(der).digest()
        self.name = name
        self.retired_at = None      # the swap after which it may be gone
        if isinstance(self.pub, ed25519.Ed25519PublicKey):
            self.scheme, self.hlen = 0x0807, 32
        elif isinstance(self.pub, ec.EllipticCurvePublicKey):
            size = self.pub.curve.key_size
            self.scheme, self.hlen = {256: (0x0403, 32), 384: (0x0503, 48)}[size]
            self.md = hashes.SHA256() if size == 256 else hashes.SHA384()
        else:
            self.scheme, self.hlen = 0x0804, 32

    def verify(self, tbs, sig):
        try:
            if self.scheme == 0x0807:
                self.pub.verify(sig, tbs)
            elif self.scheme == 0x0804:
                self.pub.verify(sig, tbs, padding.PSS(
                    mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                    hashes.SHA256())
            else:
                self.pub.verify(sig, tbs, ec.ECDSA(self.md))
            return True
        except InvalidSignature:
            return False


keys = {"p256": Key("p256", os.path.join(D, "keys", "p256.crt")),
        "rot": Key("rot1", os.path.join(D, "rot", "1", "tls.crt"))}
swaps = [0]                 # ..data swaps begun
stop = threading.Event()
lock = threading.Lock()
windows = []                # (signal, committed) of the 20 reloads
reload_ms = []              # what the parent says each one took
stats = {"sent": 0, "answered": 0, "failed": 0, "badsig": 0,
         "unknown_after_swap": 0, "lost": 0, "max_ms": 0.0,
         "max_reload_ms": 0.0, "order": 0}
fails = []                  # the first few unexpected answers
newkey_ok = {}              # key name -> signatures verified


class Req:
    __slots__ = ("key", "tbs", "t0", "swaps", "seq")


class Worker(threading.Thread):
    """One connection: WINDOW requests in flight, one sent per answer."""

    def __init__(self, idx):
        super().__init__()
        self.idx = idx
        self.s = connect(timeout=15)
        self.out = {}
        self.seq = 0
        self.lat = []       # (t0, t1)
        self.first_unknown = {}     # key name -> seq
        self.last_ok = {}           # key name -> seq

    def send(self):
        self.seq += 1
        ident = (self.idx << 32) | self.seq
        key = keys["p256"] if self.seq % 2 else keys["rot"]
        r = Req()
        r.key, r.seq, r.swaps = key, self.seq, swaps[0]
        h = hashlib.sha384(ident.to_bytes(8, "big")).digest()[:key.hlen]
        r.tbs = CTX + h
        payload = (key.kid + key.scheme.to_bytes(2, "big") +
                   len(r.tbs).to_bytes(2, "big") + r.tbs)
        r.t0 = time.monotonic()
        self.out[ident] = r
        self.s.sendall(hdr(EDGE, 1, SIGN13, 0, ident, len(payload)) + payload)

    def check(self, r, st, p):
        name = r.key.name
        if st == ST_OK and len(p) >= 2 and r.key.verify(r.tbs, p[2:]):
            self.last_ok[name] = max(r.seq, self.last_ok.get(name, 0))
            with lock:
                newkey_ok[name] = newkey_ok.get(name, 0) + 1
            return
        if st == ST_OK:
            what = "badsig"
        elif (st == UNKNOWN_KEY and r.key.retired_at is not None and
              r.swaps >= r.key.retired_at):
            # sent after the swap that retired the key: expected
            self.first_unknown[name] = min(r.seq,
                                           self.first_unknown.get(name, r.seq))
            with lock:
                stats["unknown_after_swap"] += 1
            return
        else:
            what = "failed"
        with lock:
            stats[what] += 1
            if len(fails) < 10:
                fails.append("conn %d seq %d key %s: status %d (%s)" %
                             (self.idx, r.seq, name, st, what))

    def run(self):
        try:
            for _ in range(WINDOW):
                self.send()
            while self.out:
                h, p, _ = recv_msg(self.s)
                t1 = time.monotonic()
                r = self.out.pop(h[4], None)
                if r is None:
                    with lock:
                        stats["failed"] += 1
                        fails.append("conn %d: answer to unknown id %x" %
                                     (self.idx, h[4]))
                    continue
                self.lat.append((r.t0, t1))
                self.check(r, h[3], p)
                if not stop.is_set():
                    self.send()
        except Exception as e:     # a timeout: what is left is lost
            with lock:
                fails.append("conn %d: %r" % (self.idx, e))
        with lock:
            stats["sent"] += self.seq
            stats["lost"] += len(self.out)
            stats["answered"] += self.seq - len(self.out)
            for name, seq in self.first_unknown.items():
                if self.last_ok.get(name, 0) > seq:
                    stats["order"] += 1
                    fails.append("conn %d key %s: success (seq %d) after "
                                 "unknown_key (seq %d)" %
                                 (self.idx, name, self.last_ok[name], seq))


# ---- lurkd's log ---------------------------------------------------------
logpos = [0]


def wait_log(pattern, secs=15):
    """The first line matching pattern written since the last wait."""
    rx = re.compile(pattern)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        with open(LOG, "rb") as f:
            f.seek(logpos[0])
            data = f.read()
        nl = data.rfind(b"\n")
        if nl >= 0:
            for line in data[:nl + 1].decode(errors="replace").splitlines():
                logpos[0] += len(line.encode()) + 1
                if rx.search(line):
                    return line
        time.sleep(0.02)
    return None


gen = [1]


def reloaded(why, t0, window=False):
    """Wait for the parent's line for the next generation."""
    line = wait_log(r"parent: reload \(%s\): generation %d in use" %
                    (re.escape(why), gen[0] + 1))
    if window:
        windows.append((t0, time.monotonic()))
    if line:
        gen[0] += 1
        m = re.search(r" in (\d+) ms", line)
        reload_ms.append(int(m.group(1)) if m else 0)
    return line is not None


def key_info(name):
    s = connect(timeout=5)
    n = name.encode()
    s.sendall(hdr(EDGE, 1, KEY_INFO, 0, 1, 2 + len(n)) + bytes([1, len(n)]) + n)
    h, p, _ = recv_msg(s)
    s.close()
    return p[:32] if h[3] == ST_OK else None


# ---- the Secret volume, as the kubelet's atomic writer does it -----------
stamp = [0]


def secret_swap(key, crt):
    """New timestamped directory, ..data_tmp -> it, renamed over ..data,
    the old directory removed."""
    stamp[0] += 1
    new = "..2026_11_29_10_00_%02d.%09d" % (stamp[0], 4242 + stamp[0])
    os.mkdir(os.path.join(SECRET, new))
    for src, dst in ((key, "tls.key"), (crt, "tls.crt")):
        shutil.copyfile(src, os.path.join(SECRET, new, dst))
        os.chmod(os.path.join(SECRET, new, dst), 0o400)
    old = os.readlink(os.path.join(SECRET, "..data"))
    tmp = os.path.join(SECRET, "..data_tmp")
    os.symlink(new, tmp)
    os.rename(tmp, os.path.join(SECRET, "..data"))
    shutil.rmtree(os.path.join(SECRET, old))


def rotate(n, key=None):
    """Swap the Secret to rot/n; the watch reloads; requests move to the
    new id once key_info by name gives it."""
    d = os.path.join(D, "rot", str(n))
    new = Key("rot%d" % n, os.path.join(d, "tls.crt"))
    swaps[0] += 1
    old = keys["rot"]
    if old.retired_at is None:
        old.retired_at = swaps[0]
    t0 = time.monotonic()
    secret_swap(key or os.path.join(d, "tls.key"), os.path.join(d, "tls.crt"))
    if key is not None:         # a key that is not the certificate's
        return wait_log(r"parent: reload \(files changed in %s\) failed: "
                        r"key \"rot\": .*does not match private key" %
                        re.escape(SECRET))
    if not reloaded("files changed in " + SECRET, t0):
        return False
    kid = key_info("rot")
    if kid != new.kid:
        return False
    keys["rot"] = new
    time.sleep(0.3)             # new requests, signed with the new key
    return True


def conf(variant):
    shutil.copyfile(os.path.join(D, "conf." + variant),
                    os.path.join(D, "lurkd.conf"))


# ---- the run -------------------------------------------------------------
workers = [Worker(i) for i in range(NCONN)]
for w in workers:
    w.start()
time.sleep(0.5)

good = rotations = 0
for i in range(1, 21):
    conf("b" if (i // 2) % 2 else "a")
    t0 = time.monotonic()
    if i % 2:
        os.kill(PARENT, signal.SIGHUP)
        why = "SIGHUP"
    else:
        os.kill(NETPROC, signal.SIGUSR2)
        why = "lurkctl reload"
    good += reloaded(why, t0, window=True)
    if i in (5, 10, 15):
        rotations += rotate(rotations + 2) is True
    time.sleep(0.1)
ok(good == 20, "20 reloads under load (SIGHUP, IMSG_CTL_RELOAD), each "
   "committed: %d" % good)
ok(rotations == 3, "3 rotations by ..data swap, each reloaded by the watch "
   "and named by key_info: %d" % rotations)

# the failures: the running generation keeps serving
conf("b")
with open(os.path.join(D, "lurkd.conf"), "a") as f:
    f.write("listen on unix\nbogus statement\n")
t0 = time.monotonic()
os.kill(PARENT, signal.SIGHUP)
line = wait_log(r"parent: reload \(SIGHUP\) failed: ")
ok(line is not None and re.search(r"lurkd\.conf:\d+: ", line) is not None,
   "syntax error: reload failed, FILE:LINE logged: %s" % line)
conf("b")
os.kill(PARENT, signal.SIGHUP)
good = reloaded("SIGHUP", time.monotonic())
extra = os.path.join(D, "keys", "extra.key")
shutil.copyfile(extra, extra + ".good")
with open(extra, "w") as f:
    f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
t0 = time.monotonic()
line = wait_log(r"parent: reload \(files changed in %s\) failed: " %
                re.escape(os.path.join(D, "keys")))
ok(line is not None and re.search(r'key "extra": .*extra\.key: not a PEM '
                                  r'private key', line) is not None,
   "broken key: reload failed, path and reason logged: %s" % line)
os.replace(extra + ".good", extra)
good += reloaded("files changed in " + os.path.join(D, "keys"),
                 time.monotonic())
line = rotate(6, key=os.path.join(D, "rot", "5", "tls.key"))
ok(line is not None, "key not matching its certificate: reload failed, "
   "logged: %s" % line)
good += rotate(5) is True
ok(good == 3, "after each failure, the next reload is committed "
   "(the files fixed, the Secret's matching pair): %d of 3" % good)

time.sleep(0.3)
stop.set()
for w in workers:
    w.join(30)

# latencies
lat = [(t1 - t0) * 1000 for w in workers for t0, t1 in w.lat]
inrl, outrl = [], []
for w in workers:
    for t0, t1 in w.lat:
        during = any(t0 <= e and t1 >= s for s, e in windows)
        (inrl if during else outrl).append((t1 - t0) * 1000)
lat.sort()
inrl.sort()
outrl.sort()


def pct(v, q):
    return v[min(len(v) - 1, int(len(v) * q))] if v else 0


reload_ms.sort()
for f in fails:
    print("# " + f)
ok(stats["sent"] > 0 and stats["answered"] == stats["sent"] and
   stats["lost"] == 0, "every request answered: %d sent, %d answered, %d "
   "lost" % (stats["sent"], stats["answered"], stats["lost"]))
ok(stats["failed"] == 0 and stats["badsig"] == 0,
   "no failed operation and no bad signature: %d failed, %d bad" %
   (stats["failed"], stats["badsig"]))
ok(stats["order"] == 0, "on each connection no success for a retired key "
   "after its first unknown_key")
after = [n for n in ("rot2", "rot3", "rot4", "rot5")
         if newkey_ok.get(n, 0) == 0]
ok(not after, "after each rotation the new key signs and its signatures "
   "verify with the new certificate: %s" %
   ", ".join("%s %d" % (n, newkey_ok.get(n, 0))
             for n in ("rot1", "rot2", "rot3", "rot4", "rot5")))
ok(newkey_ok.get("p256", 0) > 0, "the key that stays signs all along: %d" %
   newkey_ok.get("p256", 0))
print("# figures: reloads=20 rotations=%d failed_reloads=3 generation=%d "
      "sent=%d answered=%d failed=%d badsig=%d unknown_key_retired=%d "
      "lost=%d" % (rotations + 1, gen[0], stats["sent"], stats["answered"],
                   stats["failed"], stats["badsig"],
                   stats["unknown_after_swap"], stats["lost"]))
print("# figures: reload took (parent) median %d ms, max %d ms; latency "
      "(ms) while one of the 20 reloads ran: p50 %.1f p99 %.1f max %.1f "
      "(%d answers); otherwise: p50 %.1f p99 %.1f max %.1f" %
      (pct(reload_ms, 0.5), reload_ms[-1] if reload_ms else 0,
       pct(inrl, 0.5), pct(inrl, 0.99), inrl[-1] if inrl else 0, len(inrl),
       pct(outrl, 0.5), pct(outrl, 0.99), outrl[-1] if outrl else 0))
finish()
