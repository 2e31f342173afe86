# The container image and the Kubernetes pod, really run, by podman.
# No registry is reachable: a bookworm-slim-like base is made with
# mmdebstrap --variant=minbase from the Debian mirror apt uses and
# tagged docker.io/library/debian:bookworm-slim, so that the shipped
# etc/container/Containerfile builds unchanged (--pull=never; its RUN
# steps reach the mirror through the host's network).  Then:
#   the image alone: lurkd -d is PID 1 as uid 65532, the HEALTHCHECK
#   passes, an orphan is reaped, podman stop (SIGTERM) ends it with 0;
#   the pod of etc/kubernetes (podman kube play): curl through nginx
#   gets 200 over TLS 1.3, lurkd signed for nginx's uid from the other
#   container (pid 0: another pid namespace) and refuses another uid
#   there, the key is in lurkd's container and not in nginx's, both run
#   restricted (no capabilities, no_new_privs, seccomp, read-only root).
# What podman 4.3's kube play cannot do is changed in the pod, and
# said: the native sidecar (an init container with restartPolicy:
# Always, which podman restarts in a loop) becomes nginx's first
# ordinary container, the pod's restartPolicy OnFailure (podman applies
# the pod's policy to init containers); podman applies no fsGroup and
# chowns a new volume to the first container that mounts it, so an init
# container gives the socket's emptyDir to lurkd's uid; it mounts one
# volume per Secret whatever its items and leaves "data" base64, so the
# key and the certificate are host directories (the key lurkd's uid's,
# 0400); the pod has no network but its own loopback (curl enters its
# network namespace), and no ports.
#
# podman keeps its images in LURKD_PODMAN_CACHE
# (/var/cache/lurkd-regress/podman) between runs: the base, the two
# images (what the next build reuses); its run state goes to
# /run/lurkd-regress-podman; its configuration is the test's own
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF: runc, cgroupfs, ulimits),
# nothing in /etc.  rm -rf both directories to start afresh.
# regress-timeout: 900
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || { skip "pod: needs root (podman as root)"; finish; }
for c in podman runc mmdebstrap catatonit nsenter curl flock; do
	command -v $c >/dev/null ||
	    { skip "pod: no $c (make deps installs it)"; finish; }
done
"$PYTHON" -c 'import yaml' 2>/dev/null || { skip "pod: no python3-yaml"; finish; }

t0=$SECONDS
CACHE=${LURKD_PODMAN_CACHE:-/var/cache/lurkd-regress/podman}
RUNROOT=/run/lurkd-regress-podman
mkdir -p "$CACHE" "$RUNROOT"
# one pod test at a time on this machine (the pod's name, the cache)
exec 9>"$CACHE/lock"
flock -w 600 9 || { nok "pod: $CACHE/lock held for 10 minutes"; finish; }
cat >"$T/containers.conf" <<END
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$RUNROOT/libpod"
END
cat >"$T/storage.conf" <<END
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$RUNROOT/storage"
END
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf

pod_cleanup() {
	podman pod rm -f -t 0 www
	podman rm -f -t 0 lurkd-alone
	podman volume prune -f
	podman image prune -f
}
trap 'pod_cleanup >/dev/null 2>&1; cleanup' EXIT
pod_cleanup >/dev/null 2>&1	# what a killed run left

# the base image
BASE=docker.io/library/debian:bookworm-slim
if podman image exists "$BASE"; then
	echo "# base: $BASE from an earlier run"
else
	mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' \
	    /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	: "${mirror:=$(sed -n 's/^deb \(http[^ ]*\) bookworm .*/\1/p' \
	    /etc/apt/sources.list 2>/dev/null | head -1)}"
	: "${mirror:=http://deb.debian.org/debian}"
	s=$SECONDS
	mmdebstrap --variant=minbase --quiet bookworm "$T/base.tar" \
	    "$mirror" >"$T/mmdebstrap.out" 2>&1 &&
	    podman import --change 'CMD ["bash"]' "$T/base.tar" "$BASE" \
	    >>"$T/mmdebstrap.out" 2>&1 ||
	    { nok "mmdebstrap bookworm from $mirror"; tail "$T/mmdebstrap.out"; finish; }
	rm -f "$T/base.tar"
	echo "# base: mmdebstrap --variant=minbase bookworm $mirror: $((SECONDS - s)) s"
fi
if ! out=$(podman run --rm --network none "$BASE" true 2>&1); then
	skip "pod: podman cannot run a container here: $(echo "$out" | tail -1)"
	finish
fi

