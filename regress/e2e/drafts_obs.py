# drafts_tls13.py's part for draftsobs.t (DRAFTS_MODE=obs, run in its
# namespace): the drafts' operations in lurkctl show stats|keys, in
# /metrics and in the JSON log, as the edge's are; limit sign-tls13 rate
# counts tls13-cert-verify too.  The lurkd: p256 allows sign-tls13 and
# the tls13 operations under "limit sign-tls13 rate 1 burst 3"; rsa
# tls12-rsa-master; ed none of the drafts'.  Env: LURKCTL, CTL (the
# control socket), PORT (listen on http), and the log is JSON.
import http.client
import json
import re
import shutil

me = os.getuid()


def sign13(key):
    """The edge's sign_tls13 with key's SPKI id."""
    kid = hashlib.sha256(spki_der(f(key + ".key"))).digest()
    tbs = cv_content(bytes(32))
    return c.call(192, 2, kid + u16(0x0403) + vec(2, tbs))[0]


# ---- limit sign-tls13 rate 1 burst 3: the edge's and the drafts' ------
ok(sign13("p256") == SUCCESS and sign13("p256") == SUCCESS,
   "two sign_tls13 with p256 under its limit of burst 3")
h = HS()
ok(h.call() == SUCCESS, "a s_init_cert_verify, the limit's third")
ok(HS().call() == E["undefined_error"],
   "a fourth, the tls13 one: over limit sign-tls13 rate, undefined_error (2)")
time.sleep(3.1)     # the bucket full again

# ---- operations of each kind, and refusals -----------------------------
hs, good = session()
fin, r = finished_and_r(hs)
st, p = new_ticket(hs.sid, [(20, fin)], 1, tag=0x80)
ok(hs.st == SUCCESS and good and st == SUCCESS,
   "a session and its s_new_ticket (no key named: keyproc says which)")
ok(HS().call(fresh=255) == E["invalid_freshness"],
   "keyproc refuses freshness null: invalid_freshness (7)")
ok(HS(key="ed", sig=0x0807).call() == E["invalid_certificate"],
   "netproc refuses ed, no tls13-cert-verify: invalid_certificate (10)")
pm = b"\x03\x03" + os.urandom(46)
st, p = c.call(TLS12, RSA_MASTER, key_id32(f("rsa.key")) + b"\0\0" +
               os.urandom(32) + now_random() +
               rsa_encrypt(f("rsa.pub"), pm))
ok(st == SUCCESS, "a tls12 rsa_master with rsa")


def lurkctl(*args):
    out = subprocess.run([os.environ["LURKCTL"], "-s", os.environ["CTL"]] +
                         list(args), capture_output=True, text=True)
    return out.returncode, out.stdout


# ---- lurkctl show stats ------------------------------------------------
rc, out = lurkctl("-j", "show", "stats")
j = json.loads(out) if rc == 0 else {"operations": [], "counters": {}}
got = {(o["key"], o["operation"], o["result"]): o["count"]
       for o in j["operations"]}
want = {("p256", "sign-tls13", "success"): 2,
        ("p256", "tls13-cert-verify", "success"): 2,
        ("p256", "tls13-cert-verify", "undefined_error"): 1,
        ("p256", "tls13-cert-verify", "invalid_freshness"): 1,
        ("p256", "tls13-new-ticket", "success"): 1,
        ("ed", "tls13-cert-verify", "invalid_certificate"): 1,
        ("rsa", "tls12-rsa-master", "success"): 1}
ok(got == want, "show stats: the drafts' operations by key, operation and "
   "result, s_new_ticket under its session's key: %s" % sorted(got.items()))
req = j["counters"].get("requests", {})
ok(req.get("tls13_cert_verify") == 5 and req.get("tls13_new_ticket") == 1 and
   req.get("tls12_rsa_master") == 1 and req.get("sign_tls13") == 2,
   "show stats: requests by operation, the drafts' too: %s" % req)

