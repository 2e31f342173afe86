# Stock Postfix 3.7 (Debian's) offering STARTTLS with keys that exist
# only in lurkd.  smtpd runs chrooted in the queue directory as user
# postfix, so it reaches lurkd through a second listener inside that
# chroot ($QUEUE/lurkd/lurk.sock, seen by smtpd as /lurkd/lurk.sock:
# LURK_SOCKET given by import_environment); the provider comes from
# tls_config_file.  A private instance (postfix -c: its own config,
# queue and data directories, port) started in the foreground (start-fg)
# and stopped at the end: the system's postfix is neither used nor
# changed.  TLS 1.3 and 1.2 with RSA and ECDSA keys; lurkd stopped:
# handshakes fail; restarted: they succeed again.
. "$LURKD_TOP/regress/lib.sh"

stock_require postfix postfix postfix postfix
P=$T/postfix
QUEUE=$P/spool
mkdir -p "$P/etc" "$QUEUE" "$P/data"
chown postfix "$P/data"
# references that name no socket: the provider's LURK_SOCKET applies
REF_SOCKET=no stock_lurkd postfix 1 \
    "listen on unix \"$SOCK\" mode 0660 group \"postfix\"" \
    "listen on unix \"$QUEUE/lurkd/lurk.sock\" mode 0660 group \"postfix\""
provider_conf "$T/openssl.cnf" /nonexistent/lurk.sock 1000

PORT=$(free_port)
cat >"$P/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $QUEUE
data_directory = $P/data
maillog_file_prefixes = $T
maillog_file = $P/maillog
myhostname = test.lurk
mydestination =
local_recipient_maps =
alias_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_tls_security_level = may
smtpd_tls_cert_file = $T/rsa.crt
smtpd_tls_key_file = $T/rsa.ref
smtpd_tls_eccert_file = $T/ec.crt
smtpd_tls_eckey_file = $T/ec.ref
smtpd_tls_loglevel = 1
tls_config_file = $T/openssl.cnf
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
    POSTLOG_SERVICE POSTLOG_HOSTNAME LURK_SOCKET=/lurkd/lurk.sock
CF
cat >"$P/etc/master.cf" <<CF
127.0.0.1:$PORT inet n - y - - smtpd
postlog unix-dgram n - n - 1 postlogd
anvil unix - - y - 1 anvil
tlsmgr unix - - y 1000? 1 tlsmgr
CF
postfix -c "$P/etc" start-fg >"$P/out" 2>&1 &
PF_PID=$!
stop_postfix() {
	[ -n "$PF_PID" ] || return 0
	postfix -c "$P/etc" stop >/dev/null 2>&1 ||
	    kill -TERM $(cat "$QUEUE/pid/master.pid" 2>/dev/null) 2>/dev/null
	wait "$PF_PID" 2>/dev/null
	PF_PID=
}
trap 'stop_postfix; cleanup' EXIT
if ! wait_port "$PORT" 15; then
	nok "postfix started with lurk key references"
STARTTLS=smtp
	cat "$P/out" "$P/maillog" 2>/dev/null
	finish
fi
ok "postfix started with lurk key references"
STARTTLS=smtp
MASTER=$(awk '{print $1}' "$QUEUE/pid/master.pid")

stock_tls "STARTTLS TLS 1.3 rsa_pss_rsae_sha256 (RSA key in lurkd)" RSA-PSS \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256
stock_tls "STARTTLS TLS 1.3 ecdsa_secp256r1_sha256 (EC key in lurkd)" ECDSA \
    -tls1_3 -sigalgs ecdsa_secp256r1_sha256
stock_tls "STARTTLS TLS 1.2 ECDHE-RSA" RSA -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
stock_tls "STARTTLS TLS 1.2 ECDHE-ECDSA" ECDSA \
    -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256

SMTPD=$(ps -o pid=,comm= --ppid "$MASTER" | awk '$2 == "smtpd" { print $1; exit }')
check "smtpd is running" [ -n "$SMTPD" ]
check "... chrooted in the queue directory" \
    [ "$(readlink "/proc/${SMTPD:-0}/root")" = "$QUEUE" ]
check "... as user postfix" [ "$(ps -o user= -p "$SMTPD")" = postfix ]
stock_signed postfix smtpd
stock_outage smtpd "$P/maillog"
check "... the same postfix master" \
    [ "$(awk '{print $1}' "$QUEUE/pid/master.pid")" = "$MASTER" ]
stop_postfix
check "postfix stopped: nothing of it left" \
    eval '! kill -0 "$MASTER" 2>/dev/null && ! ps -o pid= --ppid "$MASTER" | grep -q .'
finish
