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
L.finish()