# the images, from the shipped Containerfile
s=$SECONDS
build() {	# build TAG [podman build args]
	local tag=$1
	shift
	podman build --format docker --pull=never --network host \
	    -f "$TOP/etc/container/Containerfile" -t "$tag" "$@" "$TOP" \
	    >>"$T/build.out" 2>&1
}
check "podman build: the Containerfile, unchanged, on the local base" \
    build localhost/lurkd:latest
check "... and its nginx-lurk target" \
    build localhost/nginx-lurk:latest --target nginx-lurk
echo "# images built in $((SECONDS - s)) s"
grep -q '^Successfully tagged localhost/nginx-lurk' "$T/build.out" ||
    { tail -n 30 "$T/build.out"; finish; }
cfg=$(podman image inspect localhost/lurkd:latest --format \
    '{{.Config.User}}|{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{.HealthCheck.Test}}')
echo "# lurkd image: $cfg"
check "the image: numeric non-root USER 65532, lurkd -d, the volume /run/lurkd" \
    eval '[[ "$cfg" == "65532:65532|[/usr/sbin/lurkd -d]|map[/run/lurkd:{}]|"* ]]'
check "... a HEALTHCHECK with lurkctl" eval '[[ "$cfg" == *"|[CMD lurkctl "* ]]'

# the key and certificate; the directories podman mounts for them
mkca && mkleaf www p256 || { nok "make CA and key"; finish; }
mkdir -p "$T/lurkd-tls" "$T/nginx-tls" "$T/alone-run"
cp "$T/www.key" "$T/lurkd-tls/tls.key"
cp "$T/www.crt" "$T/lurkd-tls/tls.crt"
cp "$T/www.crt" "$T/nginx-tls/tls.crt"
chown 65532:65532 "$T/lurkd-tls/tls.key" "$T/alone-run"
chmod 0400 "$T/lurkd-tls/tls.key"
keyline=$(sed -n 2p "$T/www.key")

# --- the image alone, restricted as a pod would run it
podman run -d --name lurkd-alone --network none --read-only \
    --cap-drop ALL --security-opt no-new-privileges \
    -v "$T/lurkd-tls:/etc/lurkd-tls:ro" -v "$T/alone-run:/run/lurkd" \
    localhost/lurkd:latest >/dev/null 2>"$T/run.err" ||
    { nok "podman run the image"; cat "$T/run.err"; finish; }
for ((i = 0; i < 100; i++)); do
	podman healthcheck run lurkd-alone >/dev/null 2>&1 && break
	sleep 0.2
done
check "the image alone: its HEALTHCHECK passes once lurkd is up" \
    podman healthcheck run lurkd-alone
podman logs lurkd-alone >"$T/alone.log" 2>&1
check "... lurkd loaded the key of /etc/lurkd-tls (its lurkd.conf)" \
    grep -q 'key "tls": ec 256 bits' "$T/alone.log"
check "... lurkd is PID 1, as 65532" \
    eval 'podman top lurkd-alone pid user args | grep -Eq "^1 +65532 +lurkd: parent"'
podman exec lurkd-alone sh -c 'sleep 1 & echo $! >/dev/null'
sleep 2
check "... it reaps the orphan of an exec (no zombie)" \
    eval '! podman exec lurkd-alone sh -c "cat /proc/[0-9]*/stat" | grep -q "(sleep) "'
s=$SECONDS
podman stop -t 20 lurkd-alone >/dev/null 2>&1
check "... podman stop (SIGTERM): it exits 0, at once ($((SECONDS - s)) s)" \
    eval '[ "$(podman inspect lurkd-alone --format "{{.State.ExitCode}}")" = 0 ] &&
    [ $((SECONDS - s)) -lt 10 ]'
podman logs lurkd-alone >"$T/alone.log" 2>&1
check "... having said why" grep -q 'received Terminated, shutting down' "$T/alone.log"

# --- the pod: lurkd-config.yaml and www-sidecar.yaml, made playable
"$PYTHON" - "$TOP/etc/kubernetes" "$T" >"$T/pod.yaml" <<'PY'
import sys, yaml
d, t = sys.argv[1], sys.argv[2]
docs = [x for f in ("lurkd-config.yaml", "www-sidecar.yaml")
        for x in yaml.safe_load_all(open(d + "/" + f)) if x]
spec = docs[-1]["spec"]
lurkd = spec.pop("initContainers")[0]
del lurkd["restartPolicy"]              # the native sidecar: ordinary
lurkd["args"] = ["-v", "-f", "/etc/lurkd/lurkd.conf"]  # log each peer
spec["containers"].insert(0, lurkd)
spec["restartPolicy"] = "OnFailure"
for c in spec["containers"]:
    c.pop("ports", None)
