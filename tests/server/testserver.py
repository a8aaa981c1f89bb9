#!/usr/bin/env python3
"""testserver.py — the HTTP/1.1 server the fetch tests talk to (standard
library only). Binds 127.0.0.1 on a free port, prints the port as its first
line on stdout, and serves until killed or until its parent exits.

Endpoints (any method unless said):
  /hello                 200, a known HTML page (charset utf-8)
  /final                 200 "final", with X-Final: yes
  /redirect/N            302 to /redirect/N-1 ... /redirect/1 to /final (N hops)
  /loop                  302 to itself
  /redirect-to?url=U     302 to U
  /status/N              status N, body "status N"
  /slow?bytes=N&ms=M     N bytes, one every M ms
  /stall                 headers (Content-Length: 100), then nothing for 60 s
  /flaky/KEY             500 the first time per KEY, then 200
  /limited/KEY           429 with Retry-After: 1 the first time, then 200
  /limited-date/KEY      503 with Retry-After as an HTTP-date >= 1 s ahead, then 200
  /gzip /br /zstd        TEXT, content-encoded
  /big?n=N               N bytes with a Content-Length
  /big-chunked?n=N       N bytes, chunked (no Content-Length)
  /warc/chunked          an HTML page (h1 "chunked page"), chunked in three
  /warc/gzip             an HTML page (h1 "gzip page"), gzip-encoded
  /bomb                  ~100 KB of gzip that decodes to 100 MiB of zeros
  /cookie/set?k=v&...    Set-Cookie for each pair
  /cookie/echo           the Cookie request header, or nothing
  /charset/latin1 /charset/cp1252 /charset/sjis   pages in those encodings
  /charset/mislabeled    UTF-8 bytes of "café" declared ISO-8859-1 (so: "cafÃ©")
  /headers               repeated X-Multi headers, a mixed-case Content-Type
  /echo                  JSON: method, path (with query), headers, header_list
                         (the pairs as sent, repeats kept), body
  /count/KEY/...         holds the request 50 ms, counting simultaneous ones per KEY
  /peak/KEY              the most simultaneous /count/KEY/ requests seen
  /gate/KEY/wait         holds the request until /gate/KEY/open (at most 30 s):
                         200 "opened", or "timed out"
  /robots.txt            Crawl-delay: 0.25, /private/ disallowed
  /m/...                 echoes the path and query (a mirror's base); /m/go 302s to /m/landed?x=1
Hostile endpoints (/h/...), for the fetch engine's defences:
  /h/cut/ENC             TEXT*40 encoded as ENC (gzip, deflate, br, zstd), the
                         encoded stream cut in half, sent with a correct
                         Content-Length
  /h/short               Content-Length: 1000, 10 bytes, then the connection closes
  /h/huge-header         one 1 MiB header line
  /h/headers?n=N&len=L   N headers X-N: of L bytes each
  /h/101                 an unsolicited 101 Switching Protocols, then close
  /h/redirect/CODE       CODE (301 302 303 307 308) to /echo, whatever the method
  /h/busy/KEY            503 always, counting requests per KEY
  /h/hits/KEY            how many /h/busy/KEY requests came
HTTP cache endpoints (/c/KIND/KEY), each counting its requests per path
(KIND/KEY) and the 304s it sent:
  /c/fresh/KEY           Cache-Control: max-age=3600, ETag "fresh-KEY"
  /c/etag/KEY            Cache-Control: no-cache, ETag "v1": 304 to If-None-Match "v1"
  /c/lm/KEY              Cache-Control: max-age=0, Last-Modified a day ago: 304 to
                         an If-Modified-Since (and no If-None-Match)
  /c/heuristic/KEY       Last-Modified 10 days ago, no explicit lifetime (fresh a day)
  /c/expired/KEY         Expires a minute ago, no validators
  /c/aged/KEY            max-age=60 with Age: 120 (stale on arrival), no validators
  /c/nostore/KEY         Cache-Control: no-store
  /c/vary/KEY            Vary: X-Lang, max-age=3600; the body names the X-Lang sent
  /c/moved/KEY           302 to /c/fresh/KEY
  /c/status/KEY          404, max-age=3600
  /c/count/KIND/KEY      JSON {"requests": N, "not_modified": M} for /c/KIND/KEY
  http://HOST/PATH       (an absolute request target: we are its proxy) 200 "proxied URL", X-Proxied: yes

Generated sites, for crawls. /v/NAME/... is the virtual site NAME, meant as
a mirror's base (--mirror http://NAME=http://127.0.0.1:PORT/v/NAME): its
pages link to http://NAME/... (and variants of it). The same families are
served at the top level (namespace "_"), linking to the Host header's origin.
Each request in a namespace is counted per path (query dropped) and for the
namespace's peak of simultaneous requests.
  /v/NAME/robots.txt     the namespace's robots text (404 unless configured)
  .../site/N/            N < pages: a page linking to 2N+1, 2N+2 and three
                         others in many spellings (relative, root-relative,
                         absolute, protocol-relative, upper-case host,
                         tracking parameters, fragments), to itself, and to
                         an offsite copy on 127.0.0.2 (nothing listens there)
  .../chain/N/           N < chain: links to N+1, back to 0, and /private/N/
  .../private/N/         a page without links
  .../moved/N/           301 to /chain/N/ (root-relative: through a mirror
                         with a path, it would leave the namespace)
  .../hold/N/            answers after hold_ms; links to 2N+1, 2N+2
  /config/NAME           (POST, JSON) sets pages (3000), chain (20),
                         sleep_ms (5: every generated page takes that long),
                         hold_ms (1000), robots (null), robots_ms (0: how
                         long robots.txt takes); resets the counts
  /stats/NAME            JSON {"hits": {PATH: N}, "peak": N, "requests": N}
"""
import email.utils
import json
import math
import os
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

