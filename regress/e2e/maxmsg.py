"""The maximum message size, exactly (lurkd runs with max message size
N, N = argv[1], header included): a message of N bytes is read whole and
answered, the connection goes on; one of N + 1 bytes is refused from its
header with invalid_format and the connection is closed.  In the length
mode of LURK_LENMODE (payload or message).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
import socket

from lurkclient import ok, finish, hdr, connect, recv_msg

N = int(sys.argv[1])
whole = os.environ.get("LURK_LENMODE") == "message"
label = " [length %s]" % ("message" if whole else "payload")
SUCCESS, INVALID_FORMAT = 1, 3


def ping_of(size, ident):
    """A ping of size bytes in all: a payload it must not have."""
    plen = size - 16
    return hdr(0, 1, 1, 0, ident, size if whole else plen) + b"p" * plen


def gone(s):
    """The peer closed s (EOF, or a reset: it had unread bytes of ours)
    and sent nothing more."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def answers(s, n):
    """Up to n answers as (id, status); fewer if the connection ends."""
    got = []
    try:
        for _ in range(n):
            h = recv_msg(s, whole)[0]
            got.append((h[4], h[3]))
    except (EOFError, ConnectionResetError, OSError):
        pass
    return got


# N bytes: within the limit; the ping after it is answered too
s = connect()
s.sendall(ping_of(N, 1) + ping_of(16, 2))
got = answers(s, 2)
ok(got == [(1, INVALID_FORMAT), (2, SUCCESS)],
   "a message of exactly %d bytes is read whole (ping with a payload: "
   "invalid_format), the next one answered%s: %s" % (N, label, got))
s.sendall(ping_of(16, 3))
ok(answers(s, 1) == [(3, SUCCESS)],
   "... and the connection goes on%s" % label)
s.close()

# N + 1 bytes: refused from the header alone, the connection closed
s = connect()
s.sendall(ping_of(N + 1, 4) + ping_of(16, 5))
got = answers(s, 1)
ok(got == [(4, INVALID_FORMAT)],
   "a message of %d bytes: invalid_format%s: %s" % (N + 1, label, got))
ok(gone(s), "... and the connection is closed, the ping after it "
   "not answered%s" % label)
s.close()
finish()
