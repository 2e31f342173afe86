# drafts_tls13.py's part for draftsreload.t (DRAFTS_MODE=reload, run in
# its namespace): tls13 sessions and tickets across reloads.  The parent
# is LURKD_PARENT; DIR/conf.NAME are the configurations draftsreload.t
# made; each reload here copies one to DIR/lurkd.conf, sends SIGHUP and
# waits for its generation to be in use everywhere.
import shutil
import signal

PARENT = int(os.environ["LURKD_PARENT"])
GEN = [1]


def reload(name):
    shutil.copyfile(f("conf." + name), f("lurkd.conf"))
    GEN[0] += 1
    want = "generation %d in use" % GEN[0]
    os.kill(PARENT, signal.SIGHUP)
    for _ in range(200):
        with open(f("lurkd.log")) as fh:
            if any("parent: reload" in line and want in line for line in fh):
                return True
        time.sleep(0.05)
    return False


def opened(label=None):
    """A session of p256 (s_init_cert_verify, last_exchange 0)."""
    hs = HS(label=label)
    hs.call(tag=0, sid=b"EDGE")
    good, _ = hs.check(tag=0)
    return hs if hs.st == SUCCESS and good and hs.sid is not None else None


def more(hs, tag=0):
    """The session's first s_new_ticket: (status, its tickets, r)."""
    fin, r = finished_and_r(hs)
    st, p = new_ticket(hs.sid, [(20, fin)], 1, tag=tag)
    tk = tickets(parse_secrets(p[5:])[1])[0] if st == SUCCESS else []
    return st, tk, r


def resumes(ticket, r):
    """s_init_early_secret with the ticket: its status, and b as computed."""
    ch, psk, bk = psk_ch(ticket, r)
    st, p = early(ch)
    return st, st == SUCCESS and parse_secrets(p[4:])[0] == {B: bk}


def ticket_now():
    hs = opened()
    st, tk, r = more(hs, tag=0x80) if hs else (None, [], None)
    return (tk[0], r) if st == SUCCESS and tk else None


# ---- a key kept: its index moves -------------------------------------
pre = [opened() for _ in range(4)]
ok(all(pre) and {h.sid[0] for h in pre} == {0, 1},
   "4 sessions of p256 before a reload, on both keyprocs")
T0 = ticket_now()
ok(T0 is not None, "a ticket of p256 before the reload")
ok(reload("shift"), "reload: a key block before p256 (its index moves)")
res = [more(h) for h in pre]
ok(all(st == SUCCESS and len(tk) == 1 for st, tk, r in res),
   "each session begun before goes on after it, with its key, on its "
   "keyproc: s_new_ticket gives a ticket (%s)" % [st for st, _, _ in res])
ok(resumes(*T0) == (SUCCESS, True),
   "a ticket issued before the reload opens after it (the ticket key "
   "survives, the key is the same): b as computed here")
st, tk, r = res[0]
ok(tk and resumes(tk[0], r) == (SUCCESS, True),
   "a ticket that session gave after the reload opens too")

# ---- a key removed, then back ----------------------------------------
hs = opened()
ok(reload("remove"), "reload: p256 removed")
ok(more(hs)[0] == E["invalid_session_id"],
   "a session of the removed key: invalid_session_id (5)")
ok(resumes(*T0)[0] == E["invalid_psk"],
   "a ticket of the removed key: invalid_psk (9)")
ok(reload("base"), "reload: p256 back")
ok(resumes(*T0) == (SUCCESS, True),
   "the key back, its ticket of before opens again")

# ---- the key no longer the peer's; no longer giving tickets -----------
hs = opened()
ok(reload("revoke"), "reload: p256 allowed to another uid")
ok(more(hs)[0] == E["invalid_session_id"],
   "a session of a key its peer may no longer use: invalid_session_id "
   "(5), from netproc")
ok(reload("base"), "reload: p256 ours again")
hs = opened()
ok(reload("notickets"), "reload: p256 without tls13-new-ticket")
ok(more(hs)[0] == E["invalid_session_id"],
   "a session of a key that no longer gives tickets: invalid_session_id (5)")
ok(reload("base"), "reload: p256 gives tickets again")

# ---- the key's tickets lowered below what a session has issued ----------
hs = opened()
st, tk, r = more(hs)
st2, p = new_ticket(hs.sid, [], 1, req=0) if st == SUCCESS else (None, b"")
ok(st == SUCCESS and st2 == SUCCESS and p[0] == 0,
   "a session with 2 tickets of its key's 3, more to come")
ok(reload("onetick"), "reload: p256 gives 1 ticket a session")
st, p = new_ticket(hs.sid, [], 5, req=0)
tk, whole = tickets(p[5:][2:]) if st == SUCCESS else ([], False)
ok(st == SUCCESS and p[0] == 0x80 and whole and tk == [],
   "5 more asked: none (2 issued, 1 allowed now), and last_exchange")
ok(reload("base"), "reload: 3 tickets again")

# ---- the drafts' settings ---------------------------------------------
hs = opened()
T1 = ticket_now()
ok(hs is not None and T1 is not None and T1[0][0] == 7200,
   "a session, and a ticket of lifetime 7200, before the reload")
ok(reload("settings"), "reload: tls13 freshness label pylurk, ticket "
   "lifetime 1, tls13 sessions 1")
h = HS(label=b"")
h.call()
good, _ = h.check()
ok(h.st == SUCCESS and good and secrets_ok(h),
   "freshness label pylurk from the next request on: ServerHello.random "
   "= SHA-256(S)")
h = HS()
h.call()
h.check()
ok(h.st == SUCCESS and not secrets_ok(h),
   "... not SHA-256(S || \"tls13 pfs srv\") any more")
st, tk, r = more(hs)
ok(st == SUCCESS and tk and tk[0][0] == 1,
   "the session begun before goes on: its ticket has the new lifetime 1")
many = [opened(label=b"") for _ in range(3)]
ok(all(many), "tls13 sessions 1 took no effect (a restart): 3 sessions at "
   "once on 2 keyprocs")
time.sleep(2.1)
ok(resumes(*T1)[0] == E["invalid_psk"],
   "a ticket of lifetime 7200 issued before, 2 s old: past the lifetime "
   "1 a reload set, invalid_psk (9)")
ok(reload("base"), "reload: the settings back")

# ---- the key rotated: another key under its name ----------------------
hs = opened()
T2 = ticket_now()
ok(reload("rotate"), "reload: p256 is another key (rotation)")
ok(more(hs)[0] == E["invalid_session_id"],
   "a session of the key replaced: invalid_session_id (5)")
ok(resumes(*T2)[0] == E["invalid_psk"],
   "a ticket of the key replaced: invalid_psk (9)")
CERT["p256new"] = cert_der(f("p256new.crt"))
h = HS(key="p256new")
h.call(tag=0, sid=b"EDGE")
good, _ = h.check(tag=0)
ok(h.st == SUCCESS and good and more(h)[0] == SUCCESS,
   "the new key: a session, a CertificateVerify that verifies, a ticket")