PARENT = os.getppid()  # before the slow set-up below, while it is surely alive

HELLO = b"<!doctype html><title>hello</title><p>hello, glean</p>\n"
TEXT = b"The quick brown fox jumps over the lazy dog. " * 20


def brotli_stored(data):
    """A valid brotli stream made of uncompressed meta-blocks (RFC 7932):
    the stdlib has no brotli encoder, and a decoder must accept these."""
    out = bytearray()
    acc = nbits = 0

    def put(value, n):
        nonlocal acc, nbits
        acc |= value << nbits
        nbits += n
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    def align():
        if nbits:
            put(0, 8 - nbits)

    put(0, 1)  # WBITS = 16
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        put(0, 1)  # ISLAST = 0
        put(0, 2)  # MNIBBLES = 4
        put(len(chunk) - 1, 16)  # MLEN - 1
        put(1, 1)  # ISUNCOMPRESSED
        align()
        out += chunk
    put(1, 1)  # ISLAST
    put(1, 1)  # ISLASTEMPTY
    align()
    return bytes(out)


def zstd_raw(data):
    """A zstd frame holding one raw block (RFC 8878), for the same reason."""
    assert len(data) <= 128 * 1024
    header = struct.pack("<IBI", 0xFD2FB528, 0xA0, len(data))  # single segment, 4-byte content size
    block = len(data) << 3 | 1  # raw, last
    return header + struct.pack("<I", block)[:3] + data


def gzip_chunks(chunks):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip wrapper
    return b"".join([c.compress(chunk) for chunk in chunks] + [c.flush()])


BOMB = gzip_chunks(bytes(1 << 20) for _ in range(100))  # 100 MiB, built 1 MiB at a time
GZIP = gzip_chunks([TEXT])
BROTLI = brotli_stored(TEXT)
ZSTD = zstd_raw(TEXT)


def cut_half(data):
    return data[: len(data) // 2]


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 15)  # wbits 15: a zlib wrapper, as "deflate" means
    return c.compress(data) + c.flush()


CUT = {"gzip": cut_half(gzip_chunks([TEXT * 40])), "deflate": cut_half(deflate(TEXT * 40)),
       "br": cut_half(brotli_stored(TEXT * 40)), "zstd": cut_half(zstd_raw(TEXT * 40))}

lock = threading.Lock()
spaces = {}  # generated-site namespace -> its Space
gates = {}  # /gate/KEY -> threading.Event
seen = set()  # keys of /flaky, /limited, /limited-date already answered once
active = {}
peak = {}
hits = {}  # /h/busy/KEY -> requests
cache_hits = {}  # /c/KIND/KEY -> [requests, 304s sent]


def first_time(key):
    with lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Space:
    """A generated site's settings and what it has served."""

    def __init__(self, config=None):
        config = config or {}
        self.pages = int(config.get("pages", 3000))
        self.chain = int(config.get("chain", 20))
        self.sleep = float(config.get("sleep_ms", 5)) / 1000
        self.hold = float(config.get("hold_ms", 1000)) / 1000
        self.robots = config.get("robots")
        self.robots_wait = float(config.get("robots_ms", 0)) / 1000
        self.hits = {}
        self.active = self.peak = self.requests = 0


