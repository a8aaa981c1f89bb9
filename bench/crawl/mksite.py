#!/usr/bin/env python3
"""Generates the crawl benchmark's site from the Coins2Day snapshot.

    mksite.py SNAPSHOT OUT ARTICLES [PER_PAGE]

OUT gets ARTICLES article pages: the snapshot's 13 article pages, byte for
byte, repeated under distinct article URLs. Copy 0 of each keeps its own
path; copy k > 0 lives at the same date with "-k" added to the slug
(/2017/08/04/alibaba-kering-lawsuit-7/), so every URL matches the adapter's
article rule. Copies are hard links to copy 0 (the content is identical;
only the URL differs), which keeps a 20,000-article site to a few MB of disk.

The articles are dealt round-robin over the snapshot's 20 sections; each
section gets paginated listing pages (PER_PAGE articles each, default 20)
built on the snapshot's own page for that section: the same head, header,
navigation, rail, footer and Next.js data blob, with the story list, the
pagination bar, <link rel="prev"/"next">, the canonical URL and the title
rewritten for the page. The home page and robots.txt are the snapshot's.
Prints the number of HTML pages (home + listings + articles).
"""
import os
import re
import shutil
import sys

VERSION = "1"  # bump when the generated site changes

ARTICLE_RE = re.compile(r"^(\d{4}/\d\d/\d\d)/([^/]+)$")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def articles_of(snapshot):
    """The snapshot's article paths (/YYYY/MM/DD/slug/), sorted."""
    out = []
    for dirpath, _, files in os.walk(snapshot):
        rel = os.path.relpath(dirpath, snapshot)
        if "index.html" in files and ARTICLE_RE.match(rel):
            out.append("/" + rel + "/")
    return sorted(out)


def cards_of(snapshot, sections, articles):
    """The listing card (<li>...</li>) of each article, from the snapshot's section pages."""
    item = re.compile(r'<li class="sectionFeed_item__[^"]*">.*?</li>', re.S)
    cards = {}
    for section in sections:
        for dirpath, _, files in os.walk(os.path.join(snapshot, "section", section)):
            if "index.html" not in files:
                continue
            page = read(os.path.join(dirpath, "index.html")).decode("utf-8")
            for m in item.finditer(page):
                for path in articles:
                    if path not in cards and ('href="%s"' % path) in m.group(0):
                        cards[path] = m.group(0)
    missing = [p for p in articles if p not in cards]
    if missing:
        sys.exit("mksite: no listing card for %s" % ", ".join(missing))
    return cards


def copy_path(path, k):
    return path if k == 0 else path[:-1] + "-%d/" % k


def pagination(base, page, pages):
    """The pagination bar, in the snapshot's markup: Previous, a window of page numbers, Next."""
    def href(n):
        return base if n == 1 else "%spage/%d/" % (base, n)
    parts = []
    if page > 1:
        parts.append('<a class="pagination_link__9XZ8b pagination_prev__Tnslq" rel="prev" href="%s">Previous</a>'
                     % href(page - 1))
    shown = sorted({1, pages} | set(range(max(1, page - 2), min(pages, page + 2) + 1)))
    last = 0
    for n in shown:
        if n > last + 1:
            parts.append('<span class="pagination_gap__Q2bq1">…</span>')
        if n == page:
            parts.append('<span class="pagination_current__C9R9y" aria-current="page">%d</span>' % n)
        else:
            parts.append('<a class="pagination_link__9XZ8b" href="%s">%d</a>' % (href(n), n))
        last = n
    if page < pages:
        parts.append('<a class="pagination_link__9XZ8b pagination_next__jdURt" rel="next" href="%s">Next</a>'
                     % href(page + 1))
    return '<nav class="pagination_nav__dzikx" aria-label="Pagination" data-cy="pagination">%s</nav>' % "".join(parts)


