"""Regular-expression throughput of Python's re, the peer of bench/regex.lua:
same expressions, same pages (those that are UTF-8), compiled once, finditer
over each page's text. Prints the CPU seconds of each pass and, on stderr,
the number of matches.
    python3 regex_re.py REGEXES.txt PASSES FILE..."""
import re
import sys
import time

FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def main():
    regexes = []
    with open(sys.argv[1]) as f:
        for line in f:
            flags, pattern = line.rstrip("\n").split("\t", 1)
            bits = 0
            for c in flags:
                bits |= FLAGS[c]
            # PCRE's (?<name>...) and \k<name> are Python's (?P<name>...) and (?P=name)
            pattern = re.sub(r"\\k<(\w+)>", r"(?P=\1)", pattern.replace("(?<", "(?P<"))
            regexes.append(re.compile(pattern, bits))
    passes = int(sys.argv[2])
    pages = []
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            try:
                pages.append(f.read().decode("utf-8"))
            except UnicodeDecodeError:
                pass
    matches = 0
    for _ in range(passes):
        t0 = time.process_time()
        matches = 0
        for s in pages:
            for r in regexes:
                for _ in r.finditer(s):
                    matches += 1
        print("%.6f" % (time.process_time() - t0))
    print("matches", matches, "pages", len(pages), file=sys.stderr)


main()
