#!/usr/bin/env python3
"""warc_check.py — an independent WARC reader for the specs (Python's
standard library only, nothing of glean's): reads each file record by
record and checks what warc_spec.lua relies on, then prints JSON.

    warc_check.py FILE...   ->  {"files": [...], "records": [...], "errors": [...]}

Checks: a .warc.gz is gzip members each holding exactly one whole record
(no bytes after the last); every record starts "WARC/1.1", has a
WARC-Record-ID, a WARC-Date and a Content-Length its block matches, and ends
with CRLF CRLF; each file starts with a warcinfo record, whose ID the other
records name in WARC-Warcinfo-ID; WARC-Block-Digest (the block) and
WARC-Payload-Digest (what follows the HTTP head) are the SHA-1 in base32 of
the bytes; request and response records name each other in
WARC-Concurrent-To. Each response's HTTP message is parsed: status, headers
(names lower-cased; repeats joined with ", "), and its body with chunked
framing and gzip Content-Encoding undone (body: the text, or body_len and
body_sha1 when longer than 4 KB). Anything amiss is an entry in errors.
"""
import base64
import hashlib
import json
import sys
import zlib


def digest(data):
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def members(data, name, errors):
    """The decoded gzip members of data, with their offsets."""
    out, at = [], 0
    while at < len(data):
        d = zlib.decompressobj(31)
        try:
            text = d.decompress(data[at:])
        except zlib.error as e:
            errors.append("%s: byte %d: gzip member does not decode: %s" % (name, at, e))
            return out
        if not d.eof:
            errors.append("%s: byte %d: gzip member cut short" % (name, at))
            return out
        out.append((at, text))
        at = len(data) - len(d.unused_data)
    return out


def dechunk(body, where, errors):
    out, at = b"", 0
    while True:
        eol = body.find(b"\r\n", at)
        if eol < 0:
            errors.append("%s: chunked body cut short" % where)
            return out
        size = int(body[at:eol].split(b";")[0], 16)
        at = eol + 2
        if size == 0:
            return out
        out += body[at:at + size]
        if body[at + size:at + size + 2] != b"\r\n":
            errors.append("%s: a chunk does not end in CRLF" % where)
        at += size + 2


def http_message(block, where, errors):
    head, sep, payload = block.partition(b"\r\n\r\n")
    if not sep:
        errors.append("%s: no end to the HTTP head" % where)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            errors.append("%s: an HTTP header line without a colon: %r" % (where, line))
            continue
        name = name.strip().lower()
        headers[name] = headers[name] + ", " + value.strip() if name in headers else value.strip()
    return lines[0], headers, payload


def read_record(text, name, at, errors):
    """One record from text at its start; returns (record dict, bytes used)."""
    where = "%s: byte %d" % (name, at)
    end = text.find(b"\r\n\r\n")
    if not text.startswith(b"WARC/1.1\r\n") or end < 0:
        errors.append("%s: not a WARC/1.1 record header" % where)
        return None, len(text)
    fields = {}
    for line in text[:end].decode("utf-8").split("\r\n")[1:]:
        k, _, v = line.partition(": ")
        fields[k] = v
    length = int(fields.get("Content-Length", "-1"))
    block = text[end + 4:end + 4 + length]
    if length < 0 or len(block) != length:
        errors.append("%s: Content-Length %d, %d bytes there" % (where, length, len(block)))
    if text[end + 4 + length:end + 8 + length] != b"\r\n\r\n":
        errors.append("%s: the record does not end in CRLF CRLF" % where)
    for k in ("WARC-Record-ID", "WARC-Date", "WARC-Type"):
        if k not in fields:
            errors.append("%s: no %s" % (where, k))
    rec = {"file": name, "offset": at, "fields": fields, "type": fields.get("WARC-Type"),
           "id": fields.get("WARC-Record-ID"), "uri": fields.get("WARC-Target-URI"),
           "ip": fields.get("WARC-IP-Address"), "concurrent": fields.get("WARC-Concurrent-To"),
           "truncated": fields.get("WARC-Truncated")}
    if "WARC-Block-Digest" in fields and fields["WARC-Block-Digest"] != digest(block):
        errors.append("%s: WARC-Block-Digest %s, the block's is %s" % (where, fields["WARC-Block-Digest"], digest(block)))
    if rec["type"] in ("request", "response"):
        start, headers, payload = http_message(block, where, errors)
        if fields.get("WARC-Payload-Digest") != digest(payload):
            errors.append("%s: WARC-Payload-Digest %s, the payload's is %s" %
                          (where, fields.get("WARC-Payload-Digest"), digest(payload)))
        rec.update(start=start, headers=headers, payload_len=len(payload))
        if rec["type"] == "response":
            rec["status"] = int(start.split(" ")[1])
            body = payload
            if headers.get("transfer-encoding", "").lower() == "chunked" and not rec["truncated"]:
                body = dechunk(body, where, errors)
            if headers.get("content-encoding", "").lower() == "gzip":
                # A truncated record's stream stops short: what it holds.
                body = zlib.decompressobj(31).decompress(body)
            if len(body) > 4096:
                rec.update(body_len=len(body), body_sha1=hashlib.sha1(body).hexdigest())
            else:
                rec["body"] = body.decode("utf-8", "replace")
    elif rec["type"] == "warcinfo":
        rec["info"] = block.decode("utf-8")
    return rec, end + 8 + length


def check_file(name, errors):
    with open(name, "rb") as f:
        data = f.read()
    recs = []
    if name.endswith(".gz"):
        for at, text in members(data, name, errors):
            rec, used = read_record(text, name, at, errors)
            if rec:
                recs.append(rec)
            if used != len(text):
                errors.append("%s: byte %d: a gzip member holds more than one record" % (name, at))
    else:
        at = 0
        while at < len(data):
            rec, used = read_record(data[at:], name, at, errors)
            if rec:
                recs.append(rec)
            at += used
    if not recs or recs[0]["type"] != "warcinfo":
        errors.append("%s: does not start with a warcinfo record" % name)
    else:
        for rec in recs[1:]:
            if rec["fields"].get("WARC-Warcinfo-ID") != recs[0]["id"]:
                errors.append("%s: byte %d: WARC-Warcinfo-ID is not the file's warcinfo" % (name, rec["offset"]))
    return recs, len(data)


def main():
    errors, records, files = [], [], []
    for name in sys.argv[1:]:
        recs, size = check_file(name, errors)
        files.append({"name": name, "size": size, "records": len(recs)})
        records += recs
    by_id = {r["id"]: r for r in records}
    for r in records:
        if r["type"] not in ("request", "response"):
            continue
        other = by_id.get(r["concurrent"])
        want = "response" if r["type"] == "request" else "request"
        if not other or other["type"] != want or other["concurrent"] != r["id"] or other["uri"] != r["uri"]:
            errors.append("%s: byte %d: WARC-Concurrent-To does not name its %s" % (r["file"], r["offset"], want))
    for r in records:
        del r["fields"]
    json.dump({"files": files, "records": records, "errors": errors}, sys.stdout)


main()
