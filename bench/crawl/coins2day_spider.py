#!/usr/bin/python3
"""The crawl benchmark's peer: a Scrapy spider doing what sites/coins2day.lua
does, with the same extraction (the same fields, parsel CSS selectors).

    coins2day_spider.py BASE OUT [STATS] [CONCURRENCY]

Crawls https://coins2day.com from a copy served at BASE (http://127.0.0.1:PORT):
requests go to BASE, records carry https://coins2day.com URLs. Records go to
OUT as JSON lines; STATS, if given, gets Scrapy's final stats as JSON.
Needs Debian's python3-scrapy (Scrapy 2.8).
"""
import json
import re
import sys
from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit, parse_qsl, urlencode
from zoneinfo import ZoneInfo

import scrapy
from scrapy.crawler import CrawlerProcess

EASTERN = ZoneInfo("America/New_York")
DATE_FORMAT = "%B %d, %Y, %I:%M %p ET"

# The adapter's page rules, in its order.
HOME = re.compile(r"^/$")
SECTION = re.compile(r"^/section/[^/]+/$")
SECTION_PAGE = re.compile(r"^/section/[^/]+/page/\d+/$")
ARTICLE = re.compile(r"^/\d{4}/\d\d/\d\d/[^/]+/$")

# The white space glean's text() collapses: ASCII and Unicode spaces, NBSP included.
SPACE = re.compile("[ \t\n\v\f\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Inside the article text but not part of it: ad slots, the newsletter promo,
# figures and their captions (the adapter's NOT_BODY).
NOT_BODY = ", ".join([
    "[data-ad-slot]", "[data-cy=ad-slot]", "[class*=adSlot_]", ".ad-unit",
    "[data-cy=newsletter-promo]", "aside",
    "[data-cy=inline-image]", "figure", ".wp-caption", ".wp-caption-text",
])
LABEL = re.compile(r"^Updated:?[ \t\n\v\f\r]*")
READ = re.compile(r"^Read:[ \t\n\v\f\r]*(.*)$", re.S)
# Query parameters the crawl frontier drops as tracking (glean's defaults).
TRACKING = re.compile(r"^(utm_.*|gclid|fbclid|mc_cid|mc_eid|igshid|msclkid|_ga|yclid|ref_src)$")


def text(sel):
    """textContent, white space collapsed and trimmed (glean's node:text())."""
    return SPACE.sub(" ", "".join(sel.css("*::text").getall())).strip(" ")


def first_text(sel, css):
    node = sel.css(css)
    return text(node[0]) if node else None


def eastern(line):
    """"August 4, 2017, 5:43 AM ET" -> "2017-08-04T05:43:00-04:00"; an "Updated" line drops its label first."""
    if line is None:
        return None
    when = LABEL.sub("", line)
    return datetime.strptime(when, DATE_FORMAT).replace(tzinfo=EASTERN).isoformat()


def read_link(p):
    """The link of a related-article paragraph ("Read:" and one link, nothing else), or None."""
    links = p.css("a[href]")
    if len(links) == 1:
        m = READ.match(text(p))
        if m and m.group(1) == text(links[0]):
            return links[0]
    return None


class Coins2Day(scrapy.Spider):
    name = "coins2day"

    def __init__(self, base, **kw):
        super().__init__(**kw)
        self.base = base.rstrip("/")

    def start_requests(self):
        # Filtered like every other request, so that links back to the home
        # page do not fetch it again (glean's frontier marks seeds seen).
        yield scrapy.Request(self.base + "/", callback=self.parse)

    def site_url(self, url):
        """A URL as the site names it (https://coins2day.com/...), or None if off site."""
        parts = urlsplit(url)
        if url.startswith(self.base + "/") or parts.hostname == "coins2day.com":
            return urlunsplit(("https", "coins2day.com", parts.path or "/", parts.query, ""))
        return None

    def canonical(self, url):
        """The adapter's canonical(): https, no query, no fragment."""
        parts = urlsplit(url)
        return urlunsplit(("https", (parts.hostname or "").lower(), parts.path or "/", "", ""))

    def follow(self, response, hrefs):
        for href in hrefs:
            url = self.site_url(urljoin(response.url, href))
            if url is None:
                continue
            parts = urlsplit(url)
            path = parts.path
            if not (HOME.search(path) or SECTION.search(path) or SECTION_PAGE.search(path) or ARTICLE.search(path)):
                continue
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                               if not TRACKING.match(k)])
            yield scrapy.Request(self.base + path + ("?" + query if query else ""), callback=self.parse)

    def parse(self, response):
        path = urlsplit(response.url).path
        if HOME.search(path):
            yield from self.follow(response, response.css("a[href]::attr(href)").getall())
        elif SECTION.search(path) or SECTION_PAGE.search(path):
            yield from self.follow(response, response.css("a[href]::attr(href)").getall())
            yield from self.follow(response, response.css("link[rel=next]::attr(href)").getall())
        elif ARTICLE.search(path):
            record = self.article(response)
            if record is not None:
                yield record

    def article(self, response):
        content = response.css("[data-cy=article] [data-cy=article-content]")
        if not content:
            return None  # not an article (a ranking, a listing...)
        url = self.site_url(response.url)
        # Elements that are or sit inside an ad, the promo or a figure (the
        # adapter's block:closest(NOT_BODY)).
        not_body = {node.root for outer in response.css(NOT_BODY) for node in outer.css("p, h2")}
        body, related = [], []
        for block in content[0].css("p, h2"):
            block_text, link = text(block), read_link(block)
            if block_text == "" or block.root in not_body:
                pass
            elif link is not None:
                related.append({"title": text(link), "url": self.canonical(urljoin(url, link.attrib["href"]))})
            else:
                body.append(block_text)
        authors = []
        for name in response.css("[data-cy=byline-desktop] [data-cy=author-link], "
                                 "[data-cy=byline-desktop] [data-cy=author-name]"):
            name = text(name)
            if name != "" and name not in authors:
                authors.append(name)
        topic = first_text(response, "[data-cy=article-eyebrow]")
        return {
            "url": self.canonical(url),
            "title": first_text(response, "[data-cy=article-title]"),
            "topic": topic,
            "section": first_text(response, "[data-cy=breadcrumb-section]"),
            "authors": authors,
            "published": eastern(first_text(response, "[data-cy=article-date]")),
            "updated": eastern(first_text(response, "[data-cy=article-updated]")),
            "body": body,
            "related": related,
        }


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base, out = sys.argv[1], sys.argv[2]
    stats_file = sys.argv[3] if len(sys.argv) > 3 else None
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "ROBOTSTXT_OBEY": True,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "FEEDS": {out: {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
    })
    crawler = process.create_crawler(Coins2Day)
    process.crawl(crawler, base=base)
    process.start()
    if stats_file:
        with open(stats_file, "w") as f:
            json.dump(crawler.stats.get_stats(), f, default=str, sort_keys=True)


main()