def listing(shell, base, page, pages, cards):
    """A section listing page: the snapshot's page for the section with its story list and links replaced."""
    url = "https://coins2day.com" + (base if page == 1 else "%spage/%d/" % (base, page))
    s = re.sub(r'<link rel="(?:prev|next)" href="[^"]*">\n?', "", shell)
    links = ""
    if page > 1:
        links += '<link rel="prev" href="https://coins2day.com%s">\n' % (base if page == 2 else "%spage/%d/" % (base, page - 1))
    if page < pages:
        links += '<link rel="next" href="https://coins2day.com%spage/%d/">\n' % (base, page + 1)
    s = re.sub(r'<link rel="canonical" href="[^"]*">\n?',
               lambda m: '<link rel="canonical" href="%s">\n%s' % (url, links), s, count=1)
    s = re.sub(r'<meta property="og:url" content="[^"]*">', '<meta property="og:url" content="%s">' % url, s, count=1)
    if page > 1:
        s = re.sub(r"<title>(.*?) \| Coins2Day</title>",
                   lambda m: "<title>%s - Page %d | Coins2Day</title>" % (m.group(1), page), s, count=1)
        s = re.sub(r'(<h1 class="sectionHeader_title__[^"]*">)(.*?)(</h1>)',
                   lambda m: "%s%s <span>Page %d</span>%s" % (m.group(1), m.group(2), page, m.group(3)), s, count=1)
    s = re.sub(r'<nav class="pagination_nav__[^"]*".*?</nav>', "", s, flags=re.S)
    feed = ('<section class="sectionFeed_feed__ed9yt" data-cy="section-feed"><ul class="sectionFeed_list__7kXqa">%s'
            '</ul></section>%s' % ("".join(cards), pagination(base, page, pages) if pages > 1 else ""))
    s, n = re.subn(r'<section class="sectionFeed_feed__[^"]*" data-cy="section-feed">.*?</section>',
                   lambda m: feed, s, count=1, flags=re.S)
    if n != 1:
        sys.exit("mksite: no section feed in the snapshot's page for %s" % base)
    return s


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    snapshot, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    per_page = int(sys.argv[4]) if len(sys.argv) == 5 else 20
    stamp = os.path.join(out, ".mksite")
    want = "%s %d %d\n" % (VERSION, n, per_page)
    if os.path.exists(stamp) and open(stamp).read() == want:
        print(open(os.path.join(out, ".pages")).read().strip())
        return
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    articles = articles_of(snapshot)
    sections = sorted(d for d in os.listdir(os.path.join(snapshot, "section"))
                      if os.path.exists(os.path.join(snapshot, "section", d, "index.html")))
    cards = cards_of(snapshot, sections, articles)

    shutil.copyfile(os.path.join(snapshot, "robots.txt"), os.path.join(out, "robots.txt"))
    write(os.path.join(out, "index.html"), read(os.path.join(snapshot, "index.html")))
    per_section = {s: [] for s in sections}
    for i in range(n):
        path = copy_path(articles[i % len(articles)], i // len(articles))
        src = os.path.join(snapshot, articles[i % len(articles)].strip("/"), "index.html")
        dst = os.path.join(out, path.strip("/"), "index.html")
        os.makedirs(os.path.dirname(dst))
        if i < len(articles):
            shutil.copyfile(src, dst)
        else:
            os.link(os.path.join(out, articles[i % len(articles)].strip("/"), "index.html"), dst)
        orig = articles[i % len(articles)]
        per_section[sections[i % len(sections)]].append(cards[orig].replace('href="%s"' % orig, 'href="%s"' % path))

    listings = 0
    for section in sections:
        shell = read(os.path.join(snapshot, "section", section, "index.html")).decode("utf-8")
        items = per_section[section]
        pages = max(1, -(-len(items) // per_page))
        base = "/section/%s/" % section
        for p in range(1, pages + 1):
            page = listing(shell, base, p, pages, items[(p - 1) * per_page:p * per_page])
            rel = base if p == 1 else "%spage/%d/" % (base, p)
            write(os.path.join(out, rel.strip("/"), "index.html"), page.encode("utf-8"))
            listings += 1
    total = 1 + listings + n
    with open(os.path.join(out, ".pages"), "w") as f:
        f.write("%d %d %d\n" % (total, listings, n))
    with open(stamp, "w") as f:
        f.write(want)
    print("%d %d %d" % (total, listings, n))


main()