spec["initContainers"] = [{
    "name": "socket-dir", "image": "localhost/lurkd:latest",
    "command": ["chown", "65532:65532", "/run/lurkd"],
    "securityContext": {"runAsUser": 0, "runAsNonRoot": False},
    "volumeMounts": [{"name": "lurkd-run", "mountPath": "/run/lurkd"}]}]
for v in spec["volumes"]:
    if v["name"] in ("www-tls", "www-cert"):
        del v["secret"]
        v["hostPath"] = {"path": t + ("/lurkd-tls" if v["name"] == "www-tls"
                                      else "/nginx-tls"), "type": "Directory"}
print(yaml.safe_dump_all(docs))
PY
check "the pod: played by podman kube play" \
    eval 'podman kube play --network none "$T/pod.yaml" >"$T/play.out" 2>&1'
tail -n 5 "$T/play.out"
curl_pod() {	# curl_pod PORT: through nginx, in the pod's network
	local pid
	pid=$(podman inspect --format '{{.State.Pid}}' www-nginx 2>/dev/null) ||
	    return 1
	nsenter -t "$pid" -n curl -sv --max-time 10 --cacert "$T/ca.crt" \
	    --resolve "test.lurk:$1:127.0.0.1" "https://test.lurk:$1/" 2>&1
}
for ((i = 0; i < 60; i++)); do
	curl_pod 8443 >"$T/curl.out" && break
	sleep 1
done
check "curl through nginx: 200" grep -q '^< HTTP/1.1 200' "$T/curl.out"
check "... over TLS 1.3" grep -q 'SSL connection using TLSv1.3' "$T/curl.out"
check "... the page" grep -q '^nginx here; its key is in lurkd$' "$T/curl.out"
grep -q '^< HTTP/1.1 200' "$T/curl.out" || tail -n 15 "$T/curl.out"
podman logs www-lurkd >"$T/pod-lurkd.log" 2>&1
check "lurkd signed for nginx's uid (33), whose pid it cannot see (0)" \
    eval 'grep -Eq "conn [0-9]+: uid 33 gid 33 pid 0$" "$T/pod-lurkd.log" &&
    grep -q "uid 33: sign-tls13 key \"www\": success" "$T/pod-lurkd.log"'
check "the pod's probe (livenessProbe, a podman health check) passes" \
    podman healthcheck run www-lurkd

# another uid in nginx's container: a second nginx, port 8444
podman exec --user 4242:4242 www-nginx sh -c "sed -e 's/listen 8443/listen 8444/' \
    -e 's|/tmp/\\([a-z_]*\\)|/tmp/n2-\\1|' /etc/nginx/lurk/nginx.conf >/tmp/n2.conf &&
    sed -i 's|/tmp/n2-www.ref|/tmp/www.ref|' /tmp/n2.conf &&
    nginx -e stderr -c /tmp/n2.conf" >"$T/n2.out" 2>&1
curl_pod 8444 >"$T/curl2.out"
podman logs www-lurkd >"$T/pod-lurkd.log" 2>&1
check "uid 4242 in nginx's container: no handshake" \
    eval 'grep -q "Connected to" "$T/curl2.out" &&
    ! grep -q "^< HTTP" "$T/curl2.out"'
check "... lurkd refused it: unauthorized" \
    grep -Eq 'unauthorized.*uid 4242 ' "$T/pod-lurkd.log"
grep 'uid 4242' "$T/pod-lurkd.log" | head -3

# the key where it belongs
check "the key is in lurkd's container" \
    eval 'podman exec www-lurkd grep -rlF -- "$keyline" /etc/lurkd-tls | grep -q .'
check "... and nowhere in nginx's (every file of it)" \
    eval '! podman exec www-nginx grep -rlF --exclude-dir=proc --exclude-dir=sys \
    -- "$keyline" / 2>/dev/null | grep -q .'
for c in lurkd nginx; do
	st=$(podman exec www-$c sh -c 'grep -E "^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/1/status;
	    touch /x 2>&1' | tr -s '\t\n' '  ')
	check "$c runs restricted: $st" eval '[[ "$st" =~ ^Uid:\ [1-9] ]] &&
	    [[ "$st" == *"CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "*"Read-only file system"* ]]'
done

podman stop -t 20 www-lurkd >/dev/null 2>&1
check "lurkd's container stopped: exit 0" \
    eval '[ "$(podman inspect www-lurkd --format "{{.State.ExitCode}}")" = 0 ]'
echo "# pod test: $((SECONDS - t0)) s"
finish
