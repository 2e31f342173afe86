"""A stand-in for a key server's mutual-TLS listener (regress/provider/
endpoints.t), until lurkd has its own: TLS 1.3 only on 127.0.0.1, a
client certificate required and verified against CA, then every byte
relayed to lurkd's Unix socket and back.

  tlsproxy.py PORTFILE CERT KEY CA UNIXSOCKET LOG

Writes the port it listens on to PORTFILE; LOG gets one line per
connection: "peer CN=... TLSv1.3" or "refused: why".
"""
import os
import select
import socket
import ssl
import sys
import threading


def relay(tls, path, log, lock):
    try:
        tls.do_handshake()
    except (OSError, ssl.SSLError) as e:
        with lock:
            log.write("refused: %s\n" % e)
            log.flush()
        tls.close()
        return
    subject = dict(x[0] for x in tls.getpeercert()["subject"])
    with lock:
        log.write("peer CN=%s %s\n" % (subject.get("commonName"),
                                       tls.version()))
        log.flush()
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        u.connect(path)
        while True:
            if not tls.pending():
                r, _, _ = select.select([tls, u], [], [])
            else:
                r = [tls]
            if tls in r:
                b = tls.recv(65536)
                if not b:
                    break
                u.sendall(b)
            if u in r:
                b = u.recv(65536)
                if not b:
                    break
                tls.sendall(b)
    except (OSError, ssl.SSLError):
        pass
    finally:
        u.close()
        tls.close()


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    portfile, cert, key, ca, path, logfile = sys.argv[1:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    log = open(logfile, "a")
    lock = threading.Lock()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        c, _ = ls.accept()
        tls = ctx.wrap_socket(c, server_side=True,
                              do_handshake_on_connect=False)
        threading.Thread(target=relay, args=(tls, path, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
