"""Authorisation by the peer's uid, primary gid and supplementary groups,
for every key operation of the edge extension, against a running lurkd.

Usage: authz.py conf DIR     -- prints the lurkd.conf for DIR/KEY.key/.crt
       authz.py run DIR      -- the checks (LURK_SOCKET: the socket)

Each key allows one kind of credential.  As root, peers with chosen
credentials (uid != gid, a supplementary group only, ids that equal the
other kind's) connect in forked children; otherwise this process is the
only peer.  Whatever the peer, a key operation must succeed exactly where
the key's allow list names its uid, its gid or one of its groups, and be
refused with unauthorized everywhere else; key_info is public.
"""
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, connect, recv_msg

EDGE = 192
KEY_INFO, SIGN13, SIGN12, PREMASTER = 1, 2, 3, 4
ST_OK, UNAUTHORIZED = 1, 9
OPS = (("sign_tls13", SIGN13), ("sign_tls12", SIGN12),
       ("rsa_premaster", PREMASTER))

# key name -> its allow lines (uids, gids); every key allows every operation
KEYS = {
    "byuid": ((2101,), ()),
    "bygid": ((), (3101,)),
    "bysupp": ((), (3102,)),
}
# peers as root: (uid, gid, supplementary groups)
PEERS = (
    (2101, 3999, []),           # the uid a key allows, another gid
    (2102, 3101, []),           # the gid a key allows, uid != gid
    (3101, 2103, []),           # uid equal to an allowed gid: no
    (2104, 2104, [3102]),       # a supplementary group only
    (2105, 2105, [2101, 3999]), # a group equal to an allowed uid: no
    (2106, 2101, []),           # gid equal to an allowed uid: no
)

TLS13 = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)
P256PT = bytes.fromhex(
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
TLS12 = bytes(range(64)) + bytes([3, 0, 23, 65]) + P256PT


def u16(n):
    return n.to_bytes(2, "big")


def conf(d):
    print('listen on unix "%s" mode 0666' % os.path.join(d, "lurk.sock"))
    print("keyprocs 1")
    for name, (uids, gids) in KEYS.items():
        print('key "%s" {' % name)
        print('\tprivate "%s"' % os.path.join(d, name + ".key"))
        print('\tcertificate "%s"' % os.path.join(d, name + ".crt"))
        print("\toperations { sign-tls13 sign-tls12 rsa-kex }")
        for u in uids:
            print("\tallow uid %d" % u)
        for g in gids:
            print("\tallow gid %d" % g)
        print("}")


def requests(d):
    """Per key: its id and one well-formed request per operation."""
    out = {}
    for name in KEYS:
        with open(os.path.join(d, name + ".spki"), "rb") as f:
            kid = hashlib.sha256(f.read()).digest()
        pm = bytes([3, 3]) + os.urandom(46)
        ct = subprocess.run(["openssl", "pkeyutl", "-encrypt", "-pubin",
                             "-inkey", os.path.join(d, name + ".pub")],
                            input=pm, capture_output=True, check=True).stdout
        out[name] = {
            "key_info": bytes([0, 32]) + kid,
            "sign_tls13": kid + u16(0x0804) + u16(len(TLS13)) + TLS13,
            "sign_tls12": kid + u16(0x0401) + u16(len(TLS12)) + TLS12,
            "rsa_premaster": kid + u16(0x0303) + u16(0x0303) +
            u16(len(ct)) + ct,
        }
    return out


def statuses(reqs):
    """This process's answers: key -> operation -> LURK status."""
    s = connect()
    got = {}
    ident = 0
    for name, rs in reqs.items():
        got[name] = {}
        for op, typ in (("key_info", KEY_INFO),) + OPS:
            ident += 1
            s.sendall(hdr(EDGE, 1, typ, 0, ident, len(rs[op])) + rs[op])
            h, p, raw = recv_msg(s)
            got[name][op] = h[3] if h[4] == ident else -1
    s.close()
    return got


def as_peer(uid, gid, groups, reqs):
    """statuses() in a child with these credentials."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(rd)
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            os.write(wr, json.dumps(statuses(reqs)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(wr)
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    _, status = os.waitpid(pid, 0)
    return json.loads(data) if status == 0 and data else None


def check(uid, gid, groups, got):
    who = "uid %d gid %d groups %s" % (uid, gid, groups or "none")
    if got is None:
        ok(False, "%s: the peer ran" % who)
        return
    for name, (uids, gids) in KEYS.items():
        allowed = uid in uids or gid in gids or any(g in gids for g in groups)
        want = ST_OK if allowed else UNAUTHORIZED
        bad = ["%s got %d" % (op, got[name][op]) for op, _ in OPS
               if got[name][op] != want]
        if got[name]["key_info"] != ST_OK:
            bad.append("key_info got %d" % got[name]["key_info"])
        ok(not bad, "%s, key %s (allow %s): %s%s" % (
            who, name,
            " ".join(["uid %d" % u for u in uids] +
                     ["gid %d" % g for g in gids]),
            "every operation succeeds" if allowed else
            "every operation refused with unauthorized",
            "" if not bad else " (" + ", ".join(bad) + ")"))


def run(d):
    reqs = requests(d)
    if os.getuid() == 0:
        for uid, gid, groups in PEERS:
            check(uid, gid, groups, as_peer(uid, gid, groups, reqs))
    else:
        groups = [g for g in os.getgroups() if g != os.getgid()]
        check(os.getuid(), os.getgid(), groups, statuses(reqs))
    finish()


if __name__ == "__main__":
    if sys.argv[1] == "conf":
        conf(sys.argv[2])
    else:
        run(sys.argv[2])
