"""The Kubernetes manifests of etc/kubernetes, read as Kubernetes would:
the "restricted" Pod Security Standard for every container, the key
mounted into lurkd alone, the sidecar's probes, the socket's emptyDir.
Run by k8s.t: k8s.py DIR."""
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
import lurkclient as L  # noqa: E402

d = sys.argv[1]


def load(name):
    with open(os.path.join(d, name)) as f:
        return [x for x in yaml.safe_load_all(f) if x]


conf = {c["metadata"]["name"]: c for c in load("lurkd-config.yaml")}
L.ok(sorted(conf) == ["lurkd-conf", "nginx-lurk-conf"] and
     all(c["kind"] == "ConfigMap" for c in conf.values()),
     "lurkd-config.yaml: the ConfigMaps lurkd-conf and nginx-lurk-conf")
for name in ("lurkd.conf", "nginx.conf"):
    for c in conf.values():
        if name in c.get("data", {}):
            with open(os.path.join(os.environ["T"], name), "w") as f:
                f.write(c["data"][name])


def containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


def check_pod(fname, sidecar):
    docs = load(fname)
    L.ok(len(docs) == 1 and docs[0]["kind"] == "Pod", fname + ": one Pod")
    spec = docs[0]["spec"]
    psc = spec.get("securityContext", {})
    L.ok(psc.get("runAsNonRoot") is True and
         psc.get("seccompProfile", {}).get("type") == "RuntimeDefault" and
         isinstance(psc.get("fsGroup"), int),
         fname + ": pod: runAsNonRoot, RuntimeDefault seccomp, fsGroup")
    byname = {c["name"]: c for c in containers(spec)}
    L.ok(sorted(byname) == ["lurkd", "nginx"], fname + ": lurkd and nginx")
    uids = set()
    for c in byname.values():
        sc = c.get("securityContext", {})
        uids.add(sc.get("runAsUser"))
        L.ok(sc.get("allowPrivilegeEscalation") is False and
             sc.get("readOnlyRootFilesystem") is True and
             sc.get("capabilities", {}).get("drop") == ["ALL"] and
             "add" not in sc.get("capabilities", {}) and
             isinstance(sc.get("runAsUser"), int) and sc["runAsUser"] > 0 and
             not sc.get("privileged", False),
             "%s: %s: restricted (no escalation, read-only root, drop ALL,"
             " uid %s)" % (fname, c["name"], sc.get("runAsUser")))
    L.ok(len(uids) == 2, fname + ": lurkd's uid is not nginx's")
    lurkd, nginx = byname["lurkd"], byname["nginx"]
    if sidecar:
        L.ok(spec.get("initContainers", [{}])[0].get("name") == "lurkd" and
             lurkd.get("restartPolicy") == "Always",
             fname + ": lurkd is a native sidecar (init, restartPolicy"
             " Always)")
    else:
        L.ok("initContainers" not in spec and
             spec["containers"][0]["name"] == "lurkd",
             fname + ": lurkd is an ordinary container")
    for probe in ("startupProbe", "livenessProbe"):
        cmd = lurkd.get(probe, {}).get("exec", {}).get("command", [])
        L.ok(cmd[:1] == ["lurkctl"], "%s: lurkd's %s runs lurkctl (%s)" %
             (fname, probe, " ".join(cmd[1:3])))
    vols = {v["name"]: v for v in spec["volumes"]}

    def mounts(c):
        return {m["name"]: m for m in c.get("volumeMounts", [])}
    keyvols = [n for n, v in vols.items() if "secret" in v and
               "items" not in v["secret"]]
    L.ok(len(keyvols) == 1 and
         vols[keyvols[0]]["secret"].get("defaultMode") == 0o400 and
         keyvols[0] in mounts(lurkd) and keyvols[0] not in mounts(nginx),
         fname + ": the Secret with the key: mode 0400, into lurkd only")
    certvols = [n for n in mounts(nginx) if "secret" in vols[n]]
    L.ok(len(certvols) == 1 and
         [i["key"] for i in vols[certvols[0]]["secret"].get("items", [])] ==
         ["tls.crt"] and
         vols[certvols[0]]["secret"]["secretName"] ==
         vols[keyvols[0]]["secret"]["secretName"],
         fname + ": nginx gets the certificate of that Secret, alone")
    run = [n for n, m in mounts(lurkd).items() if m["mountPath"] ==
           "/run/lurkd"]
    L.ok(len(run) == 1 and "emptyDir" in vols[run[0]] and
         mounts(nginx).get(run[0], {}).get("mountPath") == "/run/lurkd" and
         mounts(nginx)[run[0]].get("readOnly") is True,
         fname + ": the socket's directory: an emptyDir, nginx's read-only")
    ctl = [n for n, m in mounts(lurkd).items() if m["mountPath"] ==
           "/run/lurkd-control"]
    L.ok(len(ctl) == 1 and ctl[0] not in mounts(nginx),
         fname + ": the control socket's directory: lurkd's alone")
    tmp = [n for n, m in mounts(nginx).items() if m["mountPath"] == "/tmp"]
    L.ok(len(tmp) == 1 and "emptyDir" in vols[tmp[0]],
         fname + ": nginx's /tmp: an emptyDir")
    return docs[0]


