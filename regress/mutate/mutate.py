#!/usr/bin/env python3
"""make mutate: are the tests able to see the checks they cover break?

Reads regress/mutate/mutants (its header says the format), copies the
tree to a scratch directory, builds it and runs every named test once as
it is (the baseline: they must pass), then for each mutant in turn:
changes one line of one file, builds (make CI=1), runs the tests named
for it, puts the line back.  A mutant is

  KILLED    the build went through and a named test failed
  SURVIVED  the build went through and every named test passed
  BROKEN    the build failed: the mutant tests nothing

Exit 0 if every mutant was killed; 1 if any survived or is broken; 2 if
the list is wrong (a pattern that no longer matches exactly once, a
missing field) or the baseline fails.

Usage: mutate.py [NAME...]     only these mutants (default: all)
       mutate.py --check       only check the list against the tree
                               (each pattern once, each test word
                               naming a .t): exit 0, or 2 saying why
Environment: MUTATE_KEEP=1 keeps the scratch copy and its logs (they
are kept anyway when a mutant is not killed); MUTATE_TIMEOUT (120)
seconds each .t may run under a mutant; MUTATE_LIST another list.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LIST = os.environ.get("MUTATE_LIST") or os.path.join(TOP, "regress",
                                                     "mutate", "mutants")
FIELDS = ("file", "after", "from", "to", "tests", "cmd", "build", "why")


def die(msg, code=2):
    print("mutate: " + msg, file=sys.stderr)
    sys.exit(code)


def parse(path):
    """The mutants, in order: dicts of name and the FIELDS given."""
    out, cur = [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            key, _, val = s.partition(" ")
            val = val.strip()
            if key == "mutant":
                cur = {"name": val, "line": n}
                out.append(cur)
            elif key in FIELDS and cur is not None and key not in cur:
                cur[key] = val
            else:
                die("%s:%d: unexpected '%s'" % (path, n, key))
    return out


def check(mutants, tree):
    """Every mutant is complete and its pattern matches once in tree."""
    errors, names = [], set()
    for m in mutants:
        where = "%s:%d: mutant %s" % (LIST, m["line"], m["name"])
        if m["name"] in names or not m["name"]:
            errors.append(where + ": no name, or the name is taken")
        names.add(m["name"])
        missing = [k for k in ("file", "from", "to") if not m.get(k)]
        if missing or not (m.get("tests") or m.get("cmd")):
            errors.append(where + ": needs file, from, to, and tests or cmd")
            continue
        if m["from"] == m["to"]:
            errors.append(where + ": from and to are the same")
            continue
        try:
            with open(os.path.join(tree, m["file"])) as f:
                text = f.read()
        except OSError as e:
            errors.append("%s: %s" % (where, e))
            continue
        key = "after" if m.get("after") else "from"
        n = text.count(m[key])
        if n != 1:
            errors.append("%s: '%s' occurs %d times in %s, not once" %
                          (where, m[key], n, m["file"]))
        elif key == "after" and text.find(m["from"], text.index(
                m["after"]) + len(m["after"])) == -1:
            errors.append("%s: no '%s' after '%s' in %s" %
                          (where, m["from"], m["after"], m["file"]))
    return errors


def check_tests(mutants, tree):
    """Every word of a mutant's tests names at least one regress .t."""
    ts = []
    for d in sorted(os.listdir(os.path.join(tree, "regress"))):
        dd = os.path.join(tree, "regress", d)
        if os.path.isdir(dd):
            ts += [d + "/" + f for f in os.listdir(dd) if f.endswith(".t")]
    return ["%s:%d: mutant %s: tests word '%s' names no regress .t" %
            (LIST, m["line"], m["name"], w)
            for m in mutants for w in m.get("tests", "").split()
            if not any(w in t for t in ts)]


def mutated(m, text):
    """text with the mutant's change: the first "from" after "after"."""
    at = text.index(m["after"]) + len(m["after"]) if m.get("after") else 0
    i = text.index(m["from"], at)
    return text[:i] + m["to"] + text[i + len(m["from"]):]


