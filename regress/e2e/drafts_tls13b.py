# drafts_tls13.py's second part (DRAFTS_MODE=second, run in its
# namespace), against drafts.t's second lurkd: tls13 freshness { sha256
# null }, label pylurk, 1 session a keyproc for 2 s, tickets of 2 s.
import re
import time

LABEL = b""     # tls13 freshness label pylurk


def rfc8448(name):
    """A message of regress/keyproc/rfc8448.h, without its 4-byte header."""
    text = open(os.path.join(os.environ["LURKD_TOP"], "regress", "keyproc",
                             "rfc8448.h")).read()
    m = re.search(r"%s\[\] =\s*((?:\s*\"[0-9a-f]*\")+);" % name, text)
    return bytes.fromhex("".join(re.findall(r"\"([0-9a-f]*)\"", m.group(1))))[4:]


# RFC 8448's handshake through lurkd: with the freshness function null
# (ServerHello.random as sent) and the shared secret of the RFC given
# (e_generated), the handshake traffic secrets are the RFC's
ecdhe = bytes.fromhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
req = (b"\x80\xff" + b"\x01" + vec(2, u16(29) + ecdhe) +
       lurk_hs([(1, rfc8448("R8448_CH")), (2, rfc8448("R8448_SH")),
                (8, rfc8448("R8448_EE"))]) +
       fp_cert(CERT["p256"]) + u16(0x1800) + u16(0x0403))
st, p = c.call(TLS13, S_INIT_CERT_VERIFY, req)
sec = parse_secrets(p[2:])[0] if st == SUCCESS else {}
ok(st == SUCCESS and
   sec.get(H_C, b"").hex() == "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21" and
   sec.get(H_S, b"").hex() == "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
   "RFC 8448 3 through lurkd (freshness null, its ECDHE secret): h_c and "
   "h_s are the RFC's")
hs = HS()
hs.call()
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "tls13 freshness label pylurk: ServerHello.random = SHA-256(S)")
hs = HS(fresh=255)
hs.call()
good, _ = hs.check()
ok(hs.st == SUCCESS and good and secrets_ok(hs),
   "freshness null, allowed here: ServerHello.random = S")

# the session table: 1 session in each of the 2 keyprocs
s1, g1 = session()
s2, g2 = session()
s3 = HS()
s3.call(tag=0, sid=b"EDGE")
g3, _ = s3.check(tag=0x80)
ok(g1 and g2 and s1.sid[0] != s2.sid[0] and s3.st == SUCCESS and g3,
   "tls13 sessions 1, 2 keyprocs: a third session asked for is answered "
   "stateless (last_exchange, no session_id)")
fin, r = finished_and_r(s1)
st, p = new_ticket(s1.sid, [(20, fin)], 1)
tk, _ = tickets(parse_secrets(p[5:])[1]) if st == SUCCESS else ([], False)
ok(st == SUCCESS and len(tk) == 1 and tk[0][0] == 2, "a ticket of lifetime 2")
ch, psk, bk = psk_ch(tk[0], r)
st, p = early(ch)
ok(st == E["undefined_error"],
   "s_init_early_secret with the table full: undefined_error (2)")
time.sleep(3)
st, p = new_ticket(s1.sid, [], 1, req=0)
ok(st == E["invalid_session_id"],
   "a session 3 s idle (timeout 2): invalid_session_id (5)")
st, p = early(ch)
ok(st == E["invalid_psk"], "a ticket 3 s old (lifetime 2): invalid_psk (9)")
s4, g4 = session()
ok(s4.st == SUCCESS and g4 and s4.sid is not None,
   "the timed-out sessions' room is used again")
with open(os.path.join(D, "ticket13"), "rb") as fh:
    b = fh.read()
old = (int.from_bytes(b[:4], "big"), b[5:5 + b[4]], b[5 + b[4] + 32 + 2:])
ch, psk, bk = psk_ch(old, b[5 + b[4]:5 + b[4] + 32])
st, p = early(ch)
ok(st == E["invalid_psk"],
   "a ticket sealed by the lurkd before (another ticket key): invalid_psk (9)")
