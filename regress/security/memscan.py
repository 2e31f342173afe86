"""Search a process's memory for secret byte strings.

Usage: memscan.py PID NEEDLEFILE...   (each NEEDLEFILE: one hex string a line)
Prints "found NAME at ADDR" per hit; exit 0 if nothing found, 1 if found,
2 if the memory could not be read.
"""
import sys


def regions(pid):
    with open("/proc/%s/maps" % pid) as f:
        for line in f:
            parts = line.split()
            addr, perms = parts[0], parts[1]
            name = parts[5] if len(parts) > 5 else ""
            if "r" not in perms or name in ("[vvar]", "[vsyscall]"):
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            yield lo, hi, name


def main():
    pid = sys.argv[1]
    needles = []
    for path in sys.argv[2:]:
        with open(path) as f:
            for i, line in enumerate(f):
                line = line.strip()
                if line:
                    needles.append(("%s:%d" % (path, i + 1),
                                    bytes.fromhex(line)))
    found = 0
    total = 0
    try:
        mem = open("/proc/%s/mem" % pid, "rb", 0)
    except OSError as e:
        print("cannot open memory of %s: %s" % (pid, e))
        return 2
    # Read in pieces that overlap by the longest needle.  A readable
    # region larger than SKIP is the shadow memory of a sanitizer build
    # (make SANITIZE=1: terabytes reserved, almost all never touched),
    # which holds no program data: skip it rather than read it all.
    CHUNK = 64 << 20
    SKIP = 4 << 30
    overlap = max((len(n) for _, n in needles), default=1) - 1
    with mem:
        for lo, hi, name in regions(pid):
            if hi - lo > SKIP:
                continue
            hits = set()
            at = lo
            while at < hi:
                try:
                    mem.seek(at)
                    data = mem.read(min(CHUNK + overlap, hi - at))
                except (OSError, ValueError, OverflowError):
                    break
                if not data:
                    break
                total += min(len(data), CHUNK)
                for label, n in needles:
                    i = data.find(n)
                    if i >= 0 and label not in hits:
                        hits.add(label)
                        print("found %s at %#x (%s)" % (label, at + i, name))
                        found += 1
                at += CHUNK
    if total == 0:
        print("read nothing from %s" % pid)
        return 2
    print("scanned %d bytes of %s" % (total, pid))
    return 1 if found else 0


sys.exit(main())