side = check_pod("www-sidecar.yaml", True)
two = check_pod("www-two-containers.yaml", False)
# the two forms differ by where lurkd is, nothing else
s = side["spec"]
lurkd = dict(s["initContainers"][0])
del lurkd["restartPolicy"]
s = dict(s, containers=[lurkd] + s["containers"])
del s["initContainers"]
L.ok(s == two["spec"] and side["metadata"] == two["metadata"],
     "the two forms differ only by lurkd's place")


# the central key server for remote edges: a ConfigMap, a Deployment of
# the restricted pod, a Service on the port of its listen on tls
ks = {x["kind"]: x for x in load("keyserver.yaml")}
L.ok(sorted(ks) == ["ConfigMap", "Deployment", "Service"],
     "keyserver.yaml: a ConfigMap, a Deployment and a Service")
ksconf = ks["ConfigMap"]["data"]["lurkd.conf"]
with open(os.path.join(os.environ["T"], "keyserver.conf"), "w") as f:
    f.write(ksconf)
tspec = ks["Deployment"]["spec"]["template"]["spec"]
dep_sel = ks["Deployment"]["spec"]["selector"]["matchLabels"]
L.ok(tspec["securityContext"].get("runAsNonRoot") is True and
     tspec["securityContext"].get("seccompProfile", {}).get("type") ==
     "RuntimeDefault" and ks["Deployment"]["spec"]["replicas"] >= 2,
     "keyserver.yaml: runAsNonRoot, RuntimeDefault seccomp, 2 replicas")
(c,) = tspec["containers"]
sc = c["securityContext"]
L.ok(sc.get("allowPrivilegeEscalation") is False and
     sc.get("readOnlyRootFilesystem") is True and
     sc.get("capabilities") == {"drop": ["ALL"]} and
     isinstance(sc.get("runAsUser"), int) and sc["runAsUser"] > 0,
     "keyserver.yaml: lurkd restricted (no escalation, read-only root, "
     "drop ALL, uid %s)" % sc.get("runAsUser"))
for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
    cmd = c.get(probe, {}).get("exec", {}).get("command", [])
    L.ok(cmd == ["lurkctl", "health"],
         "keyserver.yaml: its %s is lurkctl health" % probe)
vols = {v["name"]: v for v in tspec["volumes"]}
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
secrets = [n for n, v in vols.items() if "secret" in v]
L.ok(len(secrets) == 3 and
     all(vols[n]["secret"].get("defaultMode") == 0o400 for n in secrets),
     "keyserver.yaml: three Secrets (content key, server key, client CA), "
     "mode 0400")
# every file the configuration names is in a volume of the right kind
paths = [ln.split('"')[1] for ln in ksconf.splitlines()
         if ln.strip().split(" ")[0] in ("certificate", "private", "ca")]
L.ok(len(paths) == 5 and
     all("secret" in vols[mounts[os.path.dirname(p)]] for p in paths),
     "keyserver.yaml: every key, certificate and CA lurkd.conf names is "
     "in a mounted Secret")
port = [int(ln.split()[5]) for ln in ksconf.splitlines()
        if ln.startswith("listen on tls")]
svc = ks["Service"]["spec"]
cport = {p["name"]: p["containerPort"] for p in c["ports"]}
L.ok(len(port) == 1 and svc["selector"] == dep_sel and
     len(svc["ports"]) == 1 and
     cport.get(svc["ports"][0]["targetPort"]) == port[0] and
     svc["ports"][0]["port"] == port[0],
     "keyserver.yaml: the Service selects the Deployment's pods, port %s "
     "of its listen on tls" % port)
L.ok("listen on unix" not in ksconf and "allow client" in ksconf and
     "allow uid" not in ksconf,
     "keyserver.yaml: edges over TLS only, allowed by certificate")
L.finish()