# ---- lurkctl show keys -------------------------------------------------
rc, out = lurkctl("-j", "show", "keys")
keys = {k["name"]: k for k in json.loads(out)["keys"]} if rc == 0 else {}
k = keys.get("p256", {})
ok(k.get("operations") == ["sign-tls13", "tls13-cert-verify",
                           "tls13-new-ticket", "tls13-psk"] and
   k.get("tls13") == {"secrets": ["h_c", "h_s", "a_c", "a_s", "x", "r"],
                      "tickets": 3} and
   k.get("limits") == {"sign_tls13": {"rate": 1, "burst": 3}},
   "show keys -j: p256's operations, tls13 secrets and tickets, its limit")
ok(k.get("uses", {}).get("tls13_cert_verify") == 2 and
   k["uses"].get("tls13_new_ticket") == 1 and
   k["refusals"].get("tls13_cert_verify") == 2 and
   k["rate_refusals"].get("tls13_cert_verify") == 1 and
   k["rate_refusals"].get("sign_tls13") == 0,
   "show keys -j: uses, refusals and rate refusals of the drafts' "
   "operations: %s %s %s" % (k.get("uses"), k.get("refusals"),
                             k.get("rate_refusals")))
ok(keys.get("rsa", {}).get("operations") == ["tls12-rsa-master"] and
   keys["rsa"]["tls13"] is None and
   keys["rsa"]["uses"].get("tls12_rsa_master") == 1,
   "show keys -j: rsa's tls12-rsa-master, used once")
rc, out = lurkctl("show", "keys")
ok(rc == 0 and re.search(r"operations   sign-tls13 \(limit 1/s burst 3\), "
                         r"tls13-cert-verify \(limit 1/s burst 3\), "
                         r"tls13-new-ticket, tls13-psk$", out, re.M) and
   re.search(r"tls13        secrets h_c h_s a_c a_s x r; 3 tickets a "
             r"session$", out, re.M) and
   re.search(r"tls13-cert-verify +2 uses, 2 refusals \(1 over the rate\)$",
             out, re.M),
   "show keys: p256's drafts' operations, their limit, its tls13 policy "
   "and their uses")

# ---- /metrics ------------------------------------------------------------
conn = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT"]),
                                  timeout=5)
conn.request("GET", "/metrics")
text = conn.getresponse().read().decode()
for line in ('lurkd_operations_total{key="p256",operation="tls13-new-ticket",'
             'result="success"} 1',
             'lurkd_operations_total{key="p256",operation="tls13-cert-verify",'
             'result="invalid_freshness"} 1',
             'lurkd_operations_total{key="rsa",operation="tls12-rsa-master",'
             'result="success"} 1',
             'lurkd_key_rate_refusals_total{key="p256",'
             'operation="tls13-cert-verify"} 1',
             'lurkd_requests_total{operation="tls13-new-ticket"} 1',
             'lurkd_operation_duration_seconds_count{'
             'operation="tls13-cert-verify"} 3',
             'lurkd_operation_duration_seconds_count{'
             'operation="tls12-rsa-master"} 1'):
    ok(line in text.splitlines(), "/metrics: " + line)
if shutil.which("promtool"):
    pr = subprocess.run(["promtool", "check", "metrics"], input=text,
                        capture_output=True, text=True)
    ok(pr.returncode == 0, "/metrics passes promtool check metrics " +
       pr.stdout + pr.stderr)
else:
    print("skip - promtool check metrics: promtool not installed")

# ---- the JSON log ---------------------------------------------------------
time.sleep(0.3)
objs = []
for line in open(f("lurkd.log")):
    try:
        objs.append(json.loads(line))
    except ValueError:
        pass


def one(what, **want):
    m = [o for o in objs if what in o["message"] and
         all(o.get(k) == v for k, v in want.items())]
    ok(len(m) >= 1 and m[0].get("reason"),
       "JSON log: %s with %s (%d)" % (what, sorted(want), len(m)))


one("refused: key \"p256\" s_init_cert_verify", process="keyproc[0]",
    peer_uid=me, transport="unix", key="p256", operation="tls13-cert-verify",
    status="invalid_freshness")
one("invalid_certificate s_init_cert_verify key \"ed\"", process="netproc",
    peer_uid=me, transport="unix", key="ed", operation="tls13-cert-verify",
    status="invalid_certificate")
one("limit sign-tls13 rate 1 a second exceeded", process="netproc",
    peer_uid=me, key="p256", operation="tls13-cert-verify",
    status="undefined_error")
