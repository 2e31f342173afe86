"""Finds checks that cannot fail in regress/: a check whose command line
goes on after an unquoted &&, ||, |, ; or & tests only what comes before
it (check "what" [ a ] && [ b ] asserts [ a ] alone; [ b ] runs after).
Prints one "FILE:LINE: line" per such check; exit 1 if there is any.

Usage: checklint.py FILE...
"""
import re
import shlex
import sys

OPS = {"&&", "||", "|", ";", "&", "|&"}
bad = 0
for path in sys.argv[1:]:
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        start, line = i, lines[i]
        # a check at the start of a command: line start, or after && || ;
        if re.search(r'(^|&&|\|\||;|\bthen|\belse|\bdo)\s*check\s', line):
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i]
            while True:
                lex = shlex.shlex(line, posix=True, punctuation_chars=True)
                lex.whitespace_split = True
                lex.commenters = ""
                try:
                    toks = list(lex)
                    break
                except ValueError:
                    # a quoted string that goes on on the next line
                    if i + 1 >= len(lines):
                        toks = None
                        break
                    i += 1
                    line += "\n" + lines[i]
            if toks is None:
                print("%s:%d: cannot parse: %s" % (path, start + 1,
                      line.strip()))
                bad = 1
                i += 1
                continue
            for k, t in enumerate(toks):
                if t == "check":
                    # what comes after the check's command, if anything
                    rest = toks[k + 1:]
                    if any(x in OPS for x in rest):
                        print("%s:%d: %s" % (path, start + 1, line.strip()))
                        bad = 1
                    break
        i += 1
sys.exit(bad)
