"""Selector throughput of lxml + cssselect, the peer of bench/select.lua:
same selectors, same pages (parsed beforehand, not timed), compiled once.
Prints the CPU seconds of each pass and, on stderr, the number of matches.
    python3 select_lxml.py SELECTORS.txt PASSES FILE..."""
import sys
import time

import lxml.html
from lxml.cssselect import CSSSelector


def main():
    with open(sys.argv[1]) as f:
        selectors = [CSSSelector(line.strip()) for line in f if line.strip()]
    passes = int(sys.argv[2])
    docs = []
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            docs.append(lxml.html.document_fromstring(f.read()))
    matches = 0
    for p in range(passes):
        t0 = time.process_time()
        for doc in docs:
            for sel in selectors:
                found = sel(doc)
                if p == 0:
                    matches += len(found)
        print("%.6f" % (time.process_time() - t0))
    print("matches", matches, file=sys.stderr)


main()
