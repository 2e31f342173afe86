# etc/kubernetes as Kubernetes reads it (k8s.py: the restricted profile,
# the key into lurkd only, the sidecar and its probes, the volumes; the
# central key server's Deployment and Service), and
# the lurkd.conf of its ConfigMap and of the container image as lurkd
# parses them.  pod.t runs the pod.
. "$LURKD_TOP/regress/lib.sh"

"$PYTHON" -c 'import yaml' 2>/dev/null ||
    { skip "kubernetes manifests: no python3-yaml"; finish; }
T=$T "$PYTHON" "$TOP/regress/ship/k8s.py" "$TOP/etc/kubernetes" ||
    FAILED=1
check "the ConfigMap's lurkd.conf parses (lurkd -nn)" \
    "$LURKD" -nn -f "$T/lurkd.conf"
check "the key server's lurkd.conf parses (lurkd -nn)" \
    "$LURKD" -nn -f "$T/keyserver.conf"
check "the image's lurkd.conf parses (lurkd -nn)" \
    "$LURKD" -nn -f "$TOP/etc/container/lurkd.conf"
finish