def sh(cmd, cwd, log, env=None, timeout=None):
    """Run cmd (a list, or a string for bash) with output to log."""
    with open(log, "ab") as f:
        try:
            return subprocess.run(
                cmd if isinstance(cmd, list) else ["bash", "-c", cmd],
                cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write(b"\nmutate: timed out\n")
            return 124


def build(tree, target, log):
    return sh(["make", "-s", "CI=1", target], tree, log) == 0


def run_tests(m, tree, logdir):
    """0 if every named test passed."""
    rc = 0
    log = os.path.join(logdir, "tests.log")
    if m.get("tests"):
        env = dict(os.environ, REGRESS_ONLY=m["tests"],
                   REGRESS_LOGDIR=logdir,
                   REGRESS_TIMEOUT=os.environ.get("MUTATE_TIMEOUT", "120"))
        rc |= sh(["bash", "regress/run"], tree, log, env)
    if m.get("cmd"):
        r = sh(m["cmd"], tree, log, timeout=600)
        if r != 0:
            with open(log, "a") as f:
                f.write("mutate: the command exited %d\n" % r)
        rc |= r
    return rc


def reap(tree):
    """Kill what a mutant's tests left running from the scratch tree (a
    daemon a broken check let go on): the next mutant starts clean."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe.startswith(tree + "/"):
            try:
                os.kill(int(pid), 9)
                n += 1
            except OSError:
                pass
    return n


def first_failure(logdir):
    """What caught the mutant: the first failed check, or the last line
    a command printed."""
    try:
        with open(os.path.join(logdir, "tests.log"), errors="replace") as f:
            lines = [x.strip() for x in f]
    except OSError:
        return "(no log)"
    for x in lines:
        if x.startswith("not ok - "):
            return x[:150]
    # a command: the first thing it said went wrong, else its last word
    for x in lines:
        if re.search(r"differs|error|abort|fail", x, re.I) and \
                not x.startswith("mutate: "):
            return x[:150]
    lines = [x for x in lines if x]
    return (lines[-1] if lines else "(no output)")[:150]


def copy_tree(dst):
    def ignore(d, names):
        skip = {".git"}
        if os.path.abspath(d) == os.path.join(TOP, "regress", "fuzz"):
            skip.add("work")
        return [n for n in names if n in skip]
    # copy2 keeps the times: the objects stay up to date, nothing rebuilds
    shutil.copytree(TOP, dst, symlinks=True, ignore=ignore)


def main():
    mutants = parse(LIST)
    if sys.argv[1:] == ["--check"]:
        errors = check(mutants, TOP) + check_tests(mutants, TOP)
        if errors:
            die("the list does not fit the code any more:\n  " +
                "\n  ".join(errors))
        print("mutate: %d mutants, the list fits the tree" % len(mutants))
        sys.exit(0)
    if len(sys.argv) > 1:
        want = set(sys.argv[1:])
        unknown = want - {m["name"] for m in mutants}
        if unknown:
            die("no such mutant: " + " ".join(sorted(unknown)))
        mutants = [m for m in mutants if m["name"] in want]
    errors = check(mutants, TOP) + check_tests(mutants, TOP)
    if errors:
        die("the list does not fit the code any more:\n  " +
            "\n  ".join(errors))
    start = time.time()
    scratch = tempfile.mkdtemp(prefix="lurkd-mutate.")
    os.chmod(scratch, 0o755)    # tests run lurkd as nobody from here
    tree = os.path.join(scratch, "tree")
    copy_tree(tree)
    print("mutate: %d mutants, scratch copy %s" % (len(mutants), tree))
    sys.stdout.flush()

    # the baseline: every test the list names passes on the code as it is
    base = os.path.join(scratch, "baseline")
    os.makedirs(base)
    targets = sorted({m.get("build", "regress-bins") for m in mutants})
    for t in targets:
        if not build(tree, t, os.path.join(base, "build.log")):
            die("baseline: make CI=1 %s fails (%s/build.log)" % (t, base))
    words = sorted({w for m in mutants for w in m.get("tests", "").split()})
    cmds = sorted({m["cmd"] for m in mutants if m.get("cmd")})
    for c in [None] + cmds:
        probe = {"tests": " ".join(words)} if c is None else {"cmd": c}
        if (c is not None or words) and run_tests(probe, tree, base) != 0:
            die("baseline: the named tests fail on the unmutated code "
                "(%s/tests.log)" % base)
    print("mutate: baseline passes (%d s)" % (time.time() - start))
    sys.stdout.flush()

    results = []
    for m in mutants:
        t0 = time.time()
        path = os.path.join(tree, m["file"])
        logdir = os.path.join(scratch, m["name"])
        os.makedirs(logdir)
        with open(path) as f:
            orig = f.read()
        with open(path, "w") as f:
            f.write(mutated(m, orig))
        try:
            if not build(tree, m.get("build", "regress-bins"),
                         os.path.join(logdir, "build.log")):
                verdict = "BROKEN"
            elif run_tests(m, tree, logdir) != 0:
                verdict = "KILLED"
            else:
                verdict = "SURVIVED"
        finally:
            with open(path, "w") as f:
                f.write(orig)
            left = reap(tree)
        dt = time.time() - t0
        results.append((m["name"], verdict))
        print("%-8s %-36s %4.0f s  %s" % (
            verdict, m["name"], dt, " ".join(
                ([m["tests"]] if m.get("tests") else []) +
                (["[cmd]"] if m.get("cmd") else []))))
        if left:
            print("         %d processes its tests left running, killed" %
                  left)
        if verdict == "KILLED":
            print("         " + first_failure(logdir))
        else:
            print("         %s: %s -> %s  (logs: %s)" % (
                m["file"], m["from"], m["to"], logdir))
        sys.stdout.flush()

    bad = [r for r in results if r[1] != "KILLED"]
    print("mutate: %d mutants, %d killed, %d survived, %d broken; %d s" % (
        len(results), len(results) - len(bad),
        sum(1 for r in bad if r[1] == "SURVIVED"),
        sum(1 for r in bad if r[1] == "BROKEN"), time.time() - start))
    if bad or os.environ.get("MUTATE_KEEP"):
        print("mutate: scratch copy and logs kept in %s" % scratch)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