def space(name):
    with lock:
        return spaces.setdefault(name, Space())


def page(title, hrefs):
    links = "".join('<li><a href="%s">%s</a></li>\n' % (h, i) for i, h in enumerate(hrefs))
    return ("<!doctype html><title>%s</title><h1>%s</h1><ul>\n%s</ul>\n" % (title, title, links)).encode()


def generated(sp, origin, port, path):
    """A generated site's page: (status, body, content type[, headers])."""
    parts = path.strip("/").split("/")
    if path == "/robots.txt":
        return (200, sp.robots.encode(), "text/plain") if sp.robots is not None else (404, b"no robots", "text/plain")
    if len(parts) != 2 or not parts[1].isdigit() or not path.endswith("/"):
        return 404, b"not found", "text/plain"
    family, n = parts[0], int(parts[1])
    host = origin.split("://", 1)[1]
    if family == "site" and n < sp.pages:
        s = sp.pages
        hrefs = []
        if 2 * n + 1 < s:
            hrefs.append("../%d/" % (2 * n + 1))
        if 2 * n + 2 < s:
            hrefs.append("/site/%d/" % (2 * n + 2))
        hrefs += [
            "%s/site/%d/?utm_source=x&utm_medium=email" % (origin, (7 * n + 3) % s),
            "%s/site/%d/#part-2" % (origin.upper(), (13 * n + 5) % s),
            "//%s/site/%d/" % (host, (n + 1) % s),
            "#top", "./?utm_campaign=self", "/site/%d/" % n, "/site/%d/" % ((n - 1) // 2 if n else 0),
            "http://127.0.0.2:%d/site/%d/" % (port, n), "mailto:site@example.test",
        ]
        return 200, page("site %d" % n, hrefs), "text/html; charset=utf-8"
    if family == "chain" and n < sp.chain:
        hrefs = (["../%d/" % (n + 1)] if n + 1 < sp.chain else []) + ["/chain/0/", "/private/%d/" % n]
        return 200, page("chain %d" % n, hrefs), "text/html; charset=utf-8"
    if family == "moved":
        return 301, b"", "text/plain", [("Location", "/chain/%d/" % n)]
    if family == "private":
        return 200, page("private %d" % n, []), "text/html; charset=utf-8"
    if family == "hold":
        time.sleep(sp.hold)
        return 200, page("hold %d" % n, ["../%d/" % (2 * n + 1), "../%d/" % (2 * n + 2)]), "text/html; charset=utf-8"
    return 404, b"not found", "text/plain"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, the body
    # would wait for the client's delayed ACK (40 ms) on a kept-alive
    # connection, and crawls would crawl.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_generated(self, name, origin, path):
        sp = space(name)
        with lock:
            sp.hits[path] = sp.hits.get(path, 0) + 1
            sp.requests += 1
            sp.active += 1
            sp.peak = max(sp.peak, sp.active)
        try:
            time.sleep(sp.robots_wait if path == "/robots.txt" else sp.sleep)
            reply = generated(sp, origin, self.server.server_address[1], path)
        finally:
            with lock:
                sp.active -= 1
        self.reply(*reply)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.path.startswith("/"):
            self.reply(200, b"proxied " + self.path.encode(), headers=[("X-Proxied", "yes")])
            return
        url = urlsplit(self.path)
        path, query = url.path, dict(parse_qsl(url.query))
        parts = path.strip("/").split("/")
        head = parts[0]

        if head == "v" and len(parts) >= 2 and parts[1]:
            rest = path[len("/v/" + parts[1]):] or "/"
            self.serve_generated(parts[1], "http://" + parts[1], rest)
        elif head in ("site", "chain", "private", "hold", "moved"):
            self.serve_generated("_", "http://" + (self.headers.get("Host") or ""), path)
        elif head == "config" and len(parts) == 2:
            with lock:
                spaces[parts[1]] = Space(json.loads(body or b"{}"))
            self.reply(200, b"configured")
        elif head == "stats" and len(parts) == 2:
            sp = space(parts[1])
            with lock:
                doc = {"hits": dict(sp.hits), "peak": sp.peak, "requests": sp.requests}
            self.reply(200, json.dumps(doc, sort_keys=True).encode(), "application/json")
        elif head == "h":
            self.hostile(parts[1:], query)
        elif head == "c":
            self.cache(parts[1:])
        elif path == "/hello":
            self.reply(200, HELLO, "text/html; charset=utf-8")
        elif path == "/final":
            self.reply(200, b"final", headers=[("X-Final", "yes")])
        elif head == "redirect" and len(parts) == 2:
            n = int(parts[1])
            self.reply(302, headers=[("Location", "/redirect/%d" % (n - 1) if n > 1 else "/final"), ("X-Hop", str(n))])
        elif path == "/loop":
            self.reply(302, headers=[("Location", "/loop")])
        elif path == "/redirect-to":
            self.reply(302, headers=[("Location", query["url"])])
        elif head == "status":
            self.reply(int(parts[1]), b"status " + parts[1].encode())
        elif path == "/slow":
            n, ms = int(query.get("bytes", 100)), int(query.get("ms", 100))
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            for _ in range(n):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(ms / 1000)
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
        elif head == "flaky":
            if first_time(path):
                self.reply(500, b"try again")
            else:
                self.reply(200, b"ok " + parts[1].encode())
        elif head == "limited":
            if first_time(path):
                self.reply(429, b"slow down", headers=[("Retry-After", "1")])
            else:
                self.reply(200, b"ok " + parts[1].encode())
        elif head == "limited-date":
            if first_time(path):
                when = email.utils.formatdate(math.ceil(time.time()) + 1, usegmt=True)
                self.reply(503, b"later", headers=[("Retry-After", when)])
            else:
                self.reply(200, b"ok " + parts[1].encode())
        elif path in ("/gzip", "/br", "/zstd"):
            data, enc = {"/gzip": (GZIP, "gzip"), "/br": (BROTLI, "br"), "/zstd": (ZSTD, "zstd")}[path]
            self.reply(200, data, headers=[("Content-Encoding", enc)])
        elif path == "/big":
            self.reply(200, b"b" * int(query["n"]))
        elif path == "/big-chunked":
            n = int(query["n"])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while n > 0:
                k = min(n, 65536)
                self.wfile.write(b"%x\r\n%s\r\n" % (k, b"c" * k))
                n -= k
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/warc/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"<!doctype html><title>chunked</title>", b"<h1>chunked page</h1>", b"<p>caf\xc3\xa9</p>"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/warc/gzip":
            page = b"<!doctype html><title>gzip</title><h1>gzip page</h1><p>" + TEXT + b"</p>"
            self.reply(200, gzip_chunks([page]), "text/html", [("Content-Encoding", "gzip")])
        elif path == "/bomb":
            self.reply(200, BOMB, "application/octet-stream", [("Content-Encoding", "gzip")])
        elif path == "/cookie/set":
            self.reply(200, b"set", headers=[("Set-Cookie", "%s=%s; Path=/" % kv) for kv in query.items()])
        elif path == "/cookie/echo":
            self.reply(200, (self.headers.get("Cookie") or "").encode())
        elif path == "/charset/latin1":
            self.reply(200, "<p>café</p>".encode("latin-1"), "text/html; charset=ISO-8859-1")
        elif path == "/charset/cp1252":
            self.reply(200, "<p>€ “quoted”</p>".encode("cp1252"), "text/html; charset=windows-1252")
        elif path == "/charset/sjis":
            self.reply(200, "<p>日本語</p>".encode("shift_jis"), 'text/html; charset="Shift_JIS"')
        elif path == "/charset/mislabeled":
            self.reply(200, "<p>café</p>".encode("utf-8"), "text/html; charset=ISO-8859-1")
        elif path == "/headers":
            self.reply(200, b"multi", "Text/Plain; Charset=UTF-8", [("X-Multi", "one"), ("X-Other", "x"), ("X-Multi", "two")])
        elif path == "/echo":
            doc = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                   "header_list": list(self.headers.items()), "body": body.decode("latin-1")}
            self.reply(200, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), "application/json")
        elif head == "count" and len(parts) >= 2:
            key = parts[1]
            with lock:
                active[key] = active.get(key, 0) + 1
                peak[key] = max(peak.get(key, 0), active[key])
            time.sleep(0.05)
            with lock:
                active[key] -= 1
            self.reply(200, b"counted")
        elif head == "gate" and len(parts) == 3 and parts[2] in ("wait", "open"):
            with lock:
                gate = gates.setdefault(parts[1], threading.Event())
            if parts[2] == "open":
                gate.set()
                self.reply(200, b"open")
            else:
                self.reply(200, b"opened" if gate.wait(30) else b"timed out")
        elif head == "peak" and len(parts) == 2:
            with lock:
                n = peak.get(parts[1], 0)
            self.reply(200, str(n).encode())
        elif path == "/robots.txt":
            self.reply(200, b"User-agent: *\nCrawl-delay: 0.25\nDisallow: /private/\n")
        elif path == "/m/go":
            self.reply(302, headers=[("Location", "/m/landed?x=1")])
        elif head == "m":
            self.reply(200, self.path.encode())
        else:
            self.reply(404, b"not found")

    def cache(self, parts):
        if parts[:1] == ["count"] and len(parts) == 3:
            with lock:
                n, m = cache_hits.get("/".join(parts[1:]), [0, 0])
            self.reply(200, json.dumps({"requests": n, "not_modified": m}).encode(), "application/json")
            return
        if len(parts) != 2:
            self.reply(404, b"not found")
            return
        kind, key = parts
        with lock:
            count = cache_hits.setdefault(kind + "/" + key, [0, 0])
            count[0] += 1
        now = time.time()
        day_ago = email.utils.formatdate(now - 86400, usegmt=True)
        body = ("%s %s %d" % (kind, key, count[0])).encode()

        def not_modified(headers):
            with lock:
                count[1] += 1
            self.send_response(304)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()

        if kind == "fresh":
            self.reply(200, body, headers=[("Cache-Control", "max-age=3600"), ("ETag", '"fresh-%s"' % key)])
        elif kind == "etag":
            headers = [("Cache-Control", "no-cache"), ("ETag", '"v1"'), ("X-Served", str(count[0]))]
            if self.headers.get("If-None-Match") == '"v1"':
                not_modified(headers)
            else:
                self.reply(200, body, "text/html; charset=utf-8", headers)
        elif kind == "lm":
            headers = [("Cache-Control", "max-age=0"), ("Last-Modified", day_ago)]
            if self.headers.get("If-Modified-Since") and not self.headers.get("If-None-Match"):
                not_modified(headers)
            else:
                self.reply(200, body, headers=headers)
        elif kind == "heuristic":
            self.reply(200, body, headers=[("Last-Modified", email.utils.formatdate(now - 10 * 86400, usegmt=True))])
        elif kind == "expired":
            self.reply(200, body, headers=[("Expires", email.utils.formatdate(now - 60, usegmt=True))])
        elif kind == "aged":
            self.reply(200, body, headers=[("Cache-Control", "max-age=60"), ("Age", "120")])
        elif kind == "nostore":
            self.reply(200, body, headers=[("Cache-Control", "no-store")])
        elif kind == "vary":
            lang = self.headers.get("X-Lang") or "none"
            self.reply(200, body + b" " + lang.encode(), headers=[("Cache-Control", "max-age=3600"), ("Vary", "X-Lang")])
        elif kind == "moved":
            self.reply(302, headers=[("Location", "/c/fresh/" + key)])
        elif kind == "status":
            self.reply(404, body, headers=[("Cache-Control", "max-age=3600")])
        else:
            self.reply(404, b"not found")

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def hostile(self, parts, query):
        what = parts[0] if parts else ""
        if what == "cut" and len(parts) == 2 and parts[1] in CUT:
            self.reply(200, CUT[parts[1]], headers=[("Content-Encoding", parts[1])])
        elif what == "short":
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789")
        elif what == "huge-header":
            self.raw(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\nok")
        elif what == "headers":
            n, size = int(query.get("n", 9000)), int(query.get("len", 20))
            lines = b"".join(b"X-%d: %s\r\n" % (i, b"v" * size) for i in range(n))
            self.raw(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\nok")
        elif what == "101":
            self.raw(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        elif what == "redirect" and len(parts) == 2:
            self.reply(int(parts[1]), b"moved", headers=[("Location", "/echo")])
        elif what == "busy" and len(parts) == 2:
            with lock:
                hits[parts[1]] = hits.get(parts[1], 0) + 1
            self.reply(503, b"busy")
        elif what == "hits" and len(parts) == 2:
            with lock:
                n = hits.get(parts[1], 0)
            self.reply(200, str(n).encode())
        else:
            self.reply(404, b"not found")

    def dispatch(self):
        try:
            self.handle_one()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of clients connect at once

    def handle_error(self, request, client_address):
        # Clients hang up mid-request on purpose (timeouts, limits, cancel).
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def watch_parent(parent):
    """Exit when the test that started us is gone, even if it crashed."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=watch_parent, args=(PARENT,), daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
