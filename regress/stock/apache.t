# Stock Apache httpd 2.4 (Debian's apache2), mpm_event workers as
# www-data, dual RSA + ECDSA certificates whose SSLCertificateKeyFile
# files are lurk key references.  The provider reaches httpd the Debian
# way: OPENSSL_CONF exported in the envvars file that apache2ctl reads
# (a private APACHE_CONFDIR here, with its own ServerRoot, port, run and
# lock directories: nothing of the system's apache2 is used or changed).
# TLS 1.3 and 1.2 with each key; lurkd stopped: handshakes fail;
# restarted: they succeed again, httpd never restarted.
. "$LURKD_TOP/regress/lib.sh"

stock_require apache apache2ctl apache2 www-data

stock_lurkd www-data 2 "listen on unix \"$SOCK\" mode 0660 group \"www-data\""
provider_conf "$T/openssl.cnf" "$SOCK" 1000

A=$T/apache
PORT=$(free_port)
mkdir -p "$A/run" "$A/lock" "$A/logs" "$A/htdocs"
echo "hello from apache" >"$A/htdocs/index.html"
# what an operator adds to /etc/apache2/envvars; the rest replaces
# Debian's defaults with private paths
cat >"$A/envvars" <<ENV
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=$A/run/apache2.pid
export APACHE_RUN_DIR=$A/run
export APACHE_LOCK_DIR=$A/lock
export APACHE_LOG_DIR=$A/logs
export LANG=C
export OPENSSL_CONF=$T/openssl.cnf
ENV
M=/usr/lib/apache2/modules
cat >"$A/apache2.conf" <<CONF
DefaultRuntimeDir \${APACHE_RUN_DIR}
PidFile \${APACHE_PID_FILE}
Mutex file:\${APACHE_LOCK_DIR} default
User \${APACHE_RUN_USER}
Group \${APACHE_RUN_GROUP}
ErrorLog \${APACHE_LOG_DIR}/error.log
LogLevel info
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule socache_shmcb_module $M/mod_socache_shmcb.so
LoadModule ssl_module $M/mod_ssl.so
StartServers 2
ServerLimit 2
MinSpareThreads 2
MaxSpareThreads 50
ThreadsPerChild 25
MaxRequestWorkers 50
ServerName test.lurk
Listen 127.0.0.1:$PORT
SSLSessionCache none
SSLSessionTickets off
<VirtualHost 127.0.0.1:$PORT>
	SSLEngine on
	SSLProtocol -all +TLSv1.2 +TLSv1.3
	SSLCertificateFile $T/rsa.crt
	SSLCertificateKeyFile $T/rsa.ref
	SSLCertificateFile $T/ec.crt
	SSLCertificateKeyFile $T/ec.ref
	DocumentRoot $A/htdocs
	<Directory $A/htdocs>
		Require all granted
	</Directory>
</VirtualHost>
CONF
# apache2ctl reads \$APACHE_CONFDIR/envvars and passes -d \$APACHE_CONFDIR;
# with arguments other than start/stop it runs apache2 with them: in the
# foreground here, a child of this script, never systemd's apache2
APACHE_CONFDIR=$A apache2ctl -DFOREGROUND >"$A/out" 2>&1 &
AP_PID=$!
HTTPD=
# httpd is apache2ctl's child: stop it (its pid file, or the child of
# apache2ctl's shell), then apache2ctl ends
stop_apache() {
	local pid=${HTTPD:-$(cat "$A/run/apache2.pid" 2>/dev/null)}
	[ -n "$pid" ] || pid=$(ps -o pid= --ppid "$AP_PID" 2>/dev/null)
	[ -n "$pid" ] && kill -TERM $pid 2>/dev/null
	[ -n "$AP_PID" ] && wait "$AP_PID" 2>/dev/null
	AP_PID=
}
trap 'stop_apache; cleanup' EXIT
if ! wait_port "$PORT" 10; then
	nok "apache2 started with lurk key references"
	cat "$A/out" "$A/logs/error.log"
	finish
fi
ok "apache2 started with lurk key references"
for i in $(seq 50); do
	HTTPD=$(cat "$A/run/apache2.pid" 2>/dev/null) && [ -n "$HTTPD" ] && break
	sleep 0.1
done
check "apache2 workers run as www-data" \
    [ "$(ps -o user= --ppid "$HTTPD" | grep -c www-data)" -ge 1 ]

stock_tls "TLS 1.3 rsa_pss_rsae_sha256 (RSA key in lurkd)" RSA-PSS \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256
stock_tls "TLS 1.3 ecdsa_secp256r1_sha256 (EC key in lurkd)" ECDSA \
    -tls1_3 -sigalgs ecdsa_secp256r1_sha256
stock_tls "TLS 1.2 ECDHE-RSA" RSA -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
stock_tls "TLS 1.2 ECDHE-ECDSA" ECDSA -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
CURL=(curl -s --max-time 10 --cacert "$T/ca.crt" --resolve "test.lurk:$PORT:127.0.0.1")
out=$("${CURL[@]}" "https://test.lurk:$PORT/index.html")
check "curl gets the page over TLS" [ "$out" = "hello from apache" ]

stock_signed www-data "the workers"
stock_outage apache2 "$A/logs/error.log"
check "... the same apache2" [ "$(cat "$A/run/apache2.pid")" = "$HTTPD" ]
stop_apache
check "apache2 stopped: nothing of it left" \
    eval '! ps -o pid= --ppid "$HTTPD" | grep -q . && ! kill -0 "$HTTPD" 2>/dev/null'
finish
